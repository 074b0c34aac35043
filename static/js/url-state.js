// URL state: every control and the seed live in the query string, so a URL reproduces a run.
//
// Keys (the same names as the API where there is one):
//   models       comma-separated: rnn-sigmoid, rnn-tanh, rnn-relu, lstm, gru
//   seq_len      T                       hidden_size  H
//   input        input.kind              init         init.scheme
//   sigma_max    init.sigma_max, or "none" (the init scheme's own scale)
//   forget_bias  init.forget_bias        loss         loss.at (last | all)
//   seed         the seed                jacobian     1 | 0 (include the Jacobian norms)
//   speed        playback steps per second, or "max"
//   view         grad | jac (the gradient-flow chart)    x   t | back (its x axis)
// Numbers are kept as the text that was typed, so the API (not the page) judges them.
// `lang` (the page's language, static/js/i18n.js) is not part of the state but kept in the URL.

import { t } from "./i18n.js";

export const MODELS = {
  "rnn-sigmoid": { cell: "rnn", activation: "sigmoid", label: "RNN (sigmoid)" },
  "rnn-tanh": { cell: "rnn", activation: "tanh", label: "RNN (tanh)" },
  "rnn-relu": { cell: "rnn", activation: "relu", label: "RNN (relu)" },
  lstm: { cell: "lstm", activation: null, label: "LSTM" },
  gru: { cell: "gru", activation: null, label: "GRU" },
};
export const MODEL_KEYS = Object.keys(MODELS);
export const INPUT_KINDS = ["gaussian", "sine", "impulse", "adding"];
export const INIT_SCHEMES = ["xavier", "orthogonal", "normal", "identity"];
export const SPEEDS = ["1", "3", "10", "30", "100", "250", "1000", "max"];
export const INCLUDE = ["hidden", "cell_state", "gates", "grads", "jacobian", "preactivation"];

export const DEFAULTS = Object.freeze({
  models: ["rnn-sigmoid", "rnn-tanh", "lstm"],
  seq_len: "50",
  hidden_size: "16",
  input: "gaussian",
  init: "xavier",
  sigma_max: "none",
  forget_bias: "1",
  loss: "last",
  seed: "0",
  jacobian: "1",
  speed: "250",
  view: "grad",
  x: "t",
});

const KEYS = Object.keys(DEFAULTS);
const CHOICES = {
  input: INPUT_KINDS, init: INIT_SCHEMES, loss: ["last", "all"], jacobian: ["1", "0"],
  speed: SPEEDS, view: ["grad", "jac"], x: ["t", "back"],
};

/** The model key of an API model ({cell, activation}). */
export function modelKey(m) {
  return m.cell === "rnn" ? `rnn-${m.activation || "tanh"}` : m.cell;
}

/** A problem with the URL: a string in the current language whenever it is turned into one. */
function problem(write) {
  return { toString: write };
}

/**
 * State from a query string: {state, hasState, problems}. `hasState` is true when the URL names
 * any key (the page then runs it at once); unknown choices fall back to the default and are
 * reported in `problems` (each written in the current language when turned into a string),
 * numbers are kept as typed.
 */
export function parseState(search) {
  const params = new URLSearchParams(search);
  const state = { ...DEFAULTS, models: [...DEFAULTS.models] };
  const problems = [];
  let hasState = false;
  for (const key of KEYS) {
    if (!params.has(key)) continue;
    hasState = true;
    const raw = params.get(key).trim();
    if (key === "models") {
      const names = raw.split(",").map((s) => s.trim()).filter(Boolean);
      const known = names.filter((n) => MODEL_KEYS.includes(n));
      for (const n of names) {
        if (!known.includes(n)) problems.push(problem(() => t("explore.url.unknown_model", { name: n })));
      }
      if (known.length) state.models = MODEL_KEYS.filter((k) => known.includes(k));
      else problems.push(problem(() => t("explore.url.no_model")));
    } else if (CHOICES[key]) {
      const choices = CHOICES[key].join(", ");
      if (CHOICES[key].includes(raw)) state[key] = raw;
      else problems.push(problem(() => t("explore.url.bad_choice", { key, value: raw, choices })));
    } else {
      state[key] = raw;
    }
  }
  return { state, hasState, problems };
}

/** The query string of a state: every key, always, in a fixed order. */
export function toSearch(state) {
  const parts = KEYS.map((key) => {
    const value = key === "models" ? state.models.join(",") : String(state[key]);
    return `${key}=${encodeURIComponent(value).replace(/%2C/g, ",")}`;
  });
  return "?" + parts.join("&");
}

/** A typed number: a finite number, the raw text when it is not one (the API explains), or
 * undefined when empty (the API's default). */
function number(text) {
  const s = String(text).trim();
  if (s === "") return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

/** The RunRequest body (JSON text) of a state. The seed is written digit for digit, so seeds
 * beyond 2⁵³ stay exact. */
export function requestBody(state) {
  const sigma = state.sigma_max === "none" ? null : number(state.sigma_max);
  const body = {
    models: state.models.map((k) => {
      const { cell, activation } = MODELS[k];
      return cell === "rnn" ? { cell, activation } : { cell };
    }),
    seq_len: number(state.seq_len),
    hidden_size: number(state.hidden_size),
    input: { kind: state.input },
    init: { scheme: state.init, sigma_max: sigma === undefined ? null : sigma,
      forget_bias: number(state.forget_bias) },
    loss: { at: state.loss },
    seed: "@SEED@",
    include: INCLUDE.filter((name) => name !== "jacobian" || state.jacobian === "1"),
  };
  const seed = String(state.seed).trim();
  const seedJson = /^\d+$/.test(seed) ? seed.replace(/^0+(?=\d)/, "")
    : JSON.stringify(seed === "" ? 0 : number(seed));
  return JSON.stringify(body).replace('"@SEED@"', seedJson);
}
