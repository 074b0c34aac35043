// The Sweep tab's controls (state.js binds each to its URL key): a preset or your own sweep —
// runs or trainings, one or two settings to vary with their values, the models, the seeds — and
// what follows from them before anything starts: each axis's values read back in words (or what
// is wrong with them), the settings every point shares, the number of points and an estimate of
// the time they take.
//
// The points share the settings of the Explore tab (runs) or of the Train tab (trainings), or a
// preset's own; the sweep's models and seeds replace theirs.

import { MODELS, modelKey } from "./catalogue.js";
import { fmt } from "./format.js";
import { has, t } from "./i18n.js";
import { AXES, METRICS, axisLabel, axisType, valueLabel } from "./sweep-axes.js";
import { parseSeeds, parseValues, seedsText, sweepRequest, sweepSize, valuesText } from "./sweep-plan.js";
import { readControls, requestBody, updateUrl, urlNames, writeControls } from "./state.js";
import { activeTab, selectTab } from "./tabs.js";

const $ = (selector) => document.querySelector(selector);

/** The words of a value's problem (sweep-plan.js's codes). */
const PROBLEM = {
  empty: () => t("sweep.values.empty"),
  number: (e) => t("sweep.values.number", e),
  integer: (e) => t("sweep.values.integer", e),
  choice: (e) => t("sweep.values.choice", e),
  range: () => t("sweep.values.range"),
  points: () => t("sweep.values.points"),
  log: () => t("sweep.values.log"),
  repeated: (e) => t("sweep.values.repeated", e),
  seed: (e) => t("sweep.seeds.bad", e),
};

/** A duration in words: "35 ms", "0.4 s", "12 s", "3 min 05 s", "1 h 02 min". */
export function duration(seconds) {
  if (!Number.isFinite(seconds)) return "—";
  if (seconds < 0.1) return t("sweep.clock.ms", { ms: Math.max(1, Math.round(1000 * seconds)) });
  if (seconds < 10) return t("sweep.clock.seconds", { seconds: Math.max(0, seconds).toFixed(1) });
  const s = Math.round(seconds);
  if (s < 60) return t("sweep.clock.seconds", { seconds: s });
  if (s < 3600) return t("sweep.clock.minutes", { minutes: Math.floor(s / 60), seconds: String(s % 60).padStart(2, "0") });
  return t("sweep.clock.hours", { hours: Math.floor(s / 3600), minutes: String(Math.floor(s / 60) % 60).padStart(2, "0") });
}

export class SweepControls {
  /**
   * @param form       the sweep's <form>
   * @param onStart    Start (the form's submit)
   * @param onMetric   the metric chooser changed: onMetric(metric)
   * @param estimate   estimate(request, size) → a promise of {total, one, measured}: the seconds of
   *                   computing the whole sweep and one point take (measured here, or the server's
   *                   estimate), or null
   */
  constructor(form, { onStart, onMetric, estimate }) {
    Object.assign(this, { form, estimate });
    this.presets = []; // the server's presets
    this.limits = {}; // GET /api/meta's limits
    this.time = null; // the estimate of the sweep's time ({total, one, measured}), for `estimated`
    this.estimated = ""; // the request (JSON) it was made for
    this.ui = {
      preset: $("#sweep_preset"), presetText: $("#sweep-preset-text"), base: $("#sweep-base-text"),
      baseEdit: $("#sweep-base-edit"), size: $("#sweep-size"), metric: $("#sweep_metric"),
    };
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      onStart();
    });
    form.addEventListener("change", (e) => {
      if (e.target === this.ui.preset) this.applyPreset(this.ui.preset.value);
      else if (e.target.name === "sweep_kind") this.setKind(this.read().sweep_kind);
      this.sync();
    });
    form.addEventListener("input", () => this.sync());
    this.ui.metric.addEventListener("change", () => {
      this.syncUrl();
      onMetric(this.ui.metric.value);
    });
    this.ui.baseEdit.addEventListener("click", () => selectTab(this.read().sweep_kind === "train" ? "train" : "explore"));
    this.fillAxes("run");
  }

  read() {
    return readControls("sweep");
  }

  /** Set the controls from `values` (the URL's, or a preset's): the kind first, since it decides
   * which settings the axes and the metric may name. */
  write(values) {
    this.fillAxes(values.sweep_kind ?? this.read().sweep_kind);
    for (const path of [values.sweep_x, values.sweep_y]) if (path) this.offerPath(path);
    // a preset named before the server's presets have arrived: chosen when they do (setPresets)
    if (values.sweep_preset && !this.preset(values.sweep_preset)) this.wanted = values.sweep_preset;
    writeControls("sweep", values);
    if (!values.sweep_metric) this.ui.metric.value = METRICS[this.read().sweep_kind][0];
    this.sync();
  }

  /** The keys go into the URL while the tab is shown, or once the URL holds them. */
  syncUrl() {
    if (activeTab() === "sweep" || urlNames("sweep")) updateUrl(this.read());
  }

  setLimits(limits) {
    this.limits = limits;
    this.sync();
  }

  /** The server's presets (/api/meta's sweeps.presets: name → request): offered in the menu
   * after "your own". */
  setPresets(presets) {
    this.presets = Object.entries(presets).map(([name, p]) => ({ name, ...p }));
    const chosen = this.wanted ?? this.read().sweep_preset;
    this.wanted = null;
    const options = this.presets.map((p) => {
      const option = document.createElement("option");
      option.value = p.name;
      return option;
    });
    this.ui.preset.replaceChildren(this.ui.preset.options[0], ...options);
    this.ui.preset.value = this.presets.some((p) => p.name === chosen) ? chosen : "custom";
    this.relabel();
  }

  preset(name = this.read().sweep_preset) {
    return this.presets.find((p) => p.name === name) ?? null;
  }

  /** A preset chosen: its kind, axes, models, seeds and metric in the controls. */
  applyPreset(name) {
    const p = this.preset(name);
    if (!p) return;
    const axes = Object.entries(p.grid).filter(([path]) => path !== "models");
    const models = p.grid.models ? p.grid.models.flat() : (p.base.models ?? []);
    this.write({
      sweep_preset: name, sweep_kind: p.kind,
      sweep_x: axes[0]?.[0] ?? "", sweep_x_values: axes[0] ? valuesText(axes[0][1]) : "",
      sweep_y: axes[1]?.[0] ?? "", sweep_y_values: axes[1] ? valuesText(axes[1][1]) : "",
      sweep_models: [...new Set(models.map(modelKey))].filter((key) => MODELS[key]),
      sweep_seeds: seedsText(p.seeds), sweep_metric: p.metric ?? METRICS[p.kind][0],
    });
  }

  /**
   * A stored sweep opened by a bare link (sweep=… alone): its kind, axes, values, models and
   * seeds in the controls — the preset's order and name when a preset varies the same settings.
   */
  adopt(request) {
    const paths = Object.keys(request.grid).sort().join("|");
    const preset = this.presets.find((p) => p.kind === request.kind && Object.keys(p.grid).sort().join("|") === paths);
    const order = preset ? Object.keys(preset.grid) : Object.keys(request.grid);
    const axes = order.filter((path) => path !== "models").map((path) => [path, request.grid[path]]);
    const models = request.grid.models ? request.grid.models.flat() : (request.base.models ?? []);
    for (const [path] of axes) this.offerPath(path);
    this.write({
      sweep_preset: preset?.name ?? "custom", sweep_kind: request.kind,
      sweep_x: axes[0]?.[0] ?? "", sweep_x_values: axes[0] ? valuesText(axes[0][1]) : "",
      sweep_y: axes[1]?.[0] ?? "", sweep_y_values: axes[1] ? valuesText(axes[1][1]) : "",
      sweep_models: [...new Set(models.map(modelKey))].filter((key) => MODELS[key]),
      sweep_seeds: seedsText(request.seeds), sweep_metric: this.ui.metric.value,
    });
  }

  /** The kind changed by hand: its own axes and metrics (a preset of the other kind is left). */
  setKind(kind) {
    const values = this.read();
    this.fillAxes(kind);
    if (this.preset()?.kind !== kind) this.ui.preset.value = "custom";
    if (!AXES[kind].some(([path]) => path === values.sweep_x)) this.form.elements.sweep_x.value = AXES[kind][0][0];
    this.ui.metric.value = METRICS[kind][0];
  }

  /** The axis menus and the metric chooser of `kind`. */
  fillAxes(kind) {
    for (const id of ["sweep_x", "sweep_y"]) {
      const select = this.form.elements[id];
      const chosen = select.value;
      const options = AXES[kind].map(([path]) => new Option(axisLabel(path), path));
      if (id === "sweep_y") options.unshift(new Option(t("sweep.axis.none"), ""));
      select.replaceChildren(...options);
      if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
    }
    const metric = this.ui.metric.value;
    this.ui.metric.replaceChildren(...METRICS[kind].map((m) => new Option(t(`sweep.metric.${m}`), m)));
    if (METRICS[kind].includes(metric)) this.ui.metric.value = metric;
  }

  /** A path named by a URL or a preset that the menus do not list: offered under its own name. */
  offerPath(path) {
    for (const select of [this.form.elements.sweep_x, this.form.elements.sweep_y]) {
      if (![...select.options].some((o) => o.value === path)) select.add(new Option(axisLabel(path), path));
    }
  }

  /**
   * The sweep the controls describe: {request, size, problems, axes, seeds}. `problems` are
   * functions that write each problem in the current language; with any, there is no request.
   */
  plan() {
    const values = this.read();
    const kind = values.sweep_kind;
    const problems = [];
    const axes = [];
    for (const axis of ["x", "y"]) {
      const path = values[`sweep_${axis}`];
      if (!path) continue;
      const parsed = parseValues(values[`sweep_${axis}_values`], axisType(kind, path));
      if (parsed.error) problems.push(() => t("sweep.problem.axis", { axis: axisLabel(path), problem: PROBLEM[parsed.error.code](parsed.error) }));
      else axes.push({ path, values: parsed.values });
    }
    if (values.sweep_x && values.sweep_x === values.sweep_y) problems.push(() => t("sweep.problem.same_axis"));
    const seeds = parseSeeds(values.sweep_seeds);
    if (seeds.error) problems.push(() => t("sweep.problem.seeds", { problem: PROBLEM[seeds.error.code](seeds.error) }));
    if (!values.sweep_models.length) problems.push(() => t("sweep.problem.no_models"));
    const base = this.base(kind);
    const models = values.sweep_models.map((key) => {
      const { cell, activation } = MODELS[key];
      return cell === "rnn" ? { cell, activation } : { cell };
    });
    // a preset that varies the models across points keeps doing so; otherwise every point has them all
    const preset = this.preset();
    const apart = !!(preset && preset.kind === kind && preset.grid.models);
    const all = apart ? [...axes, { path: "models", values: models.map((m) => [m]) }] : axes;
    if (!apart) base.models = models;
    const size = seeds.values ? sweepSize(Object.fromEntries(all.map((a) => [a.path, a.values])), seeds.values,
      apart ? 1 : models.length) : null;
    const max = this.limits.sweep_points_max;
    if (size && max && size.points > max) problems.push(() => t("sweep.problem.too_many", { points: size.points, max }));
    const request = problems.length ? null : sweepRequest({ kind, base, axes: all, seeds: seeds.values });
    return { request, size, problems, axes, seeds: seeds.values ?? [], models: models.length, apart };
  }

  /** The settings every point shares: the preset's, or the Explore or Train tab's. */
  base(kind) {
    const preset = this.preset();
    if (preset && preset.kind === kind) return structuredClone(preset.base);
    const base = JSON.parse(requestBody(kind === "train" ? "train" : "explore", readControls(kind === "train" ? "train" : "explore")));
    delete base.seed;
    if (kind === "run") base.include = []; // a point's metrics need none of the arrays
    return base;
  }

  /** The previews, the sentences and the size after any change; the URL. */
  sync() {
    const values = this.read();
    const kind = values.sweep_kind;
    $("#sweep-axis-y").classList.toggle("is-off", !values.sweep_y);
    this.form.elements.sweep_y_values.disabled = !values.sweep_y;
    for (const axis of ["x", "y"]) {
      const out = $(`#sweep-${axis}-preview`);
      const path = values[`sweep_${axis}`];
      if (!path) {
        out.textContent = "";
        continue;
      }
      const parsed = parseValues(values[`sweep_${axis}_values`], axisType(kind, path));
      out.classList.toggle("is-error", !!parsed.error);
      out.textContent = parsed.error ? PROBLEM[parsed.error.code](parsed.error) : preview(parsed.values);
    }
    const seeds = parseSeeds(values.sweep_seeds);
    const seedsOut = $("#sweep-seeds-preview");
    seedsOut.classList.toggle("is-error", !!seeds.error);
    seedsOut.textContent = seeds.error ? PROBLEM[seeds.error.code](seeds.error)
      : seeds.values.length === 1 ? t("sweep.seeds.one") : t("sweep.seeds.many", { n: seeds.values.length });
    this.writeBase(kind, values);
    this.writeSize();
    this.syncUrl();
  }

  /** The sentence of the settings every point shares (those the axes vary left out), and where
   * to change them. */
  writeBase(kind, values) {
    const preset = this.preset();
    const own = preset && preset.kind === kind;
    const base = this.base(kind);
    const varied = new Set([values.sweep_x, values.sweep_y].filter(Boolean));
    const read = (path, fallback) => path.split(".").reduce((at, part) => at?.[part], base) ?? fallback;
    const FACTS = kind === "train" ? [
      ["task", (v) => t("sweep.base.task", { task: t(`train.task.${v}.name`) }), "adding"],
      ["seq_len", (v) => `T = ${v}`, 50], ["hidden_size", (v) => `H = ${v}`, 32],
      ["steps", (v) => t("sweep.base.steps", { steps: v }), 1500],
    ] : [
      ["seq_len", (v) => `T = ${v}`, 50], ["hidden_size", (v) => `H = ${v}`, 16],
      ["input.kind", (v) => t("sweep.base.input", { input: v }), "gaussian"],
      ["init.scheme", (v) => t("sweep.base.init", { init: v }), "xavier"],
      ["init.sigma_max", (v) => `σ_max = ${v}`, null],
    ];
    const facts = FACTS.filter(([path, , fallback]) => !varied.has(path) && read(path, fallback) !== null)
      .map(([path, say, fallback]) => say(read(path, fallback)));
    const key = own ? "sweep.base.preset" : kind === "train" ? "sweep.base.train" : "sweep.base.run";
    this.ui.base.textContent = t(key, { facts: facts.join(", ") });
    this.ui.baseEdit.hidden = own;
    this.ui.baseEdit.textContent = kind === "train" ? t("sweep.base.edit.train") : t("sweep.base.edit.run");
    this.ui.baseEdit.title = this.ui.baseEdit.textContent; // every control has a tip (test_browser)
    const text = own && has(`sweep.preset.${preset.name}.text`) ? t(`sweep.preset.${preset.name}.text`) : "";
    this.ui.presetText.textContent = text;
  }

  /** "21 points × 3 models = 63 runs · about 12 s of computing" — or what stops the sweep. */
  writeSize() {
    const { request, size, problems, models, apart } = this.plan();
    const out = this.ui.size;
    out.classList.toggle("is-error", problems.length > 0);
    out.dataset.points = String(size?.points ?? 0);
    if (problems.length) {
      out.textContent = problems.map((p) => p()).join(" ");
      return;
    }
    const kind = request.kind;
    const words = {
      points: size.points, models, results: size.results,
      noun: t(kind === "train" ? "sweep.size.trainings" : "sweep.size.runs"),
    };
    let text = models === 1 || apart ? t("sweep.size.one_model", words) : t("sweep.size.models", words);
    const key = JSON.stringify(request);
    if (key === this.estimated && this.time !== null) {
      const { total, one, measured } = this.time;
      text += ` ${t(measured ? "sweep.size.estimate" : "sweep.size.estimate.server", { total: duration(total), one: duration(one) })}`;
    } else {
      this.measure(request, size, key);
    }
    out.textContent = text;
  }

  /** Estimate the time of `request` (after the typing has paused), then write the size again. */
  measure(request, size, key) {
    clearTimeout(this.measuring);
    this.measuring = setTimeout(async () => {
      const time = await this.estimate(request, size).catch(() => null);
      if (key !== JSON.stringify(this.plan().request) || time === null) return;
      this.time = time;
      this.estimated = key;
      this.writeSize();
    }, 500);
  }

  relabel() {
    for (const option of this.ui.preset.options) {
      const p = this.preset(option.value);
      if (p) option.textContent = has(`sweep.preset.${p.name}`) ? t(`sweep.preset.${p.name}`) : (p.title ?? p.name);
    }
    const kind = this.read().sweep_kind;
    const chosen = this.read();
    this.fillAxes(kind);
    for (const path of [chosen.sweep_x, chosen.sweep_y]) if (path) this.offerPath(path);
    writeControls("sweep", { sweep_x: chosen.sweep_x, sweep_y: chosen.sweep_y, sweep_metric: chosen.sweep_metric });
    this.sync();
  }
}

/** "7 values: 0.5, 0.75, …, 2" */
function preview(values) {
  const say = (v) => (typeof v === "number" ? fmt(v) : valueLabel(v));
  const shown = values.length > 6 ? [...values.slice(0, 4).map(say), "…", say(values.at(-1))] : values.map(say);
  const list = shown.join(", ");
  return values.length === 1 ? t("sweep.values.one", { list }) : t("sweep.values.many", { n: values.length, list });
}
