// Compare: pinned references and runs over several seeds.
//
// Pins. A finished run (Explore) or training (Train) can be pinned as a reference: later runs
// draw over it — the pinned lines dashed and lighter in the flow chart and the training-loss
// chart, a pinned card beside the run's cards that names the settings that differ. Up to
// PINS_MAX pins, kept in the URL (`pins`: compact settings, comma-separated: "e~seq_len:100~
// sigma_max:1.5" for a run, "t~train_clip:none" for a training, only the keys that are not their
// defaults), so a shared link reproduces the comparison: runs are deterministic, so the page
// runs each pinned setting again on load (POST /api/runs; a training: POST /api/train/stream).
//
// Seeds. "over n seeds" (URL `seeds`, 2…16; 1 is off) asks POST /api/runs for the same run at n
// seeds from the run's own and draws each model's median ‖∂L/∂h_t‖ with its 10–90 % band; the
// cards give the spread of the memory horizon.
//
// The views draw what they are handed (flow.setPins / setBand, summary.setPins / setSeeds,
// loss.setPins); this module keeps the pins and the URL, and fetches.

import { modelKey } from "./catalogue.js";
import { metricText } from "./format.js";
import { onLanguage, t } from "./i18n.js";
import { onRun } from "./run-events.js";
import { defaults, parseUrl, requestBody, toSearch, updateUrl } from "./state.js";
import { errorFromResponse, streamEvents } from "./stream-client.js";
import { onTraining } from "./train-events.js";

export const PINS_MAX = 4;
export const SEEDS_CHOICES = [1, 2, 4, 8, 10, 16];
const SEED_MAX = 2 ** 53 - 1;
const LISTS = new Set(["models", "weights", "train_models"]);
// the keys a pin keeps: what the run or the training depends on
const KEYS = {
  explore: ["models", "num_layers", "bidirectional", "weights", "seq_len", "hidden_size", "input", "init", "sigma_max",
    "forget_bias", "loss", "loss_kind", "output_size", "seed"],
  train: ["train_models", "train_task", "train_seq_len", "train_hidden_size", "train_batch_size", "train_optimizer",
    "train_lr", "train_momentum", "train_clip", "train_steps", "train_eval_every", "train_eval_size", "train_seed"],
};
const TAB_LETTER = { explore: "e", train: "t" };
const $ = (selector) => document.querySelector(selector);
const el = (tag, props = {}) => Object.assign(document.createElement(tag), props);

const same = (a, b) => (Array.isArray(a) ? a.join(".") === b.join(".") : String(a) === String(b));

/** A pin's compact settings: the tab's letter, then `key:value` for each key not at its default. */
export function encodePin(tab, values) {
  const base = defaults(tab);
  const parts = KEYS[tab].filter((key) => !same(values[key], base[key]))
    .map((key) => `${key}:${LISTS.has(key) ? values[key].join(".") : values[key]}`);
  return [TAB_LETTER[tab], ...parts].join("~");
}

/** {tab, values} of a pin's compact settings (null: not one). */
export function decodePin(text) {
  const [letter, ...parts] = text.split("~");
  const tab = Object.keys(TAB_LETTER).find((k) => TAB_LETTER[k] === letter);
  if (!tab) return null;
  const values = defaults(tab);
  for (const part of parts) {
    const at = part.indexOf(":");
    const key = part.slice(0, at);
    if (at < 1 || !KEYS[tab].includes(key)) return null;
    const value = part.slice(at + 1);
    values[key] = LISTS.has(key) ? value.split(".").filter(Boolean) : value;
  }
  return { tab, values };
}

/** The settings of `values` that differ from `now`'s: [{key, value, now}]. */
export function differences(tab, values, now) {
  return KEYS[tab].filter((key) => !same(values[key], now[key]))
    .map((key) => ({ key, value: values[key], now: now[key] }));
}

/** A setting's value for people ("rnn-tanh, lstm" → the list; "none" → off). */
function valueText(key, value) {
  if (Array.isArray(value)) return value.length ? value.join(", ") : "—";
  if (value === "none") return t("compare.off");
  return value === "" ? "—" : String(value);
}

/** "σ_max 1.5 (now 1)" for each difference, or "the same settings". */
export function differenceText(diffs) {
  if (!diffs.length) return t("compare.same");
  return diffs.map((d) => t("compare.differs", { key: t(`compare.key.${d.key}`), value: valueText(d.key, d.value),
    now: valueText(d.key, d.now) })).join("; ");
}

const readPins = () => (parseUrl(location.search).values.pins || "").split(",").filter(Boolean);

/** Write the pins into the URL and say so (the lessons' links carry them: lessons.js). */
function writePins(texts) {
  updateUrl({ pins: texts.length ? texts.join(",") : null });
  document.dispatchEvent(new CustomEvent("gfl:pins"));
}

/** The request body of `values` (as an object), without per-step arrays. */
function runBody(values) {
  return { ...JSON.parse(requestBody("explore", values)), include: [] };
}

async function postRun(body, signal) {
  const res = await fetch("/api/runs", { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify(body), signal });
  if (!res.ok) throw await errorFromResponse(res);
  return res.json();
}

/** A pinned run: its models (as the views draw them) from POST /api/runs's answer. */
function pinnedRun(answer) {
  let uploaded = 0;
  const T = answer.config.seq_len;
  return { T, models: answer.models.map((m, i) => {
    const weights = answer.config.models?.[i]?.weights ?? null;
    return { cell: m.cell, activation: m.activation, weights, yours: weights ? uploaded++ : null,
      num_layers: m.num_layers ?? 1, bidirectional: !!m.bidirectional, key: modelKey(m),
      grad_norm: m.grad_norm, summary: m.summary };
  }) };
}

/** The run on screen as a pinned run (the unit the views show). */
function runAsPinned(run) {
  return { T: run.T, models: run.models.map((m, i) => ({
    cell: m.cell, activation: m.activation, weights: m.weights, yours: m.yours, num_layers: m.num_layers,
    bidirectional: m.bidirectional, key: modelKey(m), grad_norm: [...run.bwd[i].grad_norm],
    summary: run.summaries[i].summary,
  })) };
}

/** A tab's pins (`tab`: "explore" or "train"), kept in the URL's `pins` beside the other tab's
 * (the runs' first): a subclass says what is pinned (`pin`), how a pin is computed again from
 * its settings (`recompute`), and shows them (`show`, `updateButton`). */
class Pins {
  constructor(tab) {
    this.tab = tab;
    this.pins = []; // {text, values, data | null, error}
  }

  add(values, data) {
    this.pins.push({ text: encodePin(this.tab, values), values, data, error: null });
    this.save();
  }

  unpin(k) {
    this.pins.splice(k, 1);
    this.save();
  }

  save() {
    const mine = this.pins.map((p) => p.text);
    const others = readPins().filter((text) => {
      const tab = decodePin(text)?.tab;
      return tab !== undefined && tab !== this.tab; // the other tab's pins (a malformed one goes)
    });
    writePins(this.tab === "explore" ? [...mine, ...others] : [...others, ...mine]);
    this.updateButton();
    this.show();
  }

  /** The URL's pins of this tab, computed again (deterministic: the numbers they were pinned with). */
  load(texts) {
    for (const text of texts) {
      const pin = decodePin(text);
      if (!pin || pin.tab !== this.tab || this.pins.length >= PINS_MAX) continue;
      const entry = { text, values: pin.values, data: null, error: null };
      this.pins.push(entry);
      this.recompute(pin.values).then((data) => { entry.data = data; })
        .catch((e) => { entry.error = e.message || String(e); })
        .finally(() => this.show());
    }
    this.show();
  }
}

// ------------------------------------------------------------------------------- Explore

/** The Explore tab's pins and seeds. */
export class ExploreCompare extends Pins {
  /**
   * @param flow      the FlowChart (setPins, setBand)
   * @param summary   the SummaryCards (setPins, setSeeds)
   * @param values    () the explorer's controls' values
   * @param message   the MessageBox
   */
  constructor({ flow, summary, values, message }) {
    super("explore");
    Object.assign(this, { flow, summary, values, message });
    this.run = null; // the run on screen, once complete
    this.seedsAbort = null;
    this.button = el("button", { type: "button", id: "pin-run", disabled: true });
    this.button.addEventListener("click", () => this.pin());
    $("#export-json")?.parentElement.prepend(this.button);
    this.seeds = this.makeSeedsControl();
    onRun((run, complete) => {
      this.run = complete ? run : null;
      this.updateButton();
      this.show(); // the differences from the settings of this run
      if (complete) this.loadSeeds(run);
      else this.cancelSeeds();
    });
    onLanguage(() => this.relabel());
    this.relabel();
    this.load(readPins());
  }

  /** "over n seeds": a <select> in the flow chart's header; URL key `seeds`. */
  makeSeedsControl() {
    const wrap = el("label", { className: "seeds-chooser" });
    const text = el("span");
    const select = el("select", { id: "seeds-n" });
    for (const n of SEEDS_CHOICES) select.append(el("option", { value: String(n) }));
    const wanted = Number(parseUrl(location.search).values.seeds);
    select.value = SEEDS_CHOICES.includes(wanted) ? String(wanted) : "1";
    select.addEventListener("change", () => {
      updateUrl({ seeds: select.value === "1" ? null : select.value });
      if (this.run) this.loadSeeds(this.run);
    });
    wrap.append(text, select);
    $("#chart-flow")?.closest("section")?.querySelector(".toggles")?.append(wrap);
    return { wrap, text, select, note: null };
  }

  get seedCount() {
    return Number(this.seeds.select.value);
  }

  relabel() {
    this.button.textContent = t("compare.pin");
    this.updateButton();
    this.seeds.text.textContent = t("compare.seeds.label");
    this.seeds.wrap.title = t("compare.seeds.title");
    for (const option of this.seeds.select.options) {
      option.textContent = option.value === "1" ? t("compare.seeds.one") : t("compare.seeds.n", { n: option.value });
    }
    this.show();
  }

  updateButton() {
    const full = this.pins.length >= PINS_MAX;
    const values = this.values();
    const fromFile = values.input === "values" || values.targets === "file";
    this.button.disabled = !this.run || full || fromFile;
    this.button.title = full ? t("compare.pin.full", { n: PINS_MAX }) : fromFile ? t("compare.pin.file")
      : t("compare.pin.title");
  }

  /** Pin the run on screen: its settings (the controls it ran with) and its numbers. */
  pin() {
    if (!this.run || this.pins.length >= PINS_MAX) return;
    this.add(this.values(), runAsPinned(this.run));
  }

  /** A pinned run's settings run again. */
  async recompute(values) {
    return pinnedRun(await postRun(runBody(values)));
  }

  /** Hand the pins to the views, each with its name and its differences from the controls now. */
  show() {
    const now = this.values();
    const pins = this.pins.map((p, k) => ({
      index: k, name: t("compare.pin.name", { n: k + 1 }), data: p.data, error: p.error,
      differs: differenceText(differences("explore", p.values, now)), unpin: () => this.unpin(k),
    }));
    this.flow.setPins(pins.filter((p) => p.data));
    this.summary.setPins(pins);
    document.documentElement.dataset.pins = String(this.pins.filter((p) => p.data).length);
  }

  // ---------------------------------------------------------------- seeds

  cancelSeeds() {
    this.seedsAbort?.abort();
    this.seedsAbort = null;
    this.flow.setBand(null);
    this.summary.setSeeds(null);
    delete document.documentElement.dataset.seeds;
  }

  /** The run over n seeds from its own (POST /api/runs with `seeds`), once it is complete. */
  async loadSeeds(run) {
    this.cancelSeeds();
    const n = this.seedCount;
    if (n < 2) return;
    const first = Math.min(Number(run.config.seed), SEED_MAX - n + 1);
    const seeds = Array.from({ length: n }, (_, k) => first + k);
    const { seed, ...body } = runBody(this.values());
    const abort = new AbortController();
    this.seedsAbort = abort;
    document.documentElement.dataset.seeds = "loading";
    this.summary.setSeeds({ loading: true, n });
    try {
      const answer = await postRun({ ...body, seeds }, abort.signal);
      if (abort !== this.seedsAbort) return;
      const band = { seeds, T: answer.config.seq_len, models: answer.models.map((m) => ({ ...m, key: modelKey(m) })) };
      this.flow.setBand(band);
      this.summary.setSeeds(band);
      document.documentElement.dataset.seeds = "done";
    } catch (e) {
      if (e.name === "AbortError" || abort !== this.seedsAbort) return;
      this.summary.setSeeds({ error: e.message || String(e), n });
      document.documentElement.dataset.seeds = "error";
    }
  }
}

// ------------------------------------------------------------------------------- Train

/** The Train tab's pins: a finished training's loss curves, drawn dashed under later ones. */
export class TrainCompare extends Pins {
  /**
   * @param loss     the LossChart (setPins)
   * @param values   () the Train tab's controls' values
   * @param after    the element the "open in Explore" link and the pin button follow, in that
   *                 order (Stop: the sidebar's buttons, laid out as a grid by page.css)
   * @param list     the element after which the pinned trainings' cards are listed (the
   *                 training's result cards, as the pinned runs follow the run's cards)
   * @param kick     () asks the Train tab for a draw
   */
  constructor({ loss, values, after, list, kick }) {
    super("train");
    Object.assign(this, { loss, values, kick });
    this.data = null; // the training on screen, once done
    this.button = el("button", { type: "button", id: "pin-training", disabled: true });
    this.button.addEventListener("click", () => this.pin());
    this.explore = el("a", { id: "open-trained", className: "button ghost", target: "_blank", rel: "noopener" });
    this.explore.hidden = true;
    after?.after(this.explore, this.button);
    this.list = el("div", { className: "pinned-cards pinned-trainings", id: "pinned-trainings" });
    list?.after(this.list);
    onTraining((data, complete) => {
      this.data = complete ? data : null;
      this.updateButton();
      this.updateExplore();
      this.show();
    });
    onLanguage(() => this.relabel());
    this.relabel();
    this.load(readPins());
  }

  relabel() {
    this.button.textContent = t("compare.pin");
    this.updateButton();
    this.updateExplore();
    this.show();
  }

  /** "Open the trained models in Explore": a link (a new tab; this training stays) to a run of
   * each trained network (its weights id, kept by the server) next to the same cell drawn from
   * the training's seed — the weights the training started from. */
  updateExplore() {
    const url = this.data && trainedExploreUrl(this.data);
    this.explore.hidden = !url;
    if (!url) return;
    this.explore.href = url;
    this.explore.textContent = t("compare.open_trained");
    const left = this.data.models.filter((m) => m.cell === "rnn" && !["tanh", "relu"].includes(m.activation));
    this.explore.title = t("compare.open_trained.title")
      + (left.length ? ` ${t("compare.open_trained.left", { models: left.map((m) => m.label).join(", ") })}` : "");
  }

  updateButton() {
    const full = this.pins.length >= PINS_MAX;
    this.button.disabled = !this.data || full;
    this.button.title = full ? t("compare.pin.full", { n: PINS_MAX }) : t("compare.pin.training.title");
  }

  pin() {
    if (!this.data || this.pins.length >= PINS_MAX) return;
    this.add(this.values(), trainingAsPinned(this.data, this.loss.series()));
  }

  /** A pinned training's settings trained again. */
  recompute(values) {
    return retrain(values);
  }

  show() {
    const now = this.values();
    const pins = this.pins.map((p, k) => ({
      index: k, name: t("compare.pin.name", { n: k + 1 }), data: p.data, error: p.error,
      differs: differenceText(differences("train", p.values, now)),
    }));
    this.loss.setPins(pins.filter((p) => p.data));
    this.kick();
    this.list.replaceChildren(...pins.map((p) => trainPinCard(p, () => this.unpin(p.index))));
    document.documentElement.dataset.trainPins = String(this.pins.filter((p) => p.data).length);
  }
}

/** The Explore tab's URL of a finished training's trained models beside their untrained selves
 * (null: none can be opened). An RNN opens with tanh or relu, the nonlinearities PyTorch's
 * nn.RNN has (a sigmoid RNN's trained weights cannot be named). */
export function trainedExploreUrl(data) {
  const c = data.config;
  const open = data.models.map((m, i) => ({ m, id: data.final?.models[i]?.weights }))
    .filter(({ m, id }) => id && (m.cell !== "rnn" || ["tanh", "relu"].includes(m.activation)));
  if (!open.length) return null;
  const values = {
    ...defaults("explore"), models: open.map(({ m }) => m.key),
    weights: open.map(({ m, id }) => (m.activation === "relu" ? `${id}:relu` : id)),
    seq_len: String(c.task === "copy" ? c.seq_len + 20 : c.seq_len), hidden_size: String(c.hidden_size),
    input: c.task === "adding" ? "adding" : "gaussian", seed: String(c.seed),
    lang: parseUrl(location.search).values.lang || null,
  };
  return `${location.pathname}?${toSearch(values)}`;
}

/** A finished training as a pin: per model its loss curve and final held-out metric. */
function trainingAsPinned(data, series) {
  return { metric: data.metric, models: data.models.map((m, i) => ({
    key: m.key, cell: m.cell, activation: m.activation, label: m.label,
    x: series[i].x, y: series[i].y, value: data.final.models[i].value,
  })) };
}

/** A pinned training's settings trained again: its progress (the loss curves) and outcome. */
async function retrain(values) {
  let start = null;
  let series = [];
  let final = null;
  await streamEvents("/api/train/stream", requestBody("train", values), {
    noun: () => t("train.error.noun"), kept: () => t("train.error.kept"),
    onEvent: (name, ev) => {
      if (name === "start") {
        start = ev;
        series = ev.models.map(() => ({ x: [], y: [] }));
      } else if (name === "progress") {
        series[ev.model].x.push(ev.step);
        series[ev.model].y.push(ev.loss);
      } else if (name === "done") {
        final = ev;
      }
    },
  });
  return { metric: start.metric, models: start.models.map((m, i) => ({
    key: modelKey(m), cell: m.cell, activation: m.activation, label: m.label,
    x: series[i].x, y: series[i].y, value: final.models[i].value,
  })) };
}

function trainPinCard(p, unpin) {
  const card = el("article", { className: "train-card pinned-card" });
  card.dataset.pin = String(p.index);
  const head = el("h3");
  head.append(el("span", { className: "pin-dash", textContent: "┄" }), ` ${p.name}`);
  const close = el("button", { type: "button", className: "ghost small pin-remove", textContent: "×" });
  close.title = t("compare.unpin");
  close.setAttribute("aria-label", t("compare.unpin"));
  close.addEventListener("click", unpin);
  head.append(close);
  const differs = el("p", { className: "pin-differs", textContent: p.differs });
  card.append(head, differs);
  if (p.error) card.append(el("p", { className: "pin-error", textContent: p.error }));
  else if (!p.data) card.append(el("p", { className: "pin-loading", textContent: t("compare.pin.training.loading") }));
  else {
    const ul = el("ul", { className: "pin-models" });
    for (const m of p.data.models) {
      const li = el("li", { textContent: t("compare.pin.metric", { model: m.label,
        value: metricText(p.data.metric, m.value) }) });
      li.dataset.model = m.key;
      ul.append(li);
    }
    card.append(ul);
  }
  return card;
}
