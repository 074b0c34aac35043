// Depth × time: ‖∂L/∂h_t‖ of every unit — every (layer, direction) of every model — at once, as
// a heatmap (one row per unit, the top layer at the top; colour: log₁₀, its scale labelled in
// powers of ten) and as lines on a log axis, so that the gradient is seen dying along time and
// along depth together.
//
// It fills in the backward sweep: at position p (b = p − T steps back), a forward direction
// shows t = T … T − b + 1 and a backward direction t = 1 … b — each direction's own way back
// through time (its recursion runs from t = T, or from t = 1). Values a log scale cannot show
// are cells of their own colour (0: underflow, null: overflow) and gaps in the lines.
//
// Traces' meta: {kind: "depth"} (the heatmap, rows in `rows`: [{model, layer, direction}]),
// {kind: "depth-special"}, {kind: "depth-line", model, layer, direction} (a line per unit).

import { modelKey, modelLabel, shortLabel, unitLabel } from "../catalogue.js";
import { fmt } from "../format.js";
import { Panel } from "../frame-budget.js";
import { t } from "../i18n.js";
import { baseLayout, config } from "../plot-style.js";
import { modelColour } from "../theme.js";
import { LOG_CLIP, NO_OVERFLOW_CHECK, axis, hover, react } from "./common.js";

const LAYER_DASH = ["solid", "dot", "dashdot", "longdash"]; // by depth below the top (several models)

/** The units of a run as rows, the top layer first within each model. */
function rowsOf(run) {
  const rows = [];
  for (const m of run.models) {
    for (let layer = m.num_layers; layer >= 1; layer--) {
      for (const direction of m.bidirectional ? ["forward", "backward"] : ["forward"]) {
        rows.push({ m, i: m.index, layer, direction, u: run.unit(m.index, layer, direction) });
      }
    }
  }
  return rows;
}

/** Whether step `at` (1..T) of a unit is shown b steps into the backward sweep. */
const shownAt = (direction, at, b, T) => (direction === "forward" ? at > T - b : at <= b);

class DepthHeat extends Panel {
  constructor(view, el) {
    super(el);
    this.view = view;
    this.el.setAttribute("role", "figure");
  }

  /** Each row's label: the unit ("layer 2/2 →") of a lone model, else the model and its unit in
   * few words ("LSTM · L2 →"); the hover names it in full. */
  label(row, narrow) {
    const { run } = this.view;
    if (run.M === 1 && run.stacked) return unitLabel(row.layer, row.direction, row.m.num_layers);
    return shortLabel(row.m, { layer: row.layer, direction: row.direction }, narrow ? 9 : 14);
  }

  build() {
    const { run, theme, rows, b } = this.view;
    const T = run.T;
    const x = Array.from({ length: T }, (_, k) => k + 1);
    const z = [];
    const special = [];
    const values = [];
    let min = Infinity;
    let max = -Infinity;
    let nSpecial = 0;
    for (const row of rows) {
      const g = row.u.bwd.grad_norm;
      const zr = new Array(T).fill(null);
      const sr = new Array(T).fill(null);
      const vr = new Array(T).fill(null);
      for (let k = 0; k < T; k++) {
        if (!shownAt(row.direction, k + 1, b, T)) continue;
        const v = g[k];
        if (v === null) {
          sr[k] = 1;
          nSpecial += 1;
        } else if (v === 0) {
          sr[k] = 0;
          nSpecial += 1;
        } else {
          const lv = Math.log10(v);
          zr[k] = lv;
          vr[k] = fmt(v);
          if (lv < min) min = lv;
          if (lv > max) max = lv;
        }
      }
      z.push(zr);
      special.push(sr);
      values.push(vr);
    }
    const narrow = this.el.clientWidth > 0 && this.el.clientWidth < 520; // a phone: shorter names
    const labels = rows.map((row) => this.label(row, narrow));
    const full = rows.map((row) => modelLabel(row.m, { layer: row.layer, direction: row.direction }));
    const text = rows.map((_, r) => values[r].map((v) => v ?? ""));
    const lo = Number.isFinite(min) ? Math.floor(min) : 0;
    const hi = Number.isFinite(max) ? Math.ceil(max) : 0;
    const step = Math.max(1, Math.ceil((hi - lo) / 5));
    const tickvals = [];
    for (let v = lo; v <= hi; v += step) tickvals.push(v);
    const y = rows.map((_, r) => r);
    const rowText = rows.map((_, r) => new Array(T).fill(full[r]));
    const main = {
      type: "heatmap", x, y, z, text, customdata: rowText, hoverongaps: false,
      colorscale: theme.sequential, zmin: Number.isFinite(min) ? min : 0, zmax: Number.isFinite(max) && max > min ? max : min + 1,
      colorbar: {
        thickness: 10, len: 1, x: 1.01, xanchor: "left", xpad: 0, outlinewidth: 0, ...NO_OVERFLOW_CHECK,
        tickvals, ticktext: tickvals.map((v) => `10<sup>${v}</sup>`), tickfont: { size: 10, color: theme.muted },
        title: { text: "‖∂L/∂h<sub>t</sub>‖", side: "right", font: { size: 10, color: theme.muted } },
      },
      hovertemplate: hover(`%{customdata}<br>t = %{x}<br>‖∂L/∂h<sub>t</sub>‖ = %{text}`),
      meta: { kind: "depth", rows: rows.map((row) => ({ model: modelKey(row.m), layer: row.layer, direction: row.direction })) },
    };
    const words = [t("explore.heat.underflow"), t("explore.heat.overflow")];
    const specialTrace = {
      type: "heatmap", x, y, z: special, customdata: rowText,
      text: special.map((row) => row.map((v) => (v === null ? "" : words[v]))),
      hoverongaps: false, visible: nSpecial > 0, zmin: 0, zmax: 1, showscale: false,
      colorscale: [[0, theme.underflow], [0.5, theme.underflow], [0.5, theme.overflow], [1, theme.overflow]],
      hovertemplate: hover("%{customdata}<br>t = %{x}<br>%{text}"),
      meta: { kind: "depth-special" },
    };
    const rowPx = rows.length > 8 ? 20 : 30;
    // a gap between two models' rows
    const shapes = rows.slice(1).map((row, r) => row.i !== rows[r].i && {
      type: "line", xref: "paper", x0: 0, x1: 1, y0: r + 0.5, y1: r + 0.5,
      line: { color: theme.surface, width: 3 },
    }).filter(Boolean);
    this.el.setAttribute("aria-label", t("explore.depth.chart"));
    react(this.el, [main, specialTrace], baseLayout(theme, {
      height: 28 + rows.length * rowPx + 44,
      showlegend: false,
      margin: { l: 10, r: 70, t: 8, b: 44 },
      uirevision: `depth-${T}-${rows.length}`,
      shapes,
      xaxis: axis(theme, { range: [0.5, T + 0.5], zeroline: false, showgrid: false, title: { text: t("explore.axis.t") } }),
      yaxis: axis(theme, {
        autorange: "reversed", showgrid: false, zeroline: false, ticks: "", tickvals: y, ticktext: labels,
        automargin: true, tickfont: { size: narrow ? 10 : 11, color: theme.text },
      }),
    }), config("depth-time"));
  }

  update() {
    this.build();
  }
}

class DepthLines extends Panel {
  constructor(view, el) {
    super(el);
    this.view = view;
    this.el.setAttribute("role", "figure");
  }

  build() {
    const { run, theme, rows, b } = this.view;
    const T = run.T;
    const one = run.M === 1;
    const traces = rows.map((row) => {
      const g = row.u.bwd.grad_norm;
      const x = [];
      const y = [];
      const ts = row.direction === "forward" ? { from: T, to: T - b + 1, step: -1 } : { from: 1, to: b, step: 1 };
      for (let at = ts.from; ts.step < 0 ? at >= ts.to : at <= ts.to; at += ts.step) {
        const v = g[at - 1];
        x.push(at);
        y.push(typeof v === "number" && v > 0 && Number.isFinite(v) ? v : null);
      }
      const below = row.m.num_layers - row.layer; // 0: the top layer
      const colour = one ? theme.layers[(row.layer - 1) % theme.layers.length] : modelColour(theme, row.m);
      const dash = one ? (row.direction === "backward" ? "dash" : "solid")
        : LAYER_DASH[below % LAYER_DASH.length];
      const unit = { layer: row.layer, direction: row.direction };
      const name = one && run.stacked ? unitLabel(row.layer, row.direction, row.m.num_layers) : shortLabel(row.m, unit);
      const hoverName = modelLabel(row.m, unit);
      return {
        type: "scatter", mode: "lines", name, x, y, connectgaps: false,
        line: { color: colour, dash, width: below === 0 ? 2.4 : 1.8 },
        opacity: !one && row.direction === "backward" ? 0.6 : 1,
        hovertemplate: hover(`${hoverName}<br>t = %{x}<br>‖∂L/∂h<sub>t</sub>‖ = %{y:.3e}`),
        meta: { kind: "depth-line", model: modelKey(row.m), layer: row.layer, direction: row.direction },
      };
    });
    this.el.setAttribute("aria-label", t("explore.depth.lines.chart"));
    react(this.el, traces, baseLayout(theme, {
      height: 280,
      margin: { l: 64, r: 18, t: 10, b: 46 },
      uirevision: `depth-lines-${T}-${rows.length}`,
      legend: { orientation: "h", x: 0, y: 1.02, xanchor: "left", yanchor: "bottom", bgcolor: "rgba(0,0,0,0)",
        font: { color: theme.text, size: 11 } },
      xaxis: axis(theme, { range: [0.5, T + 0.5], zeroline: false, title: { text: t("explore.axis.t") } }),
      yaxis: axis(theme, {
        type: "log", autorange: true, exponentformat: "power", zeroline: false, autorangeoptions: LOG_CLIP,
        title: { text: t("explore.depth.y") },
      }),
    }), config("depth-lines"));
  }

  update() {
    this.build();
  }
}

export class DepthView {
  /** @param heatEl the heatmap's div; @param linesEl the lines' div; @param note a line over
   * them (what is happening, what a model's depth is) */
  constructor(heatEl, linesEl, note) {
    this.heat = new DepthHeat(this, heatEl);
    this.lines = new DepthLines(this, linesEl);
    this.note = note;
    this.run = null;
    this.panels = [];
  }

  begin(run, theme) {
    this.run = run;
    this.theme = theme;
    this.rows = rowsOf(run);
    this.b = 0;
    this.panels = [this.heat, this.lines];
    for (const panel of this.panels) panel.invalidate();
    this.writeNote();
  }

  sync(p) {
    if (!this.run) return;
    const b = Math.max(0, p - this.run.T);
    if (b === this.b) return;
    this.b = b;
    for (const panel of this.panels) panel.dirty = true;
    this.writeNote();
  }

  /** Before the backward sweep, what is happening, over the empty charts; after it, for a run
   * without depth, how to see some — as a line of its own, since the charts below it are drawn. */
  writeNote() {
    const text = this.b === 0 ? t("explore.depth.note.forward") : this.run.stacked ? "" : t("explore.depth.note.one");
    if (this.note.textContent !== text) this.note.textContent = text;
    this.note.classList.toggle("inline", this.b > 0);
    this.note.hidden = !text;
  }

  setTheme(theme) {
    this.theme = theme;
    for (const panel of this.panels) panel.invalidate();
  }

  relabel() {
    if (!this.run) return;
    for (const panel of this.panels) panel.invalidate();
    this.writeNote();
  }

  clear() {
    this.heat.clear();
    this.lines.clear();
    this.panels = [];
    this.run = null;
    this.note.hidden = true;
  }
}
