// Charts of a training run: the loss per model (log axis, the task's baseline, clip ticks), a
// heatmap of log10 ‖∂L/∂h_t‖ over (training step × t) per model, the held-out metric, and the
// result cards in words.
//
// Like charts.js, every chart is a panel that is created once per training (Plotly.react) and
// then extended: lines with Plotly.extendTraces, heatmaps by restyling their growing matrix.
// Events only push data and mark panels dirty; the page draws dirty panels once per animation
// frame within a time budget. Every text comes from static/i18n (train.*); relabel() puts the
// current language on a drawn chart (Plotly.restyle / relayout: the data stay as they are).

import { fmt } from "./format.js";
import { t } from "./i18n.js";
import { modelKey } from "./url-state.js";
import { axis, baseLayout, config } from "./plot-style.js";
import { Panel } from "./frame-budget.js";

const Plotly = window.Plotly;


/** What a training stream has told so far. */
export class TrainData {
  constructor(start) {
    this.config = start.config;
    this.steps = start.config.steps;
    this.models = start.models.map((m, i) => ({ ...m, key: modelKey(m), index: i }));
    this.baseline = start.baseline;
    this.metric = start.metric;
    this.metricBaseline = start.metric_baseline;
    this.profileT = start.profile_t;
    this.progressEvery = start.progress_every;
    this.last = this.models.map(() => ({ step: 0, loss: null, clipped: 0, evalStep: null, evalValue: null }));
    this.final = null;
  }

  progress(e) {
    const last = this.last[e.model];
    last.step = e.step;
    last.loss = e.loss;
    if (e.clipped || e.clipped_fraction > 0) last.clipped += 1;
  }

  eval(e) {
    Object.assign(this.last[e.model], { evalStep: e.step, evalValue: e.value });
  }

  /** Steps done by every model (they train in lockstep). */
  get step() {
    return this.final ? this.steps : Math.min(...this.last.map((l) => l.step));
  }
}

/** Points not yet handed to Plotly: trace index → {x, y}. */
class Pending {
  constructor() {
    this.map = new Map();
  }

  push(trace, x, y) {
    let d = this.map.get(trace);
    if (!d) this.map.set(trace, (d = { x: [], y: [] }));
    d.x.push(x);
    d.y.push(y);
  }

  extend(el) {
    if (!this.map.size) return;
    const keys = [...this.map.keys()];
    const d = keys.map((k) => this.map.get(k));
    Plotly.extendTraces(el, { x: d.map((v) => v.x), y: d.map((v) => v.y) }, keys);
    this.map.clear();
  }
}

const finiteOrNull = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** A Plotly hover template from a text (Plotly's %{…} fields passed in as its values). */
const hover = (text) => `${text}<extra></extra>`;

/** Put `texts` ({traces: [{name, hovertemplate}], axes: {xaxis: title, …}}) on a drawn plot
 * without touching its data. */
function relabelPlot(el, { traces = [], axes = {} }) {
  if (!el.data) return;
  const update = {};
  for (const field of ["name", "hovertemplate"]) {
    if (traces.some((tr) => field in tr)) update[field] = traces.map((tr) => tr[field]);
  }
  if (traces.length) Plotly.restyle(el, update, traces.map((_, i) => i));
  const layout = Object.fromEntries(Object.entries(axes).map(([name, text]) => [`${name}.title.text`, text]));
  if (Object.keys(layout).length) Plotly.relayout(el, layout);
}

/** Loss per model on a log axis, the baseline dashed, and a strip of clip ticks below. */
export class LossChart extends Panel {
  begin(data, theme) {
    this.data = data;
    this.theme = theme;
    const n = data.models.length;
    this.lines = data.models.map(() => ({ x: [], y: [] }));
    this.clips = data.models.map(() => ({ x: [], y: [] }));
    this.pending = new Pending();
    this.clipTrace = (i) => n + 1 + i;
    this.invalidate();
  }

  progress(e) {
    const y = finiteOrNull(e.loss);
    this.lines[e.model].x.push(e.step);
    this.lines[e.model].y.push(y);
    this.pending.push(e.model, e.step, y);
    if (e.clipped || e.clipped_fraction > 0) {
      this.clips[e.model].x.push(e.step);
      this.clips[e.model].y.push(e.model);
      this.pending.push(this.clipTrace(e.model), e.step, e.model);
    }
    this.dirty = true;
  }

  setTheme(theme) {
    this.theme = theme;
    if (this.data) this.invalidate();
  }

  /** The words of the chart in the current language: per trace (in trace order) and per axis. */
  texts() {
    const { data } = this;
    const baseline = fmt(data.baseline);
    return {
      traces: [
        ...data.models.map((m) => ({
          name: m.label,
          hovertemplate: hover(t("train.loss.hover", { model: m.label, step: "%{x}", loss: "%{y:.4g}" })),
        })),
        { name: t("train.loss.baseline", { value: baseline }),
          hovertemplate: hover(t("train.loss.baseline.hover", { value: baseline })) },
        ...data.models.map((m) => ({
          name: t("train.loss.clipped.name", { model: m.label }),
          hovertemplate: hover(t("train.loss.clipped.hover", { model: m.label, step: "%{x}" })),
        })),
      ],
      axes: { xaxis: t("train.axis.step"), yaxis: t("train.loss.axis"), yaxis2: t("train.loss.clipped.axis") },
    };
  }

  build() {
    const { data, theme } = this;
    const { traces: words, axes } = this.texts();
    const clipOn = data.config.clip !== null && data.config.clip !== undefined;
    const traces = data.models.map((m, i) => ({
      type: "scatter", mode: "lines", x: [...this.lines[i].x], y: [...this.lines[i].y],
      line: { color: theme.models[m.key], width: 2 },
    }));
    traces.push({
      type: "scatter", mode: "lines", x: [0, data.steps],
      y: [data.baseline, data.baseline], line: { color: theme.muted, width: 1.5, dash: "dash" },
    });
    data.models.forEach((m, i) => traces.push({
      type: "scatter", mode: "markers", showlegend: false, yaxis: "y2",
      x: [...this.clips[i].x], y: [...this.clips[i].y],
      marker: { symbol: "line-ns-open", size: 9, color: theme.models[m.key], line: { width: 1.2 } },
    }));
    traces.forEach((trace, i) => Object.assign(trace, words[i]));
    this.pending.map.clear();
    const n = data.models.length;
    Plotly.react(this.el, traces, baseLayout(theme, {
      margin: { l: 64, r: 18, t: 10, b: 46 },
      xaxis: axis(theme, {
        range: [0, data.steps], zeroline: false, anchor: "free", position: 0, title: { text: axes.xaxis },
      }),
      yaxis: axis(theme, {
        type: "log", autorange: true, exponentformat: "power", domain: clipOn ? [0.2, 1] : [0, 1],
        title: { text: axes.yaxis },
      }),
      yaxis2: axis(theme, {
        domain: [0, 0.12], range: [n - 0.5, -0.5], showline: false, showgrid: false, zeroline: false, fixedrange: true,
        anchor: "x", showticklabels: false, ticks: "", visible: clipOn, title: { text: axes.yaxis2, font: { size: 10 }, standoff: 4 },
      }),
    }), config("training-loss"));
  }

  relabel() {
    if (this.data && !this.rebuild) relabelPlot(this.el, this.texts());
  }

  update() {
    this.pending.extend(this.el);
  }
}

/** One heatmap of log10 ‖∂L/∂h_t‖ over (training step × t) for one model. */
class FlowMapRow extends Panel {
  constructor(chart, model) {
    super(document.createElement("div"));
    this.chart = chart;
    this.model = model;
    this.wrap = document.createElement("div");
    this.wrap.className = "heat-row";
    this.wrap.dataset.model = model.key;
    const label = document.createElement("p");
    label.className = "heat-label";
    const sw = document.createElement("span");
    sw.className = "swatch";
    label.append(sw, model.label);
    this.el.className = "chart heat-chart";
    this.el.setAttribute("role", "img");
    this.wrap.append(label, this.el);
    this.label();
    this.x = [];
    this.z = chart.data.profileT.map(() => []);
  }

  /** The row's own words (the aria-label); the chart's are in texts(). */
  label() {
    this.el.setAttribute("aria-label", t("train.flow.map.aria", { model: this.model.label }));
  }

  texts() {
    const last = this.chart.rows.at(-1) === this;
    return {
      traces: [{ hovertemplate: hover(t("train.flow.hover", { step: "%{x}", t: "%{y}", value: "%{z:.2f}" })) }],
      axes: { xaxis: last ? t("train.axis.step") : "" },
    };
  }

  relabel() {
    this.label();
    if (!this.rebuild) relabelPlot(this.el, this.texts());
  }

  progress(e) {
    this.x.push(e.step);
    e.grad_norm.forEach((g, k) => {
      const v = typeof g === "number" && g > 0 && Number.isFinite(g) ? Math.log10(g) : null;
      this.z[k].push(v);
      if (v !== null) this.chart.widen(v);
    });
    this.dirty = true;
  }

  layout() {
    const { data, theme } = this.chart;
    const last = this.chart.rows.at(-1) === this;
    const bottom = last ? 40 : 6;
    return baseLayout(theme, {
      height: 132 + bottom,
      showlegend: false,
      margin: { l: 64, r: 96, t: 4, b: bottom },
      xaxis: axis(theme, {
        range: [0, data.steps], zeroline: false, showgrid: false, showticklabels: last,
        ticks: last ? "outside" : "", title: { text: this.texts().axes.xaxis },
      }),
      yaxis: axis(theme, { showgrid: false, zeroline: false, nticks: 4, title: { text: "t", standoff: 4 } }),
    });
  }

  build() {
    const { data, theme } = this.chart;
    Plotly.react(this.el, [{
      type: "heatmap", x: this.x, y: data.profileT, z: this.z, hoverongaps: false,
      colorscale: theme.sequential, ...this.chart.zRange(),
      colorbar: {
        thickness: 9, len: 1, x: 1.01, xanchor: "left", xpad: 0, outlinewidth: 0, nticks: 4, ticklabelposition: "outside",
        tickfont: { size: 9, color: theme.muted },
        title: { text: "log<sub>10</sub>‖∂L/∂h<sub>t</sub>‖", side: "right", font: { size: 9, color: theme.muted } },
      },
      ...this.texts().traces[0],
    }], this.layout(), config(`gradient-flow-${this.model.key}`));
  }

  update() {
    Plotly.restyle(this.el, { x: [this.x], z: [this.z], ...arrays(this.chart.zRange()) }, [0]);
  }
}

const arrays = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, [v]]));

/** The heatmaps of every model, on one colour scale. */
export class FlowMaps {
  constructor(el) {
    this.el = el;
    this.rows = [];
  }

  get panels() {
    return this.rows;
  }

  begin(data, theme) {
    this.data = data;
    this.theme = theme;
    this.lo = Infinity;
    this.hi = -Infinity;
    for (const row of this.rows) Plotly.purge(row.el);
    this.rows = data.models.map((m) => new FlowMapRow(this, m));
    this.el.replaceChildren(...this.rows.map((r) => r.wrap));
    for (const row of this.rows) row.invalidate();
  }

  widen(v) {
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  zRange() {
    return this.hi >= this.lo ? { zauto: false, zmin: this.lo, zmax: this.hi > this.lo ? this.hi : this.lo + 1 }
      : { zauto: true };
  }

  progress(e) {
    this.rows[e.model]?.progress(e);
    // a wider colour range must reach every row
    for (const row of this.rows) row.dirty = true;
  }

  setTheme(theme) {
    this.theme = theme;
    for (const row of this.rows) row.invalidate();
  }

  relabel() {
    for (const row of this.rows) row.relabel();
  }

  clear() {
    for (const row of this.rows) Plotly.purge(row.el);
    this.rows = [];
    this.el.replaceChildren();
  }
}

/** The held-out metric per model against the baseline. */
export class MetricChart extends Panel {
  begin(data, theme) {
    this.data = data;
    this.theme = theme;
    this.lines = data.models.map(() => ({ x: [], y: [] }));
    this.pending = new Pending();
    this.invalidate();
  }

  eval(e) {
    const y = finiteOrNull(e.value);
    this.lines[e.model].x.push(e.step);
    this.lines[e.model].y.push(y);
    this.pending.push(e.model, e.step, y);
    this.dirty = true;
  }

  setTheme(theme) {
    this.theme = theme;
    if (this.data) this.invalidate();
  }

  texts() {
    const { data } = this;
    const mse = data.metric === "mse";
    // Plotly formats the hovered value: "%{y:.4g}" for MSE, "%{y:.1%}" (its own per cent) for accuracy
    const value = mse ? t("train.metric.mse", { value: "%{y:.4g}" })
      : t("train.metric.accuracy", { value: "%{y:.1%}" });
    return {
      traces: [
        ...data.models.map((m) => ({
          name: m.label, hovertemplate: hover(t("train.metric.hover", { model: m.label, step: "%{x}", metric: value })),
        })),
        {
          name: t("train.metric.baseline"),
          hovertemplate: hover(t("train.metric.baseline.hover", {
            metric: metricText(data.metric, data.metricBaseline),
          })),
        },
      ],
      axes: { xaxis: t("train.axis.step"), yaxis: mse ? t("train.metric.axis.mse") : t("train.metric.axis.accuracy") },
    };
  }

  build() {
    const { data, theme } = this;
    const { traces: words, axes } = this.texts();
    const mse = data.metric === "mse";
    const traces = data.models.map((m, i) => ({
      type: "scatter", mode: "lines+markers", x: [...this.lines[i].x], y: [...this.lines[i].y],
      line: { color: theme.models[m.key], width: 2 }, marker: { size: 5 },
    }));
    traces.push({
      type: "scatter", mode: "lines", x: [0, data.steps],
      y: [data.metricBaseline, data.metricBaseline], line: { color: theme.muted, width: 1.5, dash: "dash" },
    });
    traces.forEach((trace, i) => Object.assign(trace, words[i]));
    this.pending.map.clear();
    Plotly.react(this.el, traces, baseLayout(theme, {
      margin: { l: 64, r: 18, t: 10, b: 46 },
      xaxis: axis(theme, { range: [0, data.steps], zeroline: false, title: { text: axes.xaxis } }),
      yaxis: axis(theme, mse
        ? { type: "log", autorange: true, exponentformat: "power", title: { text: axes.yaxis } }
        : { range: [0, 1.02], tickformat: ".0%", title: { text: axes.yaxis } }),
    }), config("held-out-metric"));
  }

  relabel() {
    if (this.data && !this.rebuild) relabelPlot(this.el, this.texts());
  }

  update() {
    this.pending.extend(this.el);
  }
}

/** The number of a metric: "0.0003" / "99.2 %" */
export function metricValue(metric, value) {
  if (value === null || value === undefined) return "—";
  if (metric === "mse") return fmt(value, 3);
  return t("train.percent", { value: Number((100 * value).toFixed(1)) });
}

/** The metric with its name: "MSE 0.0003" / "accuracy 99.2 %" */
export function metricText(metric, value) {
  if (value === null || value === undefined) return "—";
  const key = metric === "mse" ? "train.metric.mse" : "train.metric.accuracy";
  return t(key, { value: metricValue(metric, value) });
}

/** One card per model: live numbers while training, the result in words at the end. The cards
 * keep what they were told (the `done` event, or why the training ended early), so render()
 * can say it again in another language. */
export class TrainCards {
  constructor(el) {
    this.el = el;
    this.cards = [];
  }

  begin(data) {
    this.data = data;
    this.done = null;
    this.reason = null;
    this.cards = data.models.map((m) => {
      const card = document.createElement("article");
      card.className = "train-card";
      card.dataset.model = m.key;
      const h = document.createElement("h3");
      const sw = document.createElement("span");
      sw.className = "swatch";
      const chip = document.createElement("span");
      chip.className = "chip";
      h.append(sw, m.label, chip);
      const live = document.createElement("p");
      live.className = "live";
      const verdict = document.createElement("p");
      verdict.className = "verdict";
      card.append(h, live, verdict);
      return { card, chip, live, verdict };
    });
    this.el.replaceChildren(...this.cards.map((c) => c.card));
    this.render();
  }

  /** Live numbers (cheap; called once per frame). */
  sync() {
    const { data } = this;
    if (!data) return;
    data.models.forEach((m, i) => {
      const l = data.last[i];
      const parts = [t("train.card.live.step", { step: l.step }), t("train.card.live.loss", { loss: fmt(l.loss) })];
      if (l.evalStep !== null) {
        parts.push(t("train.card.live.eval", { metric: metricText(data.metric, l.evalValue), step: l.evalStep }));
      }
      if (data.config.clip !== null) {
        const reports = Math.ceil(l.step / data.progressEvery);
        parts.push(t("train.card.live.clipped", { clipped: l.clipped, reports }));
      }
      const text = parts.join(" · ");
      if (this.cards[i].live.textContent !== text) this.cards[i].live.textContent = text;
    });
  }

  /** The `done` event: "LSTM: MSE 0.0003 vs baseline 0.167 — solved". */
  finish(done) {
    this.done = done;
    this.render();
  }

  /** Stopped ("stopped") or failed ("broken"): the last held-out metric, marked as such. */
  interrupt(reason) {
    if (!this.data) return;
    this.reason = reason;
    this.render();
  }

  /** Chips and verdicts in the current language. */
  render() {
    const { data, done, reason } = this;
    if (!data) return;
    this.cards.forEach((c, i) => {
      const r = done?.models[i];
      if (r) {
        const values = {
          model: r.label, metric: metricText(r.metric, r.value), baseline: metricValue(r.metric, r.baseline),
        };
        if (r.solved) c.verdict.textContent = t("train.verdict.solved", values);
        else if (r.metric === "mse") c.verdict.textContent = t("train.verdict.unsolved.mse", values);
        else c.verdict.textContent = t("train.verdict.unsolved.accuracy", values);
        c.chip.textContent = r.solved ? t("train.card.chip.solved") : t("train.card.chip.unsolved");
        c.card.classList.toggle("is-solved", r.solved);
        c.card.classList.add("is-final");
      } else if (reason) {
        const m = data.models[i];
        const l = data.last[i];
        const stopped = reason === "stopped";
        const early = l.evalStep === null;
        const values = {
          model: m.label, metric: metricText(data.metric, l.evalValue), step: l.evalStep,
          baseline: metricValue(data.metric, data.metricBaseline),
        };
        c.chip.textContent = stopped ? t("train.card.chip.stopped") : t("train.card.chip.broken");
        if (stopped) {
          c.verdict.textContent = early ? t("train.verdict.stopped.early", values) : t("train.verdict.stopped", values);
        } else {
          c.verdict.textContent = early ? t("train.verdict.broken.early", values) : t("train.verdict.broken", values);
        }
      } else {
        c.chip.textContent = t("train.card.chip.training");
        c.verdict.textContent = "";
      }
    });
    this.sync();
  }

  clear() {
    this.data = null;
    this.cards = [];
  }
}
