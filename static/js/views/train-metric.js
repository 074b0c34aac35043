// The Train tab's held-out metric per model (MSE on a log axis, or accuracy) against the task's
// baseline, a point per evaluation.
//
// Traces' meta: {kind: "metric", model}, {kind: "baseline"}.

import { metricText } from "../format.js";
import { Panel } from "../frame-budget.js";
import { t } from "../i18n.js";
import { baseLayout, config } from "../plot-style.js";
import { Pending, Plotly, axis, finiteOrNull, hover, relabelPlot } from "./common.js";

export class MetricChart extends Panel {
  begin(data, theme) {
    this.data = data;
    this.theme = theme;
    this.lines = data.models.map(() => ({ x: [], y: [] }));
    this.pending = new Pending();
    this.invalidate();
  }

  /** An `eval` event of the training stream. */
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
      line: { color: theme.models[m.key], width: 2 }, marker: { size: 5 }, meta: { kind: "metric", model: m.key },
    }));
    traces.push({
      type: "scatter", mode: "lines", x: [0, data.steps],
      y: [data.metricBaseline, data.metricBaseline], line: { color: theme.muted, width: 1.5, dash: "dash" },
      meta: { kind: "baseline" },
    });
    traces.forEach((trace, i) => Object.assign(trace, words[i]));
    this.pending.drop();
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
