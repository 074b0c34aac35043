// Colours: the Okabe–Ito palette (safe for the common colour-vision deficiencies) for models and
// gates, and the page's light/dark CSS variables for everything Plotly draws.

import { modelKey } from "./catalogue.js";
import { has, t } from "./i18n.js";

const MODEL_COLOURS = {
  light: { "rnn-sigmoid": "#D55E00", "rnn-tanh": "#0072B2", "rnn-relu": "#CC79A7", lstm: "#009E73", gru: "#E69F00" },
  dark: { "rnn-sigmoid": "#E8772E", "rnn-tanh": "#56B4E9", "rnn-relu": "#E08FC0", lstm: "#1DB489", gru: "#E69F00" },
};

// networks uploaded by the user: the palette's black (the page's text colour in the dark), then
// two colours no model of the catalogue has
const YOURS_COLOURS = {
  light: ["#1b1f24", "#8c564b", "#7f7f7f"],
  dark: ["#e6e9ee", "#c49c94", "#b0b0b0"],
};

const GATE_STYLE = {
  // LSTM
  input: { colour: "#56B4E9", dash: "solid" },
  forget: { colour: "#009E73", dash: "solid", width: 3 },
  cell: { colour: "#999999", dash: "dot" },
  output: { colour: "#CC79A7", dash: "dash" },
  // GRU
  reset: { colour: "#D55E00", dash: "dash" },
  update: { colour: "#0072B2", dash: "solid", width: 3 },
  candidate: { colour: "#999999", dash: "dot" },
};

export function isDark() {
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
}

/** The current theme: colours from the CSS variables, plus the palettes. */
export function readTheme() {
  const css = getComputedStyle(document.documentElement);
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const dark = isDark();
  return {
    dark,
    text: v("--text", "#1b1f24"),
    muted: v("--muted", "#5b6470"),
    surface: v("--surface", "#ffffff"),
    grid: v("--grid", "#e6e8ec"),
    axis: v("--axis", "#c5cad3"),
    hoverBg: v("--surface-2", "#f0f2f5"),
    font: v("--font-sans", "system-ui, sans-serif"),
    mono: v("--font-mono", "monospace"),
    overflow: v("--overflow", "#CC79A7"),
    underflow: v("--underflow", "#8a8f98"),
    models: MODEL_COLOURS[dark ? "dark" : "light"],
    yours: YOURS_COLOURS[dark ? "dark" : "light"],
    // Diverging scale for signed hidden states: blue (−) through the surface colour to vermillion (+).
    diverging: [[0, dark ? "#56B4E9" : "#0072B2"], [0.5, v("--surface", "#ffffff")],
      [1, dark ? "#E8772E" : "#D55E00"]],
    sequential: "Viridis",
  };
}

/** The colour of a run's model: the catalogue's for its cell and activation, or — for a network
 * uploaded by the user (`m.yours`: its place among the run's uploaded networks) — one of its own. */
export function modelColour(theme, m) {
  if (m.yours !== null && m.yours !== undefined) return theme.yours[m.yours % theme.yours.length];
  return theme.models[modelKey(m)];
}

/** How gate `name` is drawn, and its label in the current language ("forget gate f"). */
export function gateStyle(name) {
  const style = GATE_STYLE[name] || { colour: "#999999", dash: "solid" };
  return { ...style, label: has(`explore.gate.${name}`) ? t(`explore.gate.${name}`) : name };
}

/** Watch for the system switching between light and dark. */
export function onThemeChange(callback) {
  const mq = window.matchMedia?.("(prefers-color-scheme: dark)");
  mq?.addEventListener?.("change", () => callback(readTheme()));
}
