// Gates: mean gate values over t (forward sweep), one chart per gated model, and the
// gradient-keeping path along the LSTM's cell state, mean_u Π_{k=t+1..T} f_k (the GRU's is
// Π z_k), filled in the backward sweep.
//
// Traces' meta: {kind: "gate", model, gate} and {kind: "path", model}.

import { MODELS, modelKey } from "../catalogue.js";
import { fmt } from "../format.js";
import { Panel } from "../frame-budget.js";
import { BackwardProduct, meanOrNull } from "../gradient-math.js";
import { t } from "../i18n.js";
import { baseLayout, config } from "../plot-style.js";
import { gateStyle, modelColour } from "../theme.js";
import { LOG_CLIP, Pending, Plotly, axis, place, react } from "./common.js";

/** The gate that keeps the gradient along a cell's path (the LSTM's forget gate, the GRU's update). */
const PATH_GATE = { lstm: "forget", gru: "update" };

/** The gates of a model, from the catalogue. */
const gatesOf = (m) => MODELS[modelKey(m)].gates;

class GatePanel extends Panel {
  constructor(view, m) {
    super(document.createElement("div"));
    this.view = view;
    this.m = m;
    this.el.className = "chart chart-gates";
    this.el.dataset.model = modelKey(m); // its card's sentence is its text alternative (a11y.js)
    if (m.yours !== null && m.yours !== undefined) this.el.dataset.yours = String(m.yours);
    this.el.setAttribute("role", "figure");
  }

  reset() {
    this.shown = 0;
    this.pending = null;
    this.invalidate();
  }

  /** The mean over units of gate `name` at step `at`, null when not known or not finite. */
  mean(name, at) {
    return meanOrNull(this.view.run.fwd[this.m.index].gates?.[name]?.[at - 1]);
  }

  points(t0, t1) {
    const names = gatesOf(this.m);
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
    const model = modelKey(this.m);
    this.pending = null;
    const traces = gatesOf(this.m).map((g, j) => {
      const s = gateStyle(g);
      return {
        type: "scatter", mode: "lines", name: s.label, x: x[j], y: y[j],
        line: { color: s.colour, dash: s.dash, width: s.width || 1.8 },
        hovertemplate: `${t("explore.gates.hover", { label: this.m.label, gate: s.label })}<extra></extra>`,
        meta: { kind: "gate", model, gate: g },
      };
    });
    this.el.setAttribute("aria-label", t("explore.gates.chart", { label: this.m.label }));
    react(this.el, traces, baseLayout(theme, {
      height: 256,
      margin: { l: 52, r: 14, t: 66, b: 40 },
      uirevision: `gates-${this.m.cell}-${run.T}`,
      title: { text: t("explore.gates.title", { label: this.m.label }), x: 0, xanchor: "left", xref: "paper", y: 0.97,
        font: { size: 13, color: modelColour(theme, this.m) } },
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
    this.paths = this.view.gated.map(() => null);
    this.pending = new Pending();
    this.invalidate();
  }

  /** Running products along the gated path, backward: mean_u Π_{k=t+1..T} gate_k,u. */
  collect(k0, k1, out) {
    const { run, gated } = this.view;
    const T = run.T;
    gated.forEach((m, j) => {
      const gates = run.fwd[m.index].gates?.[PATH_GATE[m.cell]];
      if (!gates) return;
      let path = this.paths[j];
      for (let k = k0; k < k1; k++) {
        const at = T - k;
        if (k === 0) path = new BackwardProduct(m.hidden_size ?? run.H);
        else path.times(gates[at]); // the gate at step t + 1
        const mean = path.mean;
        out.push(j, at, Number.isFinite(mean) && mean > 0 ? mean : null,
          Number.isFinite(mean) ? (mean === 0 ? t("explore.path.underflow") : fmt(mean)) : t("explore.not_finite"));
      }
      this.paths[j] = path;
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
    this.paths = gated.map(() => null);
    const all = new Pending();
    this.collect(0, this.shown, all);
    this.pending = new Pending();
    const traces = gated.map((m) => ({
      type: "scatter", mode: "lines", x: [], y: [], customdata: [],
      name: m.cell === "lstm" ? t("explore.path.lstm") : t("explore.path.gru"),
      line: { color: modelColour(theme, m), width: 2.4 }, connectgaps: false,
      hovertemplate: `${t("explore.path.hover", { label: m.label })}<extra></extra>`,
      meta: { kind: "path", model: modelKey(m) },
    }));
    all.into(traces);
    react(this.el, traces, baseLayout(theme, {
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
  /** @param container the gate charts' element; @param pathEl the path's chart;
   * @param emptyNote shown when the run has no gated model */
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
    this.gated = run.models.filter((m) => gatesOf(m).length > 0);
    const key = (m) => `${m.index}-${m.cell}`; // a chart per model (yours and the lab's LSTM: two)
    for (const [k, c] of this.byCell) {
      if (!this.gated.some((m) => key(m) === k)) {
        c.purge();
        this.byCell.delete(k);
      }
    }
    this.charts = this.gated.map((m) => {
      let c = this.byCell.get(key(m));
      if (!c) this.byCell.set(key(m), (c = new GatePanel(this, m)));
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
