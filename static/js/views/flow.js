// Gradient flow: ‖∂L/∂h_t‖ (or ‖∂s_T/∂s_t‖) against t on a log axis, the bound dashed.
//
// Values a log axis cannot draw are marks (✕ overflow at the top, ▽ underflow at the bottom).
// Every mark is a point of one trace that draws nothing and answers the hover; the symbols are
// a second trace that leaves out what its neighbours cover: in a run of marks it draws both
// ends and every `stride`-th step, the stride being the steps that fit in MARK_GAP marker
// widths at the current zoom (1 once the steps are that far apart; a zoom or a resize redraws
// them). Each SVG marker costs a node and its styles on every redraw: the 462 marks of a
// T = 1000 run made half of this chart's redraw, the page's heaviest task, while a run of them
// a pixel apart looks the same drawn a marker's width apart.
//
// Traces' meta: {kind: "line" | "bound" | "horizon", model} per model, {kind: "marks"} (every
// mark, customdata {t, model}) and {kind: "drawn-marks"}, {kind: "horizon"} for the Jacobian.

import { modelKey } from "../catalogue.js";
import { Panel } from "../frame-budget.js";
import { scaledBound } from "../gradient-math.js";
import { t } from "../i18n.js";
import { baseLayout, config } from "../plot-style.js";
import { modelColour } from "../theme.js";
import { LOG_CLIP, Pending, Plotly, axis } from "./common.js";

const HORIZON = 1e-3;
const MARK_GAP = 1;

export class FlowChart extends Panel {
  /** @param note an HTML element over the chart: what is happening
   * @param onChange called when the chart needs a draw of its own (a zoom changed its marks) */
  constructor(el, note, onChange = () => {}) {
    super(el);
    this.note = note;
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

  /** @param mode "grad" (‖∂L/∂h_t‖) | "jac" (‖∂s_T/∂s_t‖); @param xMode "t" | "back" (T − t) */
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

  /** The API's bound (γσ_max)^(T−t), scaled by ‖∂L/∂h_T‖ for the loss gradient (loss at T only,
   * and only where the loss enters: the top layer's forward direction). */
  boundApplies(m) {
    const unit = this.run.shownUnit?.(m.index) ?? { top: true };
    return m.cell === "rnn" && (this.mode === "jac" || (this.run.config.loss.at === "last" && unit.top));
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
      const model = modelKey(m);
      const colour = modelColour(theme, m);
      const group = `m${i}`;
      const id = this.idx[i];
      const { layer, direction } = run.shownUnit?.(i) ?? { layer: 1, direction: "forward" };
      id.line = traces.length;
      traces.push({
        type: "scatter", mode: "lines", name: m.label, legendgroup: group, ...arrays(),
        marker: { color: [], symbol: [] }, line: { color: colour, width: 2.4 }, connectgaps: false,
        hovertemplate: `${m.label}<br>t = %{customdata}<br>${what} = %{y:.3e}<extra></extra>`,
        meta: { kind: "line", model, layer, direction },
      });
      if (this.boundApplies(m)) {
        id.bound = traces.length;
        const scaled = this.mode === "grad" ? "‖∂L/∂h_T‖·" : "";
        traces.push({
          type: "scatter", mode: "lines", name: t("explore.flow.trace.bound", { label: m.label }), legendgroup: group,
          showlegend: false, ...arrays(), marker: { color: [], symbol: [] }, connectgaps: false,
          line: { color: colour, width: 1.5, dash: "dash" }, opacity: 0.9,
          hovertemplate: `${t("explore.flow.hover.bound", { label: m.label, scaled })}<br>t = %{customdata}<br>%{y:.3e}<extra></extra>`,
          meta: { kind: "bound", model },
        });
      }
      if (this.mode === "grad") {
        id.horizon = traces.length;
        traces.push({
          type: "scatter", mode: "lines", name: t("explore.flow.trace.horizon", { label: m.label }), legendgroup: group,
          showlegend: false, ...arrays(), marker: { color: [], symbol: [] },
          line: { color: colour, width: 1, dash: "dot" }, opacity: 0.8,
          hovertemplate: `${m.label}: 10⁻³ × ‖∂L/∂h_T‖ = %{y:.2e}<extra></extra>`,
          meta: { kind: "horizon", model },
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
      meta: { kind: "marks" },
    });
    this.drawnMarks = traces.length;
    traces.push({
      ...marks, ...arrays(), mode: "markers", cliponaxis: false, hoverinfo: "skip",
      marker: { color: [], symbol: [], size: this.markSize(), line: { width: 1.8 } },
      meta: { kind: "drawn-marks" },
    });
    if (this.mode === "jac") {
      traces.push({
        type: "scatter", mode: "lines", name: t("explore.flow.trace.horizon_jac"), showlegend: false,
        x: [this.x(1), this.x(run.T)], y: [HORIZON, HORIZON],
        line: { color: theme.muted, width: 1, dash: "dot" }, hoverinfo: "skip",
        meta: { kind: "horizon" },
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
    const { theme } = this;
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
      const values = this.mode === "grad" ? run.bwd[i].grad_norm : run.bwd[i].jacobian_norm;
      const s = run.summaries[i];
      const gT = run.bwd[i].grad_norm[T - 1];
      const yOver = 0.975 - 0.022 * i;
      const yUnder = 0.025 + 0.022 * i;
      const model = modelKey(m);
      const colour = modelColour(this.theme, m);
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
          out.push(this.drawnMarks, this.x(at + 1), y, { t: at + 1, model }, style);
        }
        const here = mark(at);
        out.push(id.line, x, here ? null : v, at);
        if (here) {
          out.push(this.marks, x, here[0], { t: at, model }, here[1]);
          if (drawnWhenMet(at)) out.push(this.drawnMarks, x, here[0], { t: at, model }, here[1]);
        }
        if (id.bound !== undefined) {
          if (!s) {
            this.boundPending = true; // drawn when the summary (with the bound) arrives
          } else {
            out.push(id.bound, x, scaledBound(s.bound?.[at - 1], this.mode === "grad" ? gT : 1), at);
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
