// Charts: every Plotly view of a run.
//
// A view is made of panels — one Plotly div each (the heatmaps have one per model row) — and
// has two halves: sync(p) brings its data to the playback position p (plain JavaScript, cheap),
// and each panel's draw() hands the change to Plotly: the first draw of a run creates the chart
// (Plotly.react), later ones append with Plotly.extendTraces (lines), redraw the columns filled
// so far (heatmaps, Plotly.react) or restyle what changed in place (histograms). The page calls
// draw() on dirty panels in tasks of their own with a time budget (main.js, frame-budget.js),
// so frames are batched and no task grows long however fast frames arrive. Going back in time
// (the scrubber) rebuilds a panel up to p.
//
// Positions: p in 0..2T; the forward sweep shows t = 1..min(p, T), the backward sweep the
// b = max(0, p − T) steps t = T, T−1, …, T−b+1.
//
// Words (titles, legends, hover texts, notes) come from static/i18n/<lang>.json; relabel()
// writes them again in the current language: it rebuilds the panels from the data they hold
// (Plotly.react on the same divs), as a change of theme does, without touching the run.

import { fmt, rich } from "./format.js";
import { nodes, t } from "./i18n.js";
import { gateStyle } from "./theme.js";
import { modelKey } from "./url-state.js";
import { axis as styledAxis, baseLayout, config } from "./plot-style.js";
import { Panel } from "./frame-budget.js";

const Plotly = window.Plotly;
const HORIZON = 1e-3;
// Keep a padded log-axis autorange inside float64, so that its tick labels stay numbers.
const LOG_CLIP = { clipmin: 1e-320, clipmax: 1e305 };
// Tick labels may overflow nothing here (the margins hold them). Plotly's default, "hide past
// div", measures every label once per label drawn — O(labels²) forced layouts on each redraw,
// the largest single cost of redrawing a chart during a run.
const NO_OVERFLOW_CHECK = { ticklabeloverflow: "allow" };
const axis = (theme, extra) => styledAxis(theme, { ...NO_OVERFLOW_CHECK, ...extra });


/** Put `children` into `container`, touching the DOM only when they differ: re-inserting the
 * same chart restyles every node of its SVG, and the first frame of each run paid for that. */
function place(container, children) {
  const now = container.children;
  if (now.length !== children.length || children.some((c, k) => now[k] !== c)) container.replaceChildren(...children);
}

function seq(n, f) {
  const out = new Array(n);
  for (let k = 0; k < n; k++) out[k] = f(k);
  return out;
}

/** Points waiting to be appended: trace index → {x, y, customdata}, and for the traces
 * `marked`, whose markers differ point by point, text, marker colour and symbol too. The other
 * traces keep those arrays empty: Plotly validates per-point arrays on every redraw, so lines
 * that never show markers must not carry them. */
class Pending {
  constructor(marked = []) {
    this.marked = new Set(marked);
    this.map = new Map();
  }

  push(trace, x, y, c, mark) {
    if (trace === undefined) return;
    let d = this.map.get(trace);
    if (!d) {
      d = { x: [], y: [], customdata: [], text: [], color: [], symbol: [] };
      this.map.set(trace, d);
    }
    d.x.push(x);
    d.y.push(y);
    d.customdata.push(c);
    if (this.marked.has(trace)) {
      d.text.push(mark?.text ?? "");
      d.color.push(mark?.color ?? "transparent");
      d.symbol.push(mark?.symbol ?? "circle");
    }
  }

  get size() {
    return this.map.size;
  }

  /** Copy into traces (a rebuild). */
  into(traces) {
    for (const [k, d] of this.map) {
      Object.assign(traces[k], { x: d.x, y: d.y, customdata: d.customdata });
      if (this.marked.has(k)) {
        traces[k].text = d.text;
        traces[k].marker = { ...traces[k].marker, color: d.color, symbol: d.symbol };
      }
    }
  }

  /** Append to a live chart with one extendTraces call (one redraw). */
  extend(el) {
    if (!this.map.size) return;
    const keys = [...this.map.keys()];
    const d = keys.map((k) => this.map.get(k));
    const update = { x: d.map((v) => v.x), y: d.map((v) => v.y), customdata: d.map((v) => v.customdata) };
    if (keys.some((k) => this.marked.has(k))) {
      // extendTraces appends the same attributes to every trace it touches: empty for the lines
      update.text = d.map((v) => v.text);
      update["marker.color"] = d.map((v) => v.color);
      update["marker.symbol"] = d.map((v) => v.symbol);
    }
    Plotly.extendTraces(el, update, keys);
    this.map.clear();
  }
}

// --------------------------------------------------------------------------------------------
// 1. Gradient flow: ‖∂L/∂h_t‖ (or ‖∂s_T/∂s_t‖) against t on a log axis, the bound dashed.
//
// Values a log axis cannot draw are marks (✕ overflow at the top, ▽ underflow at the bottom).
// Every mark is a point of one trace that draws nothing and answers the hover; the symbols are
// a second trace that leaves out what its neighbours cover: in a run of marks it draws both
// ends and every `stride`-th step, the stride being the steps that fit in MARK_GAP marker
// widths at the current zoom (1 once the steps are that far apart; a zoom or a resize redraws
// them). Each SVG marker costs a node and its styles on every redraw: the 462 marks of a
// T = 1000 run made half of this chart's redraw, the page's heaviest task, while a run of them
// a pixel apart looks the same drawn a marker's width apart.

const MARK_GAP = 1;

export class FlowChart extends Panel {
  /** @param onChange called when the chart needs a draw of its own (a zoom changed its marks) */
  constructor(el, note, onChange = () => {}) {
    super(el);
    this.note = note; // an HTML element over the chart: what is happening
    this.onChange = onChange;
    // the div's width, kept up to date without reading it (a read forces a layout mid-frame);
    // 0 while the tab is hidden, which changes nothing on screen
    this.width = 0;
    new ResizeObserver((entries) => {
      const { width } = entries.at(-1).contentRect;
      if (!width) return;
      this.width = width;
      this.rescaled();
    }).observe(el);
    this.run = null;
    this.mode = "grad";
    this.xMode = "t";
    this.panels = [this];
  }

  begin(run, theme, mode, xMode) {
    this.run = run;
    this.theme = theme;
    this.mode = mode;
    this.xMode = xMode;
    this.shown = 0;
    this.pending = new Pending();
    this.invalidate();
  }

  setMode(mode, xMode) {
    this.mode = mode;
    this.xMode = xMode;
    if (this.run) this.invalidate();
  }

  setTheme(theme) {
    this.theme = theme;
    if (this.run) this.invalidate();
  }

  relabel() {
    if (this.run) this.invalidate();
  }

  x(at) {
    return this.xMode === "t" ? at : this.run.T - at;
  }

  /** The API's bound (γσ_max)^(T−t), scaled by ‖∂L/∂h_T‖ for the loss gradient (loss at T only). */
  boundApplies(m) {
    return m.cell === "rnn" && (this.mode === "jac" || this.run.config.loss.at === "last");
  }

  traces() {
    const { run, theme } = this;
    const traces = [];
    this.idx = run.models.map(() => ({}));
    const what = this.mode === "grad" ? "‖∂L/∂h_t‖" : "‖∂s_T/∂s_t‖";
    // every extended trace carries the per-point arrays of the marker trace (extendTraces
    // appends the same attributes to all the traces it touches)
    const arrays = () => ({ x: [], y: [], customdata: [], text: [] });
    run.models.forEach((m, i) => {
      const colour = theme.models[modelKey(m)];
      const group = `m${i}`;
      const id = this.idx[i];
      id.line = traces.length;
      traces.push({
        type: "scatter", mode: "lines", name: m.label, legendgroup: group, ...arrays(),
        marker: { color: [], symbol: [] }, line: { color: colour, width: 2.4 }, connectgaps: false,
        hovertemplate: `${m.label}<br>t = %{customdata}<br>${what} = %{y:.3e}<extra></extra>`,
      });
      if (this.boundApplies(m)) {
        id.bound = traces.length;
        const scaled = this.mode === "grad" ? "‖∂L/∂h_T‖·" : "";
        traces.push({
          type: "scatter", mode: "lines", name: t("explore.flow.trace.bound", { label: m.label }), legendgroup: group,
          showlegend: false, ...arrays(), marker: { color: [], symbol: [] }, connectgaps: false,
          line: { color: colour, width: 1.5, dash: "dash" }, opacity: 0.9,
          hovertemplate: `${t("explore.flow.hover.bound", { label: m.label, scaled })}<br>t = %{customdata}<br>%{y:.3e}<extra></extra>`,
        });
      }
      if (this.mode === "grad") {
        id.horizon = traces.length;
        traces.push({
          type: "scatter", mode: "lines", name: t("explore.flow.trace.horizon", { label: m.label }), legendgroup: group,
          showlegend: false, ...arrays(), marker: { color: [], symbol: [] },
          line: { color: colour, width: 1, dash: "dot" }, opacity: 0.8,
          hovertemplate: `${m.label}: 10⁻³ × ‖∂L/∂h_T‖ = %{y:.2e}<extra></extra>`,
        });
      }
    });
    // values a log axis cannot draw, for all models: ✕ overflow at the top, ▽ underflow to 0
    // at the bottom (on a hidden [0, 1] axis, so they never move the autorange); every one of
    // them in `marks` (hover), the ones to draw in `drawnMarks`
    this.marks = traces.length;
    const marks = { type: "scatter", name: t("explore.flow.trace.marks"), showlegend: false, yaxis: "y2" };
    traces.push({
      ...marks, ...arrays(), mode: "none", marker: { color: [], symbol: [] }, hovertemplate: "%{text}<extra></extra>",
    });
    this.drawnMarks = traces.length;
    traces.push({
      ...marks, ...arrays(), mode: "markers", cliponaxis: false, hoverinfo: "skip",
      marker: { color: [], symbol: [], size: this.markSize(), line: { width: 1.8 } },
    });
    if (this.mode === "jac") {
      traces.push({
        type: "scatter", mode: "lines", name: t("explore.flow.trace.horizon_jac"), showlegend: false,
        x: [this.x(1), this.x(run.T)], y: [HORIZON, HORIZON],
        line: { color: theme.muted, width: 1, dash: "dot" }, hoverinfo: "skip",
      });
    }
    return traces;
  }

  markSize() {
    return this.run.T <= 100 ? 9 : this.run.T <= 400 ? 7 : 6;
  }

  /** The whole run's x range (the user may zoom into it). */
  xRange() {
    const T = this.run.T;
    const pad = Math.max(0.6, T * 0.012);
    return this.xMode === "t" ? [1 - pad, T + pad] : [-pad, T - 1 + pad];
  }

  uirevision() {
    return `${this.mode}-${this.xMode}-${this.run.T}`;
  }

  /** Steps between two drawn marks of a run: as many as fit in MARK_GAP marker widths at the
   * range on screen (the user's zoom, kept across rebuilds by uirevision). The div's width
   * stands for the plot's, a little wider: never too few marks; not known yet, all of them. */
  markStride() {
    if (!this.width) return 1;
    const shown = this.el.layout?.uirevision === this.uirevision() ? this.el.layout.xaxis?.range : null;
    const [x0, x1] = shown ?? this.xRange();
    const pxPerStep = this.width / Math.abs(x1 - x0);
    return Math.max(1, Math.floor((MARK_GAP * this.markSize()) / pxPerStep));
  }

  /** After a zoom, a pan or a resize: rebuild when the marks to draw have changed. */
  rescaled() {
    if (!this.run || this.rebuild || this.markStride() === this.stride) return;
    this.invalidate();
    this.onChange();
  }

  layout() {
    const { run, theme } = this;
    const ytitle = this.mode === "grad" ? t("explore.flow.y.grad") : t("explore.flow.y.jac");
    return baseLayout(theme, {
      uirevision: this.uirevision(),
      xaxis: axis(theme, {
        range: this.xRange(), zeroline: false,
        title: { text: this.xMode === "t" ? t("explore.axis.t") : t("explore.flow.x.back") },
      }),
      yaxis: axis(theme, {
        type: "log", autorange: true, exponentformat: "power", zeroline: false,
        autorangeoptions: LOG_CLIP, title: { text: ytitle },
      }),
      // values a log axis cannot draw get markers: overflow at the top, underflow to 0 at the bottom
      yaxis2: { overlaying: "y", range: [0, 1], visible: false, fixedrange: true, tickmode: "auto" },
    });
  }

  /** Points of backward steps k in [k0, k1) into `out` (a Pending). */
  collect(k0, k1, out) {
    const { run } = this;
    const T = run.T;
    if (this.mode === "jac" && !run.hasJacobian) return;
    run.models.forEach((m, i) => {
      const id = this.idx[i];
      const values = this.mode === "grad" ? run.bwd[i].gradNorm : run.bwd[i].jac;
      const s = run.summaries[i];
      const gT = run.bwd[i].gradNorm[T - 1];
      const yOver = 0.975 - 0.022 * i;
      const yUnder = 0.025 + 0.022 * i;
      const colour = this.theme.models[modelKey(m)];
      /** The mark of step t (null: its value is drawn by the line) as [y, its style]. */
      const mark = (at) => {
        const v = values[at - 1];
        if (v === null) {
          return [yOver, { color: colour, symbol: "x-thin-open",
            text: `${m.label}<br>${t("explore.flow.mark.overflow", { t: at })}` }];
        }
        if (v === 0) {
          return [yUnder, { color: colour, symbol: "triangle-down-open",
            text: `${m.label}<br>${t("explore.flow.mark.underflow", { t: at })}` }];
        }
        return null;
      };
      const isMark = (v) => v === null || v === 0;
      // drawn as soon as the sweep (t = T, T − 1, …) meets it: a mark that starts a run (t + 1
      // is not the same mark), the last step, or every stride-th step
      const drawnWhenMet = (at) => at === T || values[at] !== values[at - 1] || at === 1 || at % this.stride === 0;
      for (let k = k0; k < k1; k++) {
        const at = T - k;
        const x = this.x(at);
        const v = values[at - 1];
        // t + 1 ended a run of marks: its mark is drawn now if the sweep passed it over
        if (at < T && isMark(values[at]) && values[at] !== v && !drawnWhenMet(at + 1)) {
          const [y, style] = mark(at + 1);
          out.push(this.drawnMarks, this.x(at + 1), y, at + 1, style);
        }
        const here = mark(at);
        out.push(id.line, x, here ? null : v, at);
        if (here) {
          out.push(this.marks, x, here[0], at, here[1]);
          if (drawnWhenMet(at)) out.push(this.drawnMarks, x, here[0], at, here[1]);
        }
        if (id.bound !== undefined) {
          if (!s) {
            this.boundPending = true; // drawn when the summary (with the bound) arrives
          } else {
            const bt = s.bound?.[at - 1];
            const scale = this.mode === "grad" ? gT : 1;
            const y = bt === null || bt === undefined || scale === null ? null : bt * scale;
            out.push(id.bound, x, Number.isFinite(y) && y > 0 ? y : null, at);
          }
        }
        if (k === 0 && id.horizon !== undefined && gT > 0 && Number.isFinite(gT)) {
          out.push(id.horizon, this.x(1), HORIZON * gT, 1);
          out.push(id.horizon, this.x(T), HORIZON * gT, T);
        }
      }
    });
  }

  sync(p) {
    const { run } = this;
    if (!run) return;
    const b = Math.max(0, p - run.T);
    const summariesArrived = this.boundPending && run.summaryCount !== this.summariesSeen;
    if (b < this.shown || summariesArrived) {
      this.shown = b;
      this.invalidate();
    } else if (b > this.shown) {
      if (!this.rebuild) this.collect(this.shown, b, this.pending);
      this.shown = b;
      this.dirty = true;
    }
    this.updateNote(p);
  }

  build() {
    this.boundPending = false;
    this.summariesSeen = this.run.summaryCount;
    this.stride = this.markStride();
    const traces = this.traces();
    const all = new Pending([this.marks, this.drawnMarks]);
    this.collect(0, this.shown, all);
    all.into(traces);
    this.pending = new Pending([this.marks, this.drawnMarks]);
    Plotly.react(this.el, traces, this.layout(), config("gradient-flow"));
    if (!this.listening) {
      this.listening = true; // Plotly.purge drops the listener
      this.el.on("plotly_relayout", () => this.rescaled());
    }
  }

  update() {
    this.pending.extend(this.el);
  }

  updateNote(p) {
    const { run } = this;
    let text = "";
    if (this.mode === "jac" && !run.hasJacobian) {
      text = t("explore.flow.note.no_jacobian");
    } else if (p <= run.T) {
      text = t("explore.flow.note.forward", { p, T: run.T });
    }
    if (this.note.textContent !== text) this.note.textContent = text;
    this.note.hidden = !text;
  }

  clear() {
    this.purge();
    this.listening = false;
    this.run = null;
    this.dirty = false;
    this.note.hidden = true;
  }
}

// --------------------------------------------------------------------------------------------
// 2 and 3. Heatmaps, units × time, one panel per row (each model, and the LSTM's c_t): hidden
// states fill left to right in the forward sweep, log10|∂L/∂h_t| right to left in the backward
// sweep. Cells a colour scale cannot show get a categorical trace on top, drawn only when there
// are any: overflow (null) and, for gradients, underflow to exactly 0.
//
// A row's matrices are typed (NaN where there is nothing to draw), and Plotly gets only the
// columns filled so far: a heatmap costs per cell on every redraw, filled or not, so a sweep's
// redraws cost in proportion to how far it has come, and the first draw of a run almost nothing.

const BOUNDED = new Set(["rnn-sigmoid", "rnn-tanh", "lstm", "gru"]); // |h| ≤ 1

class HeatRow extends Panel {
  constructor(chart, spec) {
    super(document.createElement("div"));
    this.chart = chart;
    Object.assign(this, spec);
    this.wrap = document.createElement("div");
    this.wrap.className = "heat-row";
    this.wrap.dataset.model = spec.model;
    const label = document.createElement("p");
    label.className = "heat-label";
    const sw = document.createElement("span");
    sw.className = "swatch";
    this.labelText = document.createElement("span");
    label.append(sw, this.labelText);
    this.el.className = "chart heat-chart";
    this.el.setAttribute("role", "img");
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
    const { T, H } = run;
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
      const { T, H } = this.chart.run;
      this.text = seq(H, () => new Array(T).fill(null));
    }
    if (this.text) this.text[u][k] = text;
  }

  traces() {
    const { run, theme, kind } = this.chart;
    const { lo, hi } = this.chart.filled();
    const x = this.chart.xs.subarray(lo, hi);
    const y = seq(run.H, (k) => k + 1);
    const columns = (rows) => rows.map((row) => row.subarray(lo, hi));
    const what = kind === "hidden" ? (this.log ? "log₁₀(1 + h)" : this.src === "cell" ? "c" : "h") : "log₁₀|∂L/∂h|";
    const colorbar = {
      thickness: 9, len: 1, x: 1.02, xanchor: "left", xpad: 0, outlinewidth: 0, nticks: 4, ...NO_OVERFLOW_CHECK,
      tickfont: { size: 9, color: theme.muted },
    };
    const main = {
      type: "heatmap", x, y, z: columns(this.z), hoverongaps: false, colorbar,
      hovertemplate: `${t("explore.heat.hover")}<br>${what} = %{z:.3g}<extra></extra>`,
    };
    if (kind === "grads") {
      Object.assign(main, { colorscale: theme.sequential, ...this.chart.zRange() });
    } else if (this.log) {
      Object.assign(main, { colorscale: [[0, theme.surface], [1, theme.diverging[2][1]]], zmin: 0 });
      colorbar.title = { text: "log<sub>10</sub>(1+h)", side: "right", font: { size: 9, color: theme.muted } };
    } else if (BOUNDED.has(this.key)) {
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
    };
    return [main, special];
  }

  layout() {
    const { run, theme } = this.chart;
    const last = this.chart.rows.at(-1) === this;
    const rowPx = Math.max(52, Math.min(110, run.H * 4));
    const bottom = last ? 40 : 6;
    return baseLayout(theme, {
      height: rowPx + 4 + bottom,
      showlegend: false,
      margin: { l: 46, r: 62, t: 4, b: bottom },
      uirevision: `${this.key}-${run.T}-${run.H}`,
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
    Plotly.react(this.el, this.traces(), this.layout(), config(`${kind === "hidden" ? "hidden" : "gradients"}-${this.key}`));
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
      const key = modelKey(m);
      if (this.kind === "hidden") {
        // relu states are unbounded (they explode): coloured by log10(1 + h), h ≥ 0
        specs.push({ key, model: key, i: m.index, src: "hidden", label: () => rich(`${m.label} · h_t`),
          log: key === "rnn-relu" });
        if (m.cell === "lstm") {
          specs.push({ key: "lstm-c", model: key, i: m.index, src: "cell", label: () => nodes("explore.heat.cell") });
        }
      } else {
        specs.push({ key, model: key, i: m.index, src: "grads", label: () => rich(`${m.label} · ∂L/∂h_t`) });
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
      else Object.assign(row, spec);
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
      const source = r.src === "hidden" ? run.fwd[r.i].hidden : r.src === "cell" ? run.fwd[r.i].cell
        : run.bwd[r.i].grads;
      const v = clear ? null : source[k];
      for (let u = 0; u < run.H; u++) {
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

// --------------------------------------------------------------------------------------------
// 4. Gates: mean gate values over t (forward sweep), and the gradient-keeping path along the
// LSTM's cell state, mean_u Π_{k=t+1..T} f_k (the GRU's is Π z_k), filled in the backward sweep.

const GATES = { lstm: ["input", "forget", "cell", "output"], gru: ["reset", "update", "candidate"] };

class GatePanel extends Panel {
  constructor(view, m) {
    super(document.createElement("div"));
    this.view = view;
    this.m = m;
    this.el.className = "chart chart-gates";
    this.el.setAttribute("role", "img");
  }

  reset() {
    this.shown = 0;
    this.pending = null;
    this.invalidate();
  }

  mean(name, at) {
    const v = this.view.run.fwd[this.m.index].gates?.[name]?.[at - 1];
    if (!v) return null;
    let s = 0;
    for (const x of v) {
      if (x === null) return null;
      s += x;
    }
    return s / v.length;
  }

  points(t0, t1) {
    const names = GATES[this.m.cell];
    const x = names.map(() => []);
    const y = names.map(() => []);
    for (let at = t0; at <= t1; at++) {
      names.forEach((g, j) => {
        x[j].push(at);
        y[j].push(this.mean(g, at));
      });
    }
    return { x, y };
  }

  sync(f) {
    if (f < this.shown) {
      this.shown = f;
      this.invalidate();
    } else if (f > this.shown) {
      if (!this.rebuild) {
        const d = this.points(this.shown + 1, f);
        if (this.pending) d.x.forEach((xs, j) => {
          this.pending.x[j].push(...xs);
          this.pending.y[j].push(...d.y[j]);
        });
        else this.pending = d;
      }
      this.shown = f;
      this.dirty = true;
    }
  }

  build() {
    const { theme, run } = this.view;
    const { x, y } = this.points(1, this.shown);
    this.pending = null;
    const traces = GATES[this.m.cell].map((g, j) => {
      const s = gateStyle(g);
      return {
        type: "scatter", mode: "lines", name: s.label, x: x[j], y: y[j],
        line: { color: s.colour, dash: s.dash, width: s.width || 1.8 },
        hovertemplate: `${t("explore.gates.hover", { label: this.m.label, gate: s.label })}<extra></extra>`,
      };
    });
    this.el.setAttribute("aria-label", t("explore.gates.chart", { label: this.m.label }));
    Plotly.react(this.el, traces, baseLayout(theme, {
      height: 256,
      margin: { l: 52, r: 14, t: 66, b: 40 },
      uirevision: `gates-${this.m.cell}-${run.T}`,
      title: { text: t("explore.gates.title", { label: this.m.label }), x: 0, xanchor: "left", xref: "paper", y: 0.97,
        font: { size: 13, color: theme.models[modelKey(this.m)] } },
      legend: { orientation: "h", x: 0, xanchor: "left", y: 1.0, yanchor: "bottom", entrywidth: 0.5,
        entrywidthmode: "fraction", font: { size: 11, color: theme.text }, bgcolor: "rgba(0,0,0,0)" },
      xaxis: axis(theme, { range: [0.5, run.T + 0.5], zeroline: false, title: { text: t("explore.axis.t") } }),
      yaxis: axis(theme, { range: [-1.05, 1.05], zeroline: true, title: { text: t("explore.gates.y") } }),
    }), config(`${this.m.cell}-gates`));
  }

  update() {
    if (!this.pending) return;
    Plotly.extendTraces(this.el, this.pending, this.pending.x.map((_, j) => j));
    this.pending = null;
  }
}

class PathPanel extends Panel {
  constructor(view, el) {
    super(el);
    this.view = view;
  }

  reset() {
    this.shown = 0;
    this.prod = this.view.gated.map(() => null);
    this.pending = new Pending();
    this.invalidate();
  }

  /** Running products along the gated path, backward: mean_u Π_{k=t+1..T} gate_k,u. */
  collect(k0, k1, out) {
    const { run, gated } = this.view;
    const T = run.T;
    gated.forEach((m, j) => {
      const gates = run.fwd[m.index].gates?.[m.cell === "lstm" ? "forget" : "update"];
      if (!gates) return;
      let prod = this.prod[j];
      for (let k = k0; k < k1; k++) {
        const at = T - k;
        if (k === 0) {
          prod = new Array(run.H).fill(1);
        } else {
          const g = gates[at]; // the gate at step t + 1
          for (let u = 0; u < prod.length; u++) prod[u] = g && g[u] !== null ? prod[u] * g[u] : NaN;
        }
        let s = 0;
        for (const v of prod) s += v;
        const mean = s / prod.length;
        out.push(j, at, Number.isFinite(mean) && mean > 0 ? mean : null,
          Number.isFinite(mean) ? (mean === 0 ? t("explore.path.underflow") : fmt(mean)) : t("explore.not_finite"));
      }
      this.prod[j] = prod;
    });
  }

  sync(b) {
    if (b < this.shown) {
      this.shown = b;
      this.invalidate();
    } else if (b > this.shown) {
      if (!this.rebuild) this.collect(this.shown, b, this.pending);
      this.shown = b;
      this.dirty = true;
    }
  }

  build() {
    const { theme, run, gated } = this.view;
    this.prod = gated.map(() => null);
    const all = new Pending();
    this.collect(0, this.shown, all);
    this.pending = new Pending();
    const traces = gated.map((m) => ({
      type: "scatter", mode: "lines", x: [], y: [], customdata: [],
      name: m.cell === "lstm" ? t("explore.path.lstm") : t("explore.path.gru"),
      line: { color: theme.models[modelKey(m)], width: 2.4 }, connectgaps: false,
      hovertemplate: `${t("explore.path.hover", { label: m.label })}<extra></extra>`,
    }));
    all.into(traces);
    Plotly.react(this.el, traces, baseLayout(theme, {
      height: 250,
      margin: { l: 64, r: 14, t: 30, b: 44 },
      uirevision: `path-${run.T}`,
      title: { text: t("explore.path.title"),
        x: 0, xanchor: "left", xref: "paper", y: 0.97, font: { size: 13, color: theme.text } },
      legend: { orientation: "h", x: 0, y: -0.3, yanchor: "top", font: { size: 11, color: theme.text },
        bgcolor: "rgba(0,0,0,0)" },
      xaxis: axis(theme, { range: [0.5, run.T + 0.5], zeroline: false, title: { text: t("explore.axis.t") } }),
      yaxis: axis(theme, { type: "log", autorange: true, exponentformat: "power", autorangeoptions: LOG_CLIP,
        title: { text: t("explore.path.y") } }),
    }), config("gate-path"));
  }

  update() {
    this.pending.extend(this.el);
  }
}

export class GatesCharts {
  constructor(container, pathEl, emptyNote) {
    this.container = container;
    this.emptyNote = emptyNote;
    this.path = new PathPanel(this, pathEl);
    this.byCell = new Map();
    this.charts = [];
    this.panels = [];
    this.run = null;
  }

  begin(run, theme) {
    this.run = run;
    this.theme = theme;
    this.gated = run.models.filter((m) => m.cell === "lstm" || m.cell === "gru");
    for (const [cell, c] of this.byCell) {
      if (!this.gated.some((m) => m.cell === cell)) {
        c.purge();
        this.byCell.delete(cell);
      }
    }
    this.charts = this.gated.map((m) => {
      let c = this.byCell.get(m.cell);
      if (!c) this.byCell.set(m.cell, (c = new GatePanel(this, m)));
      c.m = m;
      c.reset();
      return c;
    });
    place(this.container, this.charts.map((c) => c.el));
    this.emptyNote.hidden = this.gated.length > 0;
    this.path.el.hidden = this.gated.length === 0;
    if (this.gated.length) {
      this.path.reset();
      this.panels = [...this.charts, this.path];
    } else {
      this.path.purge();
      this.panels = [];
    }
  }

  sync(p) {
    if (!this.run || !this.gated.length) return;
    const T = this.run.T;
    for (const c of this.charts) c.sync(Math.min(p, T));
    this.path.sync(Math.max(0, p - T));
  }

  setTheme(theme) {
    this.theme = theme;
    for (const panel of this.panels) panel.invalidate();
  }

  relabel() {
    for (const panel of this.panels) panel.invalidate();
  }

  clear() {
    for (const c of this.byCell.values()) c.purge();
    this.byCell.clear();
    this.charts = [];
    this.panels = [];
    this.container.replaceChildren();
    this.path.purge();
    this.path.el.hidden = true;
    this.emptyNote.hidden = true;
    this.run = null;
  }
}

// --------------------------------------------------------------------------------------------
// 6. Why: φ and φ' of sigmoid and tanh (γ = sup φ' marked), and a histogram of this run's
// pre-activations z_t of each vanilla RNN over it — how saturated its units were.

const Z_MIN = -8;
const Z_MAX = 8;
const BIN = 0.25;
const NBINS = Math.round((Z_MAX - Z_MIN) / BIN);

const sigmoid = (z) => 1 / (1 + Math.exp(-z));
const PHI = {
  sigmoid: { f: sigmoid, d: (z) => sigmoid(z) * (1 - sigmoid(z)), gamma: 0.25, sym: "σ" },
  tanh: { f: Math.tanh, d: (z) => 1 - Math.tanh(z) ** 2, gamma: 1, sym: "tanh" },
  relu: { f: (z) => Math.max(z, 0), d: (z) => (z > 0 ? 1 : 0), gamma: 1, sym: "relu" },
};

export class WhyChart extends Panel {
  constructor(el, statsEl) {
    super(el);
    this.statsEl = statsEl;
    this.run = null;
    this.panels = [this];
  }

  /** @param run a RunData, or null for the curves alone (before any run) */
  begin(run, theme) {
    this.run = run;
    this.theme = theme;
    this.rnns = run ? run.models.filter((m) => m.cell === "rnn") : [];
    this.hist = this.rnns.map(() => ({ counts: new Array(NBINS).fill(0), below: 0, above: 0, nonfinite: 0, n: 0, dsum: 0, saturated: 0 }));
    this.shown = 0;
    this.invalidate();
  }

  setTheme(theme) {
    this.theme = theme;
    this.invalidate();
  }

  relabel() {
    this.invalidate();
  }

  traces() {
    const { theme } = this;
    const zs = seq(321, (k) => Z_MIN + (k * (Z_MAX - Z_MIN)) / 320);
    const names = ["sigmoid", "tanh"];
    if (this.rnns.some((m) => m.activation === "relu")) names.push("relu");
    const out = [];
    for (const name of names) {
      const a = PHI[name];
      const colour = theme.models[`rnn-${name}`];
      if (name !== "relu") {
        out.push({
          type: "scatter", mode: "lines", x: zs, y: zs.map(a.f), name: `${a.sym}(z)`,
          line: { color: colour, width: 2 }, legendgroup: name,
          hovertemplate: `${a.sym}(%{x:.2f}) = %{y:.3f}<extra></extra>`,
        });
      }
      out.push({
        type: "scatter", mode: "lines", x: zs, y: zs.map(a.d), name: `${a.sym}′(z)`,
        line: { color: colour, width: 2, dash: "dash" }, legendgroup: name,
        hovertemplate: `${a.sym}′(%{x:.2f}) = %{y:.3f}<extra></extra>`,
      });
    }
    this.firstBar = out.length;
    const centres = seq(NBINS, (k) => Z_MIN + (k + 0.5) * BIN);
    this.rnns.forEach((m, j) => {
      out.push({
        type: "bar", x: centres, y: this.density(this.hist[j]), width: BIN, yaxis: "y2",
        name: t("explore.why.bar", { label: m.label }), marker: { color: theme.models[modelKey(m)], line: { width: 0 } },
        opacity: 0.38, hovertemplate: `${t("explore.why.hover.bar", { label: m.label })}<extra></extra>`,
      });
    });
    return out;
  }

  layout() {
    const { theme } = this;
    const line = (y, colour) => ({
      type: "line", xref: "paper", x0: 0, x1: 1, yref: "y", y0: y, y1: y,
      line: { color: colour, width: 1, dash: "dot" },
    });
    return baseLayout(theme, {
      height: 330,
      margin: { l: 52, r: 56, t: 10, b: 70 },
      barmode: "overlay",
      bargap: 0,
      uirevision: "why",
      legend: { orientation: "h", x: 0, y: -0.22, yanchor: "top", font: { size: 11, color: theme.text },
        bgcolor: "rgba(0,0,0,0)" },
      xaxis: axis(theme, { range: [Z_MIN, Z_MAX], zeroline: false, title: { text: t("explore.why.x"), standoff: 4 } }),
      yaxis: axis(theme, { range: [-1.08, 1.12], zeroline: true, title: { text: "φ(z), φ′(z)" } }),
      yaxis2: axis(theme, { overlaying: "y", side: "right", rangemode: "tozero", showgrid: false, zeroline: false,
        tickmode: "auto", title: { text: t("explore.why.y2") } }),
      shapes: [line(0.25, theme.models["rnn-sigmoid"]), line(1, theme.models["rnn-tanh"])],
      annotations: [
        { x: Z_MAX, y: 0.25, xanchor: "right", yanchor: "bottom", showarrow: false,
          text: "γ = sup σ′ = 1/4", font: { size: 11, color: theme.models["rnn-sigmoid"] } },
        { x: Z_MIN, y: 1, xanchor: "left", yanchor: "bottom", showarrow: false,
          text: "γ = sup tanh′ = 1", font: { size: 11, color: theme.models["rnn-tanh"] } },
      ],
    });
  }

  density(h) {
    const total = h.n || 1;
    return h.counts.map((c) => c / total / BIN);
  }

  addStep(t, sign) {
    this.rnns.forEach((m, j) => {
      const z = this.run.fwd[m.index].pre?.[t - 1];
      if (!z) return;
      const h = this.hist[j];
      const a = PHI[m.activation] || PHI.tanh;
      for (const x of z) {
        h.n += sign;
        if (x === null) {
          h.nonfinite += sign;
          continue;
        }
        const d = a.d(x);
        h.dsum += sign * d;
        if (d < 0.1 * a.gamma) h.saturated += sign;
        if (x < Z_MIN) h.below += sign;
        else if (x >= Z_MAX) h.above += sign;
        else h.counts[Math.floor((x - Z_MIN) / BIN)] += sign;
      }
    });
  }

  sync(p) {
    if (!this.run || !this.rnns.length) return;
    const f = Math.min(p, this.run.T);
    if (f === this.shown) return;
    if (f > this.shown) for (let t = this.shown + 1; t <= f; t++) this.addStep(t, +1);
    else for (let t = this.shown; t > f; t--) this.addStep(t, -1);
    this.shown = f;
    this.dirty = true;
  }

  build() {
    Plotly.react(this.el, this.traces(), this.layout(), config("why-activations"));
    this.renderStats();
  }

  update() {
    const idx = this.rnns.map((_, j) => this.firstBar + j);
    if (idx.length) Plotly.restyle(this.el, { y: this.hist.map((h) => this.density(h)) }, idx);
    this.renderStats();
  }

  renderStats() {
    const el = this.statsEl;
    el.replaceChildren();
    if (!this.run) {
      el.textContent = t("explore.why.stats.idle");
      return;
    }
    if (!this.rnns.length) {
      el.textContent = t("explore.why.stats.no_rnn");
      return;
    }
    for (const [j, m] of this.rnns.entries()) {
      const h = this.hist[j];
      const a = PHI[m.activation] || PHI.tanh;
      const li = document.createElement("li");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.dataset.model = modelKey(m);
      li.append(sw);
      const finite = h.n - h.nonfinite;
      if (!h.n) {
        li.append(t("explore.why.stats.waiting", { label: m.label }));
      } else {
        const mean = finite ? h.dsum / finite : NaN;
        const off = h.below + h.above;
        const pct = (x) => `${(100 * x / h.n).toFixed(x && x / h.n < 0.001 ? 2 : 1)}%`;
        // one item per fact, the optional ones after the first (each text starts with its "; ")
        let text = t("explore.why.stats.main", {
          label: m.label, sym: a.sym, mean: Number.isFinite(mean) ? mean.toFixed(3) : "—",
          gamma: a.gamma === 0.25 ? "1/4" : a.gamma, saturated: pct(h.saturated),
        });
        if (off) text += t("explore.why.stats.off", { pct: pct(off), max: Z_MAX });
        if (h.nonfinite) text += t("explore.why.stats.nonfinite", { pct: pct(h.nonfinite) });
        li.append(`${text}.`);
      }
      el.append(li);
    }
  }
}
