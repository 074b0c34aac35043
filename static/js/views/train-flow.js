// The Train tab's gradient flow: one heatmap per model of log10 ‖∂L/∂h_t‖ over (training step ×
// t), all on one colour scale; each grows a column per progress report (a restyle of its matrix).
//
// Traces' meta: {kind: "flow-map", model}.

import { Panel } from "../frame-budget.js";
import { log10OrNull } from "../format.js";
import { t } from "../i18n.js";
import { baseLayout, config } from "../plot-style.js";
import { Plotly, axis, hover, react, relabelPlot } from "./common.js";

/** One model's heatmap. */
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
    this.el.setAttribute("role", "figure");
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
      const v = log10OrNull(g);
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
    // Plotly's heatmap throws in its redraw (a resize, a tab switch) when it has no column yet:
    // the map is drawn from its first column on
    if (!this.x.length) {
      this.rebuild = true;
      return;
    }
    react(this.el, [{
      type: "heatmap", x: this.x, y: data.profileT, z: this.z, hoverongaps: false,
      colorscale: theme.sequential, ...this.chart.zRange(),
      colorbar: {
        thickness: 9, len: 1, x: 1.01, xanchor: "left", xpad: 0, outlinewidth: 0, nticks: 4, ticklabelposition: "outside",
        tickfont: { size: 9, color: theme.muted },
        title: { text: "log<sub>10</sub>‖∂L/∂h<sub>t</sub>‖", side: "right", font: { size: 9, color: theme.muted } },
      },
      meta: { kind: "flow-map", model: this.model.key },
      ...this.texts().traces[0],
    }], this.layout(), config(`gradient-flow-${this.model.key}`));
  }

  update() {
    Plotly.restyle(this.el, { x: [this.x], z: [this.z], ...arrays(this.chart.zRange()) }, [0]);
  }
}

/** {a: 1} → {a: [1]}: restyle values for one trace. */
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

  /** A `progress` event of the training stream. */
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
