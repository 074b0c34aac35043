// Why: φ and φ′ of sigmoid and tanh (γ = sup φ′ marked), and a histogram of this run's
// pre-activations z_t of each vanilla RNN over it — how saturated its units were.
//
// Traces' meta: {kind: "phi" | "dphi", activation} for the curves, {kind: "density", model}
// for each RNN's histogram.

import { MODELS, gammaLabel, modelKey } from "../catalogue.js";
import { Panel } from "../frame-budget.js";
import { Histogram, PHI, linspace } from "../gradient-math.js";
import { t } from "../i18n.js";
import { baseLayout, config } from "../plot-style.js";
import { Z_BIN as BIN, Z_MAX, say, whyLine } from "../sentences.js";
import { modelColour } from "../theme.js";
import { Plotly, axis, react } from "./common.js";

const Z_MIN = -Z_MAX;
const SYMBOL = { sigmoid: "σ", tanh: "tanh", relu: "relu", linear: "z" };

/** The RNN model of an activation (the catalogue's entry: its γ, its colour's key). */
const rnnOf = (activation) => MODELS[modelKey({ cell: "rnn", activation })];

export class WhyChart extends Panel {
  /** @param statsEl a list: one line per RNN of the run, in words */
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
    this.hist = this.rnns.map(() => new Histogram(Z_MIN, Z_MAX, BIN));
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
    const zs = linspace(Z_MIN, Z_MAX, 321);
    const names = ["sigmoid", "tanh"];
    if (this.rnns.some((m) => m.activation === "relu")) names.push("relu");
    const out = [];
    for (const name of names) {
      const a = PHI[name];
      const sym = SYMBOL[name];
      const colour = theme.models[rnnOf(name).key];
      if (name !== "relu") {
        out.push({
          type: "scatter", mode: "lines", x: zs, y: zs.map(a.phi), name: `${sym}(z)`,
          line: { color: colour, width: 2 }, legendgroup: name,
          hovertemplate: `${sym}(%{x:.2f}) = %{y:.3f}<extra></extra>`,
          meta: { kind: "phi", activation: name },
        });
      }
      out.push({
        type: "scatter", mode: "lines", x: zs, y: zs.map(a.dphi), name: `${sym}′(z)`,
        line: { color: colour, width: 2, dash: "dash" }, legendgroup: name,
        hovertemplate: `${sym}′(%{x:.2f}) = %{y:.3f}<extra></extra>`,
        meta: { kind: "dphi", activation: name },
      });
    }
    this.firstBar = out.length;
    this.rnns.forEach((m, j) => {
      const h = this.hist[j];
      out.push({
        type: "bar", x: h.centres(), y: h.density(), width: BIN, yaxis: "y2",
        name: t("explore.why.bar", { label: m.label }), marker: { color: modelColour(theme, m), line: { width: 0 } },
        opacity: 0.38, hovertemplate: `${t("explore.why.hover.bar", { label: m.label })}<extra></extra>`,
        meta: { kind: "density", model: modelKey(m) },
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
    const sigmoid = rnnOf("sigmoid");
    const tanh = rnnOf("tanh");
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
      shapes: [line(sigmoid.gamma, theme.models[sigmoid.key]), line(tanh.gamma, theme.models[tanh.key])],
      annotations: [
        { x: Z_MAX, y: sigmoid.gamma, xanchor: "right", yanchor: "bottom", showarrow: false,
          text: `γ = sup σ′ = ${gammaLabel(sigmoid.gamma)}`, font: { size: 11, color: theme.models[sigmoid.key] } },
        { x: Z_MIN, y: tanh.gamma, xanchor: "left", yanchor: "bottom", showarrow: false,
          text: `γ = sup tanh′ = ${gammaLabel(tanh.gamma)}`, font: { size: 11, color: theme.models[tanh.key] } },
      ],
    });
  }

  /** Add (sign +1) or take away (sign −1) step `at`'s pre-activations to each RNN's histogram. */
  addStep(at, sign) {
    this.rnns.forEach((m, j) => {
      const z = this.run.fwd[m.index].preactivation?.[at - 1];
      if (!z) return;
      const model = MODELS[modelKey(m)];
      this.hist[j].add(z, sign, PHI[model.activation].dphi, model.gamma);
    });
  }

  sync(p) {
    if (!this.run || !this.rnns.length) return;
    const f = Math.min(p, this.run.T);
    if (f === this.shown) return;
    if (f > this.shown) for (let at = this.shown + 1; at <= f; at++) this.addStep(at, +1);
    else for (let at = this.shown; at > f; at--) this.addStep(at, -1);
    this.shown = f;
    this.dirty = true;
  }

  build() {
    react(this.el, this.traces(), this.layout(), config("why-activations"));
    this.renderStats();
  }

  update() {
    const idx = this.rnns.map((_, j) => this.firstBar + j);
    if (idx.length) Plotly.restyle(this.el, { y: this.hist.map((h) => h.density()) }, idx);
    this.renderStats();
  }

  renderStats() {
    const el = this.statsEl;
    el.replaceChildren();
    // the list's one line when there is nothing to count (a list holds items only)
    const only = (text) => el.append(Object.assign(document.createElement("li"), { textContent: text }));
    if (!this.run) {
      only(t("explore.why.stats.idle"));
      return;
    }
    if (!this.rnns.length) {
      only(t("explore.why.stats.no_rnn"));
      return;
    }
    for (const [j, m] of this.rnns.entries()) {
      const h = this.hist[j];
      const model = MODELS[modelKey(m)];
      const li = document.createElement("li");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.dataset.model = model.key;
      li.append(sw);
      // one sentence in parts, the optional ones after the first (each text starts with its "; ")
      const parts = whyLine(m, h).map(say).join("");
      li.append(h.n ? `${parts}.` : parts);
      el.append(li);
    }
  }
}
