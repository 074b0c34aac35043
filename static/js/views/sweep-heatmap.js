// The Sweep tab's heatmap over the sweep's first two dimensions: per cell the metric's median
// over the seeds (a success rate: their mean), filled as results arrive; where the theory has a
// line in this plane (the mean-field critical line χ₁ = 1 over σ_w × σ_b), the line on top. A
// click on a cell opens its typical run (the seed nearest the cell's number).
//
// Traces' meta: {kind: "cells", metric}, {kind: "theory", name}. Each cell's customdata is the
// index of its typical result in the sweep's results (−1: none yet).

import { fmt } from "../format.js";
import { t } from "../i18n.js";
import { baseLayout, config } from "../plot-style.js";
import { Plotly, SweepPanel, axis, hover } from "./common.js";

/** How a metric is coloured: diverging around the value that separates vanishing from growing
 * (a factor of 1 per step, a ratio of 10⁰), or sequential with a fixed range. */
const SCALES = {
  decay_rate: { diverging: true, zmid: 1 },
  log10_grad_ratio: { diverging: true, zmid: 0 },
  success_rate: { zmin: 0, zmax: 1 },
};

export class SweepHeatmap extends SweepPanel {
  /**
   * A sweep on screen. `metric` the result's metric shown; `theory`: lines of the theory
   * [{name, x: {path, values}, y: {path, values}}], drawn when the heatmap's axes are theirs.
   */
  begin(data, theme, { metric, theory = [] }) {
    Object.assign(this, { data, theme, metric, theory });
    this.invalidate();
  }

  /** Whether the sweep has two dimensions to draw. */
  get drawable() {
    return !!this.data && this.data.dims.length >= 2;
  }

  /** The cells' numbers now (the sweep's heat(metric)) and the axes' coordinates. */
  cells() {
    const cells = this.data.heat(this.metric);
    return { ...cells, x: cells.dx.axis, y: cells.dy.axis };
  }

  /** The theory's lines that lie in this plane, as {name, x, y} in the axes' coordinates. */
  theoryLines(dx, dy) {
    const lines = [];
    for (const line of this.theory) {
      if (line.x.path === dx.path && line.y.path === dy.path) lines.push({ name: line.name, x: line.x.values, y: line.y.values });
      else if (line.x.path === dy.path && line.y.path === dx.path) lines.push({ name: line.name, x: line.y.values, y: line.x.values });
    }
    return lines;
  }

  build() {
    if (!this.drawable) {
      this.purge();
      return;
    }
    const { data, theme, metric } = this;
    const c = this.cells();
    const index = new Map(data.results.map((r, k) => [r, k]));
    const customdata = c.pick.map((row) => row.map((r) => (r ? index.get(r) : -1)));
    const text = c.z.map((row, j) => row.map((v, i) => {
      const where = `${c.dx.short} = ${c.dx.labels[i]}<br>${c.dy.short} = ${c.dy.labels[j]}`;
      const n = c.n[j][i];
      if (!n) return `${where}<br>${t("sweep.heat.hover.none")}`;
      const seeds = n === 1 ? t("sweep.hover.seeds.one", { n }) : t("sweep.hover.seeds.many", { n });
      const value = v === null ? t("sweep.hover.not_finite") : fmt(v);
      const censored = c.censored[j][i] ? `<br>${t("sweep.hover.censored", { n: c.censored[j][i] })}` : "";
      return `${where}<br>${t(`sweep.metric.${metric}`)} = ${value} (${seeds})${censored}`;
    }));
    const scale = SCALES[metric] ?? {};
    const cells = {
      type: "heatmap", x: c.x.coords, y: c.y.coords, z: c.z, customdata, text, hoverongaps: false,
      colorscale: scale.diverging ? theme.diverging : theme.sequential, xgap: 1, ygap: 1,
      ...(scale.zmid !== undefined ? { zmid: scale.zmid } : {}),
      ...(scale.zmin !== undefined ? { zmin: scale.zmin, zmax: scale.zmax } : {}),
      colorbar: { thickness: 10, outlinewidth: 0, tickfont: { size: 10, color: theme.muted },
        title: { text: t(`sweep.metric.${metric}.short`), side: "right", font: { size: 11, color: theme.muted } } },
      hovertemplate: hover("%{text}"), meta: { kind: "cells", metric },
    };
    const traces = [cells];
    for (const line of this.theoryLines(c.dx, c.dy)) {
      traces.push({
        type: "scatter", mode: "lines", x: line.x, y: line.y, name: t(`sweep.theory.${line.name}`),
        line: { color: theme.text, width: 2.5, dash: "dash" }, hovertemplate: hover(t(`sweep.theory.${line.name}.hover`)),
        meta: { kind: "theory", name: line.name },
      });
    }
    Plotly.react(this.el, traces, baseLayout(theme, {
      margin: { l: 64, r: 12, t: 10, b: 50 },
      showlegend: traces.length > 1,
      xaxis: axis(theme, { ...c.x.layout, zeroline: false, showgrid: false, automargin: true, title: { text: c.dx.label } }),
      yaxis: axis(theme, { ...c.y.layout, zeroline: false, showgrid: false, automargin: true, title: { text: c.dy.label } }),
    }), config(`sweep-heatmap-${metric}`));
    if (!this.bound) {
      this.bound = true;
      this.el.on("plotly_click", (ev) => {
        const k = ev.points?.[0]?.customdata;
        if (typeof k === "number" && k >= 0 && this.data?.results[k]) this.onOpen(this.data.results[k]);
      });
    }
  }

  update() {
    this.build();
  }
}
