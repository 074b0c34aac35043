// The Train tab's loss: per model on a log axis, the task's baseline dashed, and, when the
// training clips its gradient, a strip of clip ticks below (one per progress report in which
// the gradient was clipped); without clipping the loss has the whole height.
//
// Pinned trainings (compare.js, setPins) come last, lighter and dashed: {kind: "pin", pin, model}.
//
// Traces' meta: {kind: "loss", model}, {kind: "baseline"}, {kind: "clipped", model}.

import { fmt } from "../format.js";
import { Panel } from "../frame-budget.js";
import { t } from "../i18n.js";
import { baseLayout, config } from "../plot-style.js";
import { Pending, Plotly, axis, finiteOrNull, hover, relabelPlot } from "./common.js";

export class LossChart extends Panel {
  /** Pinned trainings to draw under this one: [{index, name, data: {models: [{key, label, x, y}]}}]. */
  setPins(pins) {
    this.pins = pins;
    if (this.data) this.invalidate();
  }

  /** The loss curves so far, per model ({x: steps, y: losses}): what a pin keeps. */
  series() {
    return this.lines.map((l) => ({ x: [...l.x], y: [...l.y] }));
  }

  begin(data, theme) {
    this.data = data;
    this.theme = theme;
    const n = data.models.length;
    this.lines = data.models.map(() => ({ x: [], y: [] }));
    this.clips = data.models.map(() => ({ x: [], y: [] }));
    this.pending = new Pending();
    this.clipOn = data.config.clip !== null && data.config.clip !== undefined;
    this.clipTrace = (i) => n + 1 + i;
    this.invalidate();
  }

  /** A `progress` event of the training stream. */
  progress(e) {
    const y = finiteOrNull(e.loss);
    this.lines[e.model].x.push(e.step);
    this.lines[e.model].y.push(y);
    this.pending.push(e.model, e.step, y);
    if (this.clipOn && (e.clipped || e.clipped_fraction > 0)) {
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
        ...(this.clipOn ? data.models : []).map((m) => ({
          name: t("train.loss.clipped.name", { model: m.label }),
          hovertemplate: hover(t("train.loss.clipped.hover", { model: m.label, step: "%{x}" })),
        })),
      ],
      axes: { xaxis: t("train.axis.step"), yaxis: t("train.loss.axis"),
        ...(this.clipOn ? { yaxis2: t("train.loss.clipped.axis") } : {}) },
    };
  }

  build() {
    const { data, theme } = this;
    const { traces: words, axes } = this.texts();
    const { clipOn } = this;
    const traces = data.models.map((m, i) => ({
      type: "scatter", mode: "lines", x: [...this.lines[i].x], y: [...this.lines[i].y],
      line: { color: theme.models[m.key], width: 2 }, meta: { kind: "loss", model: m.key },
    }));
    traces.push({
      type: "scatter", mode: "lines", x: [0, data.steps],
      y: [data.baseline, data.baseline], line: { color: theme.muted, width: 1.5, dash: "dash" },
      meta: { kind: "baseline" },
    });
    if (clipOn) data.models.forEach((m, i) => traces.push({
      type: "scatter", mode: "markers", showlegend: false, yaxis: "y2",
      x: [...this.clips[i].x], y: [...this.clips[i].y],
      marker: { symbol: "line-ns-open", size: 9, color: theme.models[m.key], line: { width: 1.2 } },
      meta: { kind: "clipped", model: m.key },
    }));
    traces.forEach((trace, i) => Object.assign(trace, words[i]));
    const dashes = ["longdash", "dashdot", "longdashdot", "6px,2px,1px,2px"];
    for (const pin of this.pins || []) {
      for (const m of pin.data.models) {
        const name = `${m.label} · ${pin.name}`;
        traces.push({ type: "scatter", mode: "lines", x: m.x, y: m.y.map(finiteOrNull), name,
          line: { color: theme.models[m.key], width: 1.6, dash: dashes[pin.index % dashes.length] }, opacity: 0.6,
          hovertemplate: hover(t("train.loss.hover", { model: name, step: "%{x}", loss: "%{y:.4g}" })),
          meta: { kind: "pin", pin: pin.index, model: m.key } });
      }
    }
    this.pending.drop();
    const n = data.models.length;
    const strip = clipOn ? {
      yaxis2: axis(theme, {
        domain: [0, 0.12], range: [n - 0.5, -0.5], showline: false, showgrid: false, zeroline: false, fixedrange: true,
        anchor: "x", showticklabels: false, ticks: "", title: { text: axes.yaxis2, font: { size: 10 }, standoff: 4 },
      }),
    } : {};
    // a pinned training of more steps widens the range to its end
    const pinnedEnds = (this.pins || []).flatMap((p) => p.data.models.map((m) => m.x.at(-1) ?? 0));
    const end = Math.max(data.steps, ...pinnedEnds);
    Plotly.react(this.el, traces, baseLayout(theme, {
      margin: { l: 64, r: 18, t: 10, b: 46 },
      xaxis: axis(theme, {
        range: [0, end], zeroline: false, anchor: "free", position: 0, title: { text: axes.xaxis },
      }),
      yaxis: axis(theme, {
        type: "log", autorange: true, exponentformat: "power", domain: clipOn ? [0.2, 1] : [0, 1],
        title: { text: axes.yaxis },
      }),
      ...strip,
    }), config("training-loss"));
  }

  relabel() {
    if (this.data && !this.rebuild) relabelPlot(this.el, this.texts());
  }

  update() {
    this.pending.extend(this.el);
  }
}
