// The page's state in one list: every key of the URL with its type, its default, the control it
// binds, the tab it belongs to and where it goes in the tab's request (as TensorFlow Playground's
// state.ts PROPS). From this list the page parses the URL (and says what it did not understand),
// writes it back, reads and writes the controls and builds the request bodies: a new control is
// one line here. A URL reproduces a run; the names are the API's where there is one.
//
// Types:
//   list      some of `choices` (the catalogue's model keys), comma-separated; a group of checkboxes
//   choice    one of `choices` (a <select> or a group of radio buttons), or of `unlisted` (accepted,
//             not offered in the URL's error message: "values", a sequence from a file)
//   flag      "1" | "0" (a checkbox)
//   number    kept as the text that was typed, so that the API (not the page) judges it
//   switched  a number, or "none" while its `toggle` checkbox is off; `idle` is what the field
//             shows while off and reads as when left blank, unless `blank` names a control
//             (a slider) whose value it reads as then
//   seed      as typed; sent digit for digit, so that seeds beyond 2⁵³ stay exact
//   text      as it is
//   ids       uploaded networks: "sha256:<64 hex>", or "sha256:<64 hex>:relu" for an RNN run with
//             relu (PyTorch keeps the nonlinearity outside the file; tanh otherwise), comma-separated;
//             a group of checkboxes the "Your network" panel (networks.js) makes, one per file
// Tabs: "explore", "train" and "sweep" have controls; "page" keys are the page's own (the tab shown, the
// open lesson and its variant, the language), kept in the URL without a control here.
// `body` is the key's place in its tab's request (a dotted path), `to(value, values)` its
// conversion when that is not its type's, `when` whether it is sent. What a URL cannot carry —
// the arrays of a sequence or targets file, what the server said of each uploaded network —
// comes with the values as `values.files` (the explorer's controls add it; see networks.js) and
// never goes into the URL.

import { MODEL_KEYS, MODELS } from "./catalogue.js";
import { t } from "./i18n.js";

const INCLUDE = ["hidden", "cell_state", "gates", "grads", "jacobian", "preactivation"];
// `values.drop`: arrays the page leaves out so that the answer fits the server's limits (run-controller.js)
const include = (on, values) => INCLUDE.filter((name) => (name !== "jacobian" || on === "1")
  && !values.drop?.includes(name));
const sgd = (values) => values.train_optimizer === "sgd";

/** An uploaded network's URL value → its model entry ({weights, activation?}). */
export const WEIGHTS_VALUE = /^(sha256:[0-9a-f]{64})(?::(tanh|relu))?$/;
export function weightsEntry(value) {
  const [, id, activation] = value.match(WEIGHTS_VALUE) ?? [null, value, undefined];
  return activation ? { weights: id, activation } : { weights: id };
}

/** The models of the request: the catalogue's checked models (stacked as `num_layers` and
 * `bidirectional` say), then the uploaded networks checked (`values.weights`; the explorer's
 * controls also list them among `models`, which names every model of a run). */
function models(keys, values) {
  const layers = number(values.num_layers);
  const seeded = keys.filter((key) => MODELS[key]).map((key) => {
    const { cell, activation } = MODELS[key];
    const m = cell === "rnn" ? { cell, activation } : { cell };
    if (layers !== undefined && layers !== 1) m.num_layers = layers;
    if (values.bidirectional === "1") m.bidirectional = true;
    return m;
  });
  return [...seeded, ...(values.weights || []).map(weightsEntry)];
}

/** The input: a kind drawn from the seed, or the sequence of a file (`values.files.sequence`). */
function input(kind, values) {
  const sequence = values.files?.sequence;
  return kind === "values" && sequence ? { kind, values: sequence.nested() } : { kind };
}

/** Targets from a file, as the loss kind reads them: values for mse, class indices for xent. */
function targets(source, values) {
  const file = values.files?.targets;
  if (source !== "file" || !file) return undefined;
  return values.loss_kind === "xent" ? { classes: file.nested({ classes: true }) } : { values: file.nested() };
}

/** The outputs O as typed; blank: the targets' width when a file gives it and no checked network
 * has a head of its own (the API's default otherwise: the head's, or 1). */
function outputSize(text, values) {
  const typed = number(text);
  if (typed !== undefined) return typed;
  const file = values.targets === "file" ? values.files?.targets : null;
  const heads = (values.weights || []).some((v) => values.files?.networks?.get(weightsEntry(v).weights)?.head);
  if (!file || heads) return undefined;
  return values.loss_kind === "xent" ? file.classCount() : file.width();
}

export const PROPS = [
  { tab: "page", name: "tab", type: "choice", choices: ["explore", "train", "sweep"], default: "explore" },

  { tab: "explore", name: "models", type: "list", choices: MODEL_KEYS, default: ["rnn-sigmoid", "rnn-tanh", "lstm"],
    control: 'input[name="models"]', body: "models", to: models, empty: "weights" },
  { tab: "explore", name: "num_layers", type: "number", default: "1", control: "#num_layers" },
  { tab: "explore", name: "bidirectional", type: "flag", default: "0", control: "#bidirectional" },
  { tab: "explore", name: "weights", type: "ids", default: [], control: 'input[name="weights"]' },
  { tab: "explore", name: "seq_len", type: "number", default: "50", control: "#seq_len", body: "seq_len",
    when: (values) => values.input !== "values" }, // a sequence's own length is T
  { tab: "explore", name: "hidden_size", type: "number", default: "16", control: "#hidden_size", body: "hidden_size" },
  { tab: "explore", name: "batch_size", type: "number", default: "1", control: "#batch_size", body: "batch_size",
    when: (values) => values.input !== "values" }, // a sequence's own batch is B
  { tab: "explore", name: "input", type: "choice", choices: ["gaussian", "sine", "impulse", "adding"],
    unlisted: ["values"], default: "gaussian", control: "#input", body: "input", to: input },
  { tab: "explore", name: "targets", type: "choice", choices: ["drawn", "file"], default: "drawn", control: "#targets",
    body: "targets", to: targets },
  { tab: "explore", name: "init", type: "choice", choices: ["xavier", "orthogonal", "normal", "identity"],
    default: "xavier", control: "#init", body: "init.scheme" },
  { tab: "explore", name: "sigma_max", type: "switched", default: "none", control: "#sigma_value",
    toggle: "#sigma_on", idle: "", blank: "#sigma_max", body: "init.sigma_max" },
  { tab: "explore", name: "forget_bias", type: "number", default: "1", control: "#forget_bias", body: "init.forget_bias" },
  { tab: "explore", name: "init_std", type: "number", default: "0.1", control: "#init_std", body: "init.std" },
  { tab: "explore", name: "bias_std", type: "number", default: "0", control: "#bias_std", body: "init.bias_std" },
  { tab: "explore", name: "loss", type: "choice", choices: ["last", "all"], default: "last",
    control: 'input[name="loss"]', body: "loss.at" },
  { tab: "explore", name: "loss_kind", type: "choice", choices: ["mse", "xent"], default: "mse",
    control: 'input[name="loss_kind"]', body: "loss.kind" },
  { tab: "explore", name: "output_size", type: "number", default: "", control: "#output_size", body: "output_size",
    to: outputSize },
  { tab: "explore", name: "seed", type: "seed", default: "0", control: "#seed", body: "seed" },
  { tab: "explore", name: "jacobian", type: "flag", default: "1", control: "#jacobian", body: "include", to: include },
  { tab: "explore", name: "speed", type: "choice", choices: ["1", "3", "10", "30", "100", "250", "1000", "max"],
    default: "250", control: "#speed" },
  { tab: "explore", name: "view", type: "choice", choices: ["grad", "jac"], default: "grad", control: 'input[name="view"]' },
  { tab: "explore", name: "x", type: "choice", choices: ["t", "back"], default: "t", control: 'input[name="x"]' },
  { tab: "explore", name: "bounds", type: "flag", default: "1", control: "#show_bounds" },
  { tab: "explore", name: "layer", type: "choice", choices: ["top", "1", "2", "3", "4"], default: "top", control: "#layer" },
  { tab: "explore", name: "direction", type: "choice", choices: ["forward", "backward"], default: "forward",
    control: "#direction" },

  { tab: "train", name: "train_models", type: "list", choices: MODEL_KEYS,
    default: ["rnn-sigmoid", "rnn-tanh", "lstm", "gru"], control: 'input[name="train_models"]', body: "models" },
  { tab: "train", name: "train_task", type: "choice", choices: ["adding", "copy", "temporal_order"], default: "adding",
    control: "#train_task", body: "task" },
  { tab: "train", name: "train_seq_len", type: "number", default: "50", control: "#train_seq_len", body: "seq_len" },
  { tab: "train", name: "train_hidden_size", type: "number", default: "32", control: "#train_hidden_size", body: "hidden_size" },
  { tab: "train", name: "train_batch_size", type: "number", default: "64", control: "#train_batch_size", body: "batch_size" },
  { tab: "train", name: "train_optimizer", type: "choice", choices: ["adam", "sgd"], default: "adam",
    control: "#train_optimizer", body: "optimizer.name" },
  { tab: "train", name: "train_lr", type: "number", default: "0.01", control: "#train_lr", body: "optimizer.lr" },
  { tab: "train", name: "train_momentum", type: "number", default: "0.9", control: "#train_momentum",
    body: "optimizer.momentum", when: sgd },
  { tab: "train", name: "train_clip", type: "switched", default: "1", control: "#train_clip", toggle: "#train_clip_on",
    idle: "1", body: "clip" },
  { tab: "train", name: "train_init", type: "choice", choices: ["xavier", "orthogonal", "normal", "identity"],
    default: "xavier", control: "#train_init", body: "init.scheme" },
  { tab: "train", name: "train_sigma_max", type: "switched", default: "none", control: "#train_sigma_max",
    toggle: "#train_sigma_on", idle: "1", body: "init.sigma_max" },
  { tab: "train", name: "train_forget_bias", type: "number", default: "1", control: "#train_forget_bias",
    body: "init.forget_bias" },
  { tab: "train", name: "train_init_std", type: "number", default: "0.1", control: "#train_init_std", body: "init.std" },
  { tab: "train", name: "train_bias_std", type: "number", default: "0", control: "#train_bias_std", body: "init.bias_std" },
  { tab: "train", name: "train_steps", type: "number", default: "1500", control: "#train_steps", body: "steps" },
  { tab: "train", name: "train_eval_every", type: "number", default: "100", control: "#train_eval_every", body: "eval_every" },
  { tab: "train", name: "train_eval_size", type: "number", default: "1000", control: "#train_eval_size", body: "eval_size" },
  { tab: "train", name: "train_seed", type: "seed", default: "0", control: "#train_seed", body: "seed" },

  // the Sweep tab (sweep-controls.js): a preset or your own axes, models and seeds; the metric shown
  { tab: "sweep", name: "sweep_preset", type: "text", default: "custom", control: "#sweep_preset" },
  { tab: "sweep", name: "sweep_kind", type: "choice", choices: ["run", "train"], default: "run",
    control: 'input[name="sweep_kind"]' },
  { tab: "sweep", name: "sweep_x", type: "text", default: "init.sigma_max", control: "#sweep_x" },
  { tab: "sweep", name: "sweep_x_values", type: "text", default: "0.5:2:7", control: "#sweep_x_values" },
  { tab: "sweep", name: "sweep_y", type: "text", default: "", control: "#sweep_y" },
  { tab: "sweep", name: "sweep_y_values", type: "text", default: "", control: "#sweep_y_values" },
  { tab: "sweep", name: "sweep_models", type: "list", choices: MODEL_KEYS, default: ["rnn-sigmoid", "rnn-tanh", "rnn-relu"],
    control: 'input[name="sweep_models"]' },
  { tab: "sweep", name: "sweep_seeds", type: "text", default: "0-2", control: "#sweep_seeds" },
  { tab: "sweep", name: "sweep_metric", type: "text", default: "", control: "#sweep_metric" },
  // a stored sweep (POST /api/sweeps' id): reopened at once
  { tab: "page", name: "sweep", type: "text", default: "" },

  // pinned runs and trainings drawn under the current one (compare.js): compact settings, comma-separated;
  // the explorer's run over several seeds (2…16; 1: off)
  { tab: "page", name: "pins", type: "text", default: "" },
  { tab: "page", name: "seeds", type: "text", default: "1" },
  { tab: "page", name: "lesson", type: "text", default: "" },
  { tab: "page", name: "variant", type: "text", default: "main" },
  { tab: "page", name: "lang", type: "text", default: "" },
  // presentation mode: large type for a projector (main.js)
  { tab: "page", name: "present", type: "flag", default: "0" },
];

const BY_NAME = new Map(PROPS.map((prop) => [prop.name, prop]));
const propsOf = (tab) => PROPS.filter((prop) => prop.tab === tab);

/** What the URL did not understand, by tab: the texts' keys (each a function of its values). */
const PROBLEMS = {
  explore: { model: "explore.url.unknown_model", none: "explore.url.no_model", choice: "explore.url.bad_choice",
    weights: "explore.url.bad_weights", number: "explore.url.bad_number", empty: "explore.url.empty" },
  train: { model: "train.url.model", choice: "train.url.choice", number: "train.url.bad_number", empty: "train.url.empty" },
  sweep: { model: "sweep.url.model", none: "sweep.url.no_model", choice: "sweep.url.choice" },
};

/** Whether a URL's text is a value of a number-like key: a finite number ("none" as well for a
 * switched key, a whole number ≥ 0 for a seed); empty only where the default is. The API judges
 * the range; a text that is no number at all would be sent as it is, or read as the default. */
function numberText(prop, raw) {
  if (raw === "") return prop.default === "";
  if (prop.type === "switched" && raw === "none") return true;
  if (prop.type === "seed") return /^\d+$/.test(raw);
  return Number.isFinite(Number(raw));
}
const NUMBER_TYPES = new Set(["number", "switched", "seed"]);

/** The defaults of `tab`'s keys (of every key without a tab). */
export function defaults(tab) {
  const props = tab ? propsOf(tab) : PROPS;
  return Object.fromEntries(props.map((prop) => [prop.name, structuredClone(prop.default)]));
}

// ---------------------------------------------------------------- the URL

/**
 * The state a query string names: {values, named, problems}. `values` holds every key (the
 * defaults where the URL names none); `named` the tabs the URL names a key of (the explorer
 * runs such a URL at once); `problems[tab]` what the URL did not understand — unknown choices
 * fall back to the default — each a function that writes it in the current language. Numbers
 * are kept as typed.
 */
export function parseUrl(search) {
  const params = new URLSearchParams(search);
  const values = defaults();
  const named = new Set();
  const problems = { explore: [], train: [], sweep: [] };
  for (const prop of PROPS) {
    if (!params.has(prop.name)) continue;
    named.add(prop.tab);
    const raw = params.get(prop.name).trim();
    const texts = PROBLEMS[prop.tab] || {};
    const report = (kind, v) => {
      if (texts[kind]) problems[prop.tab].push(() => t(texts[kind], v));
    };
    if (prop.type === "list") {
      const names = raw.split(",").map((s) => s.trim()).filter(Boolean);
      for (const name of names) if (!prop.choices.includes(name)) report("model", { name });
      const known = prop.choices.filter((key) => names.includes(key));
      // none of the catalogue's, but the key named by `empty` (the uploaded networks) has some
      const others = prop.empty && !names.length && (params.get(prop.empty) || "").trim();
      if (known.length || others) values[prop.name] = known;
      else report("none");
    } else if (prop.type === "ids") {
      const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
      for (const item of items) if (!WEIGHTS_VALUE.test(item)) report("weights", { value: item });
      values[prop.name] = [...new Set(items.filter((item) => WEIGHTS_VALUE.test(item)))];
    } else if (choices(prop) && !choices(prop).includes(raw) && !prop.unlisted?.includes(raw)) {
      report("choice", { key: prop.name, value: raw, choices: choices(prop).join(", ") });
    } else if (NUMBER_TYPES.has(prop.type) && !numberText(prop, raw)) {
      // the default, said: "sigma_max=banana" no longer turns the rescaling on, "seq_len=" no longer runs T = 50 unsaid
      const fallback = prop.default === "none" ? t("explore.url.off") : prop.default;
      report(raw === "" ? "empty" : "number", { key: prop.name, value: raw, default: fallback });
    } else {
      values[prop.name] = raw;
    }
  }
  return { values, named, problems };
}

function choices(prop) {
  return prop.type === "flag" ? ["1", "0"] : prop.choices;
}

/** Whether the URL now names a key of `tab`. */
export function urlNames(tab) {
  const params = new URLSearchParams(location.search);
  return propsOf(tab).some((prop) => params.has(prop.name));
}

const encode = (value) => encodeURIComponent(Array.isArray(value) ? value.join(",") : String(value))
  .replace(/%2C/g, ",").replace(/%3A/g, ":");

/** The query string (no "?") of the keys `values` holds, in the list's order. */
export function toSearch(values) {
  return PROPS.filter((prop) => values[prop.name] != null)
    .map((prop) => `${prop.name}=${encode(values[prop.name])}`).join("&");
}

/** Bring the URL up to date: `changes` names keys and their values (null: the key leaves the
 * URL); every other key stays as it is. The one writer of the page's URL. */
export function updateUrl(changes) {
  const values = {};
  for (const [name, value] of new URLSearchParams(location.search)) if (!(name in values)) values[name] = value;
  Object.assign(values, changes);
  const unknown = Object.keys(values).filter((name) => !BY_NAME.has(name) && values[name] != null)
    .map((name) => `${name}=${encode(values[name])}`);
  const search = [toSearch(values), ...unknown].filter(Boolean).join("&");
  if ((search ? `?${search}` : "") !== location.search) {
    history.replaceState(null, "", search ? `?${search}` : location.pathname);
  }
}

// ---------------------------------------------------------------- the controls

const $ = (selector) => document.querySelector(selector);
const $$ = (selector) => [...document.querySelectorAll(selector)];

function readControl(prop) {
  const els = $$(prop.control);
  const [el] = els;
  if (prop.type === "list" || prop.type === "ids") return els.filter((box) => box.checked).map((box) => box.value);
  if (prop.type === "flag") return el.checked ? "1" : "0";
  if (prop.type === "switched") {
    if (!$(prop.toggle).checked) return "none";
    return el.value.trim() || (prop.blank ? $(prop.blank).value : prop.idle);
  }
  if (el.type === "radio") return els.find((radio) => radio.checked)?.value ?? prop.default;
  return el.value;
}

function writeControl(prop, value) {
  const els = $$(prop.control);
  const [el] = els;
  if (prop.type === "list" || prop.type === "ids") {
    for (const box of els) box.checked = value.includes(box.value);
  } else if (prop.type === "flag") {
    el.checked = value === "1";
  } else if (prop.type === "switched") {
    $(prop.toggle).checked = value !== "none";
    el.value = value === "none" ? prop.idle : value;
  } else if (el.type === "radio") {
    for (const radio of els) radio.checked = radio.value === value;
  } else {
    el.value = value;
  }
}

/** The values of `tab`'s controls. */
export function readControls(tab) {
  return Object.fromEntries(propsOf(tab).map((prop) => [prop.name, readControl(prop)]));
}

/** Set the controls of `tab`'s keys that `values` holds (the controls that follow them are
 * their tab's to update). */
export function writeControls(tab, values) {
  for (const prop of propsOf(tab)) if (prop.name in values) writeControl(prop, values[prop.name]);
}

// ---------------------------------------------------------------- request bodies

/** A typed number: a finite number, the raw text when it is not one (the API explains), or
 * undefined when empty (the API's default). */
function number(text) {
  const s = String(text).trim();
  if (s === "") return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

const SEED = "@SEED@";
const TO_API = {
  list: (keys) => keys.map((key) => {
    const { cell, activation } = MODELS[key];
    return cell === "rnn" ? { cell, activation } : { cell };
  }),
  choice: (value) => value,
  flag: (value) => value === "1",
  number,
  switched: (value) => (value === "none" ? null : number(value)),
  seed: () => SEED,
  text: (value) => value,
};

/** The request body (JSON text) of `tab`'s `values`: POST /api/runs/stream's RunRequest for
 * "explore", /api/train/stream's TrainRequest for "train". */
export function requestBody(tab, values) {
  const body = {};
  let seed = "0";
  for (const prop of propsOf(tab)) {
    if (!prop.body || (prop.when && !prop.when(values))) continue;
    const path = prop.body.split(".");
    const last = path.pop();
    let at = body;
    for (const part of path) at = at[part] ??= {};
    at[last] = (prop.to || TO_API[prop.type])(values[prop.name], values);
    if (prop.type === "seed") seed = String(values[prop.name]).trim();
  }
  const seedJson = /^\d+$/.test(seed) ? seed.replace(/^0+(?=\d)/, "") : JSON.stringify(seed === "" ? 0 : number(seed));
  return JSON.stringify(body).replace(`"${SEED}"`, seedJson);
}
