// Colours: the data's (models, gates, layers, heatmaps) from static/palette.json — the one place
// they are written, embedded in the page with the catalogue and read by the Python figures too —
// and the page's light/dark CSS variables (static/css/page.css) for everything else Plotly draws.

import { PALETTE, modelKey } from "./catalogue.js";
import { has, t } from "./i18n.js";

export function isDark() {
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
}

/** The current theme: colours from the CSS variables, plus the palettes. */
export function readTheme() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  const dark = isDark();
  const scheme = dark ? "dark" : "light";
  const [negative, positive] = PALETTE.diverging[scheme];
  return {
    dark,
    text: v("--text"),
    muted: v("--muted"),
    surface: v("--surface"),
    grid: v("--grid"),
    axis: v("--axis"),
    hoverBg: v("--surface-2"),
    font: v("--font-sans"),
    mono: v("--font-mono"),
    overflow: v("--overflow"),
    underflow: v("--underflow"),
    models: PALETTE.models[scheme],
    yours: PALETTE.yours[scheme],
    layers: PALETTE.layers.colours,
    // signed hidden states: negative through the surface colour to positive
    diverging: [[0, negative], [0.5, v("--surface")], [1, positive]],
    sequential: PALETTE.sequential,
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
  const style = PALETTE.gates[name] || PALETTE.gate_default;
  return { ...style, label: has(`explore.gate.${name}`) ? t(`explore.gate.${name}`) : name };
}

/** Watch for the system switching between light and dark. */
export function onThemeChange(callback) {
  const mq = window.matchMedia?.("(prefers-color-scheme: dark)");
  mq?.addEventListener?.("change", () => callback(readTheme()));
}
