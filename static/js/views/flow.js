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
// Compare (compare.js): pinned runs drawn whole, lighter and dashed, one dash per pin
// ({kind: "pin", pin, model}); a run over several seeds as each model's median ({kind:
// "band-median", model}) inside its 10–90 % band ({kind: "band-high"} then {kind: "band-low"},
// filled between). Both in the ‖∂L/∂h_t‖ view only.
//
// Traces' meta: {kind: "line" | "bound" | "horizon", model} per model, {kind: "marks"} (every
// mark, customdata {t, model}) and {kind: "drawn-marks"}, {kind: "horizon"} for the Jacobian.

import { modelKey, modelLabel } from "../catalogue.js";
import { Panel } from "../frame-budget.js";
import { scaledBound } from "../gradient-math.js";
import { t } from "../i18n.js";
import { baseLayout, config } from "../plot-style.js";
import { modelColour } from "../theme.js";
import { LOG_CLIP, Pending, Plotly, axis, withAlpha } from "./common.js";

const HORIZON = 1e-3;
const MARK_GAP = 1;
const PIN_DASHES = ["longdash", "dashdot", "longdashdot", "6px,2px,1px,2px"];

const positive = (v) => (typeof v === "number" && v > 0 ? v : null);

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
    this.pins = []; // [{index, name, data: {T, models: [{cell, activation, …, grad_norm}]}}]
    this.band = null; // {seeds, T, models: [{grad_norm: {q10, q50, q90}}]}: the run over seeds
  }

  /** Pinned runs to draw under the run (compare.js). */
  setPins(pins) {
    this.pins = pins;
    if (this.run) {
      this.invalidate();
      this.onChange();
    }
  }

  /** The run over several seeds (null: none). */
  setBand(band) {
    this.band = band;
    if (this.run) {
      this.invalidate();
      this.onChange();
    }
  }

  /** Whole lines of a pinned run's model: ‖∂L/∂h_t‖ at t = 1..T of that run. */
  pinTrace(pin, m) {
    const T = pin.data.T;
    const ts = Array.from({ length: T }, (_, k) => k + 1);
    const label = `${modelLabel(m)} · ${pin.name}`;
    return {
      type: "scatter", mode: "lines", name: label, legendgroup: `pin${pin.index}`,
      x: ts.map((at) => (this.xMode === "t" ? at : T - at)), y: m.grad_norm.map(positive), customdata: ts,
      line: { color: modelColour(this.theme, m), width: 1.7, dash: PIN_DASHES[pin.index % PIN_DASHES.length] },
      opacity: 0.6, connectgaps: false,
      hovertemplate: `${label}<br>t = %{customdata}<br>‖∂L/∂h<sub>t</sub>‖ = %{y:.3e}<extra></extra>`,
      meta: { kind: "pin", pin: pin.index, model: m.key },
    };
  }

  /** A model's 10–90 % band over the seeds (filled between) and its median. */
  bandTraces(m, runModel) {
    const T = this.band.T;
    const n = this.band.seeds.length;
    const ts = Array.from({ length: T }, (_, k) => k + 1);
    const x = ts.map((at) => this.x(at));
    const colour = modelColour(this.theme, runModel);
    const model = modelKey(runModel);
    const label = runModel.label;
    const q = m.grad_norm;
    const common = { type: "scatter", mode: "lines", x, customdata: ts, connectgaps: false, legendgroup: `band${model}` };
    return [
      { ...common, y: q.q90.map(positive), showlegend: false, line: { color: colour, width: 0 }, hoverinfo: "skip",
        meta: { kind: "band-high", model } },
      { ...common, y: q.q10.map(positive), fill: "tonexty", fillcolor: withAlpha(colour, 0.16),
        name: t("explore.flow.trace.band", { label, n }), line: { color: colour, width: 0 }, hoverinfo: "skip",
        meta: { kind: "band-low", model } },
      { ...common, y: q.q50.map(positive), name: t("explore.flow.trace.median", { label, n }), showlegend: false,
        line: { color: colour, width: 1.2 }, opacity: 0.8,
        hovertemplate: `${t("explore.flow.trace.median", { label, n })}<br>t = %{customdata}<br>%{y:.3e}<extra></extra>`,
        meta: { kind: "band-median", model } },
    ];
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

  /** Show or hide the dashed bounds; hidden, they leave the y range to the measurements (a
   * bound of 10²⁸⁸ squashed them). */
  setBounds(on) {
    this.bounds = on;
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
    const what = this.mode === "grad" ? "‖∂L/∂h<sub>t</sub>‖" : "‖∂s<sub>T</sub>/∂s<sub>t</sub>‖";
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
        const scaled = this.mode === "grad" ? "‖∂L/∂h<sub>T</sub>‖·" : "";
        traces.push({
          type: "scatter", mode: "lines", name: t("explore.flow.trace.bound", { label: m.label }), legendgroup: group,
          showlegend: false, ...arrays(), marker: { color: [], symbol: [] }, connectgaps: false,
          line: { color: colour, width: 1.5, dash: "dash" }, opacity: 0.9, visible: this.bounds !== false,
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
          hovertemplate: `${m.label}: 10⁻³ × ‖∂L/∂h<sub>T</sub>‖ = %{y:.2e}<extra></extra>`,
          meta: { kind: "horizon", model },
        });
      }
    });
    if (this.mode === "grad") {
      if (this.band?.T === run.T && this.band.models.length === run.models.length) {
        this.band.models.forEach((m, i) => traces.push(...this.bandTraces(m, run.models[i])));
      }
      for (const pin of this.pins) for (const m of pin.data.models) traces.push(this.pinTrace(pin, m));
    }
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
    const pinned = this.mode === "grad" ? this.pins.map((p) => p.data.T) : [];
    const T = Math.max(this.run.T, ...pinned);
    const pad = Math.max(0.6, T * 0.012);
    return this.xMode === "t" ? [1 - pad, T + pad] : [-pad, T - 1 + pad];
  }

  uirevision() {
    return `${this.mode}-${this.xMode}-${this.xRange()[1]}`;
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
