// Heatmaps, units × time, one panel per row (each model, and the LSTM's c_t): hidden states fill
// left to right in the forward sweep, log10|∂L/∂h_t| right to left in the backward sweep. Cells
// a colour scale cannot show get a categorical trace on top, drawn only when there are any:
// overflow (null) and, for gradients, underflow to exactly 0.
//
// A row's matrices are typed (NaN where there is nothing to draw), and Plotly gets only the
// columns filled so far: a heatmap costs per cell on every redraw, filled or not, so a sweep's
// redraws cost in proportion to how far it has come, and the first draw of a run almost nothing.
//
// Traces' meta: {kind: "values", model, field} and {kind: "special", model, field}, `field`
// being the run's field the row shows (hidden, cell_state, grads).

import { MODELS, modelKey } from "../catalogue.js";
import { Panel } from "../frame-budget.js";
import { rich } from "../format.js";
import { nodes, t } from "../i18n.js";
import { baseLayout, config } from "../plot-style.js";
import { NO_OVERFLOW_CHECK, Plotly, axis, place, react, seq } from "./common.js";

const escapeHtml = (s) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

class HeatRow extends Panel {
  constructor(chart, spec) {
    super(document.createElement("div"));
    this.chart = chart;
    Object.assign(this, spec);
    this.wrap = document.createElement("div");
    this.wrap.className = "heat-row";
    this.wrap.dataset.model = spec.model;
    if (spec.yours !== null && spec.yours !== undefined) this.wrap.dataset.yours = String(spec.yours);
    const label = document.createElement("p");
    label.className = "heat-label";
    const sw = document.createElement("span");
    sw.className = "swatch";
    this.labelText = document.createElement("span");
    label.append(sw, this.labelText);
    this.el.className = "chart heat-chart";
    this.el.setAttribute("role", "figure");
    this.wrap.append(label, this.el);
    this.relabel();
  }

  /** The row's label and the words of its cells in the current language. */
  relabel() {
    this.labelText.replaceChildren(...this.label());
    this.el.setAttribute("aria-label", t("explore.heat.chart", { label: this.labelText.textContent }));
    if (!this.special) return;
    if (this.text) {
      const words = [t("explore.heat.underflow"), t("explore.heat.overflow")];
      this.special.forEach((row, u) => row.forEach((v, k) => {
        if (!Number.isNaN(v)) this.text[u][k] = words[v];
      }));
    }
    this.invalidate();
  }

  reset(run) {
    const { T } = run;
    const { H } = this;
    // the value of each cell, and its special code: 0 underflow, 1 overflow (NaN: none)
    if (this.z?.length === H && this.z[0].length === T) {
      for (const row of [...this.z, ...this.special]) row.fill(NaN); // the last run's size: reused
    } else {
      this.z = seq(H, () => new Float64Array(T).fill(NaN));
      this.special = seq(H, () => new Float64Array(T).fill(NaN));
    }
    this.text = null; // the special cells' hover words, made with the first of them
    this.nSpecial = 0;
    this.invalidate();
  }

  /** Write cell (u, k): its value (NaN: not drawn) and special code (NaN: none). */
  set(u, k, value, special, text) {
    if (Number.isNaN(this.special[u][k]) !== Number.isNaN(special)) this.nSpecial += Number.isNaN(special) ? -1 : 1;
    this.z[u][k] = value;
    this.special[u][k] = special;
    if (text !== null && !this.text) {
      const { T } = this.chart.run;
      this.text = seq(this.H, () => new Array(T).fill(null));
    }
    if (this.text) this.text[u][k] = text;
  }

  traces() {
    const { run, theme, kind } = this.chart;
    const { lo, hi } = this.chart.filled();
    const x = this.chart.xs.subarray(lo, hi);
    const y = seq(this.H, (k) => k + 1);
    const columns = (rows) => rows.map((row) => row.subarray(lo, hi));
    const what = kind === "hidden" ? (this.log ? "log₁₀(1 + h)" : this.field === "cell_state" ? "c" : "h") : "log₁₀|∂L/∂h|";
    const colorbar = {
      thickness: 9, len: 1, x: 1.02, xanchor: "left", xpad: 0, outlinewidth: 0, nticks: 4, ...NO_OVERFLOW_CHECK,
      tickfont: { size: 9, color: theme.muted },
    };
    const meta = { model: this.model, field: this.field };
    const main = {
      type: "heatmap", x, y, z: columns(this.z), hoverongaps: false, colorbar,
      hovertemplate: `${t("explore.heat.hover")}<br>${what} = %{z:.3g}<extra></extra>`,
      meta: { kind: "values", ...meta },
    };
    if (kind === "grads") {
      Object.assign(main, { colorscale: theme.sequential, ...this.chart.zRange() });
    } else if (this.log) {
      Object.assign(main, { colorscale: [[0, theme.surface], [1, theme.diverging[2][1]]], zmin: 0 });
      colorbar.title = { text: "log<sub>10</sub>(1+h)", side: "right", font: { size: 9, color: theme.muted } };
    } else if (this.bounded) {
      Object.assign(main, { colorscale: theme.diverging, zmin: -1, zmax: 1 });
    } else {
      Object.assign(main, { colorscale: theme.diverging, zmid: 0 });
    }
    const special = {
      type: "heatmap", x, y, z: columns(this.special), text: this.text?.map((row) => row.slice(lo, hi)),
      hoverongaps: false, visible: this.nSpecial > 0,
      zmin: 0, zmax: 1, showscale: false,
      colorscale: [[0, theme.underflow], [0.5, theme.underflow], [0.5, theme.overflow], [1, theme.overflow]],
      hovertemplate: `${t("explore.heat.hover")}<br>%{text}<extra></extra>`,
      meta: { kind: "special", ...meta },
    };
    return [main, special];
  }

  layout() {
    const { run, theme } = this.chart;
    const last = this.chart.rows.at(-1) === this;
    const rowPx = Math.max(52, Math.min(110, this.H * 4));
    const bottom = last ? 40 : 6;
    return baseLayout(theme, {
      height: rowPx + 4 + bottom,
      showlegend: false,
      margin: { l: 46, r: 62, t: 4, b: bottom },
      uirevision: `${this.key}-${run.T}-${this.H}`,
      xaxis: axis(theme, {
        range: [0.5, run.T + 0.5], zeroline: false, showgrid: false, showticklabels: last,
        ticks: last ? "outside" : "", title: { text: last ? t("explore.axis.t") : "" },
      }),
      yaxis: axis(theme, {
        autorange: "reversed", showgrid: false, zeroline: false, ticks: "", nticks: 3,
        title: { text: t("explore.heat.unit"), font: { size: 10 }, standoff: 4 },
      }),
    });
  }

  build() {
    const { kind } = this.chart;
    react(this.el, this.traces(), this.layout(), config(`${kind === "hidden" ? "hidden" : "gradients"}-${this.key}`));
  }

  /** The filled columns are new arrays each time: Plotly.react redraws the traces (as a restyle
   * of the matrices would) and keeps the rest. */
  update() {
    this.build();
  }
}

export class HeatmapChart {
  /** @param kind "hidden" | "grads" */
  constructor(container, kind) {
    this.container = container;
    this.kind = kind;
    this.run = null;
    this.rows = [];
    this.panels = [];
    this.byKey = new Map(); // row panels kept across runs: same rows, same divs
  }

  begin(run, theme) {
    this.run = run;
    this.theme = theme;
    const specs = [];
    for (const m of run.models) {
      const model = modelKey(m);
      const i = m.index;
      const H = m.hidden_size ?? run.H;
      const key = `${i}-${model}-${m.yours ?? ""}`; // two models of one cell (yours and the lab's): two rows
      const { yours } = m;
      if (this.kind === "hidden") {
        // relu states are unbounded (they explode): coloured by log10(1 + h), h ≥ 0
        specs.push({ key, model, i, H, yours, field: "hidden", label: () => rich(`${m.label} · h_t`),
          log: m.activation === "relu", bounded: MODELS[model].bounded });
        if (m.cell === "lstm") {
          // "LSTM · cell state c_t"; a stacked or uploaded one's named in full
          const cell = () => (m.label === MODELS[model].label ? nodes("explore.heat.cell")
            : nodes("explore.heat.cell.of", { label: escapeHtml(m.label) }));
          specs.push({ key: `${key}-c`, model, i, H, yours, field: "cell_state", label: cell,
            log: false, bounded: false });
        }
      } else {
        specs.push({ key, model, i, H, yours, field: "grads", label: () => rich(`${m.label} · ∂L/∂h_t`) });
      }
    }
    const keep = new Set(specs.map((s) => s.key));
    for (const [key, row] of this.byKey) {
      if (!keep.has(key)) {
        row.purge();
        this.byKey.delete(key);
      }
    }
    this.rows = specs.map((spec) => {
      let row = this.byKey.get(spec.key);
      if (!row) this.byKey.set(spec.key, (row = new HeatRow(this, spec)));
      else {
        Object.assign(row, spec);
        row.relabel(); // the unit shown may have changed
      }
      row.reset(run);
      return row;
    });
    place(this.container, this.rows.map((r) => r.wrap));
    this.panels = this.rows;
    this.shown = 0;
    this.xs = Float64Array.from({ length: run.T }, (_, k) => k + 1);
    this.range = { min: Infinity, max: -Infinity };
  }

  /** The columns written so far, [lo, hi) of 0 … T − 1: hidden states fill from the left,
   * gradients from the right. */
  filled() {
    const T = this.run.T;
    return this.kind === "hidden" ? { lo: 0, hi: this.shown } : { lo: T - this.shown, hi: T };
  }

  /** The shared colour range of the gradient rows, so that models compare. */
  zRange() {
    const { min, max } = this.range;
    return min <= max ? { zmin: min, zmax: max === min ? min + 1 : max, zauto: false } : { zauto: true };
  }

  /** Write column `at` (t, 1-based) of every row, or clear it. */
  column(at, clear) {
    const { run } = this;
    const k = at - 1;
    const words = [t("explore.heat.underflow"), t("explore.heat.overflow")]; // by the code in `special`
    for (const r of this.rows) {
      const source = r.field === "grads" ? run.bwd[r.i].grads : run.fwd[r.i][r.field];
      const v = clear ? null : source[k];
      for (let u = 0; u < r.H; u++) {
        let value = NaN;
        let special = NaN;
        let text = null;
        if (v) {
          const x = v[u];
          if (x === null) {
            special = 1;
            text = words[1];
          } else if (this.kind === "grads") {
            if (x === 0) {
              special = 0;
              text = words[0];
            } else {
              value = Math.log10(Math.abs(x));
              if (value < this.range.min) this.range.min = value;
              if (value > this.range.max) this.range.max = value;
            }
          } else {
            value = r.log ? Math.log10(1 + Math.max(0, x)) : x;
          }
        }
        r.set(u, k, value, special, text);
      }
      r.dirty = true;
    }
  }

  recomputeRange() {
    let min = Infinity;
    let max = -Infinity;
    for (const r of this.rows) {
      for (const row of r.z) {
        for (const v of row) {
          if (Number.isNaN(v)) continue;
          if (v < min) min = v;
          if (v > max) max = v;
        }
      }
    }
    this.range = { min, max };
  }

  sync(p) {
    if (!this.run) return;
    const T = this.run.T;
    // hidden: columns 1..f; gradients: the b columns T..T−b+1
    const target = this.kind === "hidden" ? Math.min(p, T) : Math.max(0, p - T);
    if (target === this.shown) return;
    const col = (n) => (this.kind === "hidden" ? n : T - n + 1); // the n-th column written
    if (target > this.shown) {
      for (let n = this.shown + 1; n <= target; n++) this.column(col(n), false);
    } else {
      for (let n = this.shown; n > target; n--) this.column(col(n), true);
      if (this.kind === "grads") this.recomputeRange();
    }
    this.shown = target;
  }

  setTheme(theme) {
    this.theme = theme;
    for (const r of this.rows) r.invalidate();
  }

  relabel() {
    for (const r of this.rows) r.relabel();
  }

  clear() {
    for (const r of this.byKey.values()) r.purge();
    this.byKey.clear();
    this.rows = [];
    this.panels = [];
    this.container.replaceChildren();
    this.run = null;
  }
}
