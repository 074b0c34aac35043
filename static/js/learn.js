// The teaching layer: five explainers under the Explore tab's charts, each drawn from the run on
// screen (templates/learn.html). run-controller.js announces runs (run-events.js); the explainers redraw
// when a run starts, when its stream has ended, on the bound's σ_max slider, and when the
// language or the theme changes. The 2-D zig-zag comes from GET /api/explain/zigzag (computed by
// the server, like everything else on the page).

import { MODELS, gammaLabel, modelKey } from "./catalogue.js";
import { fmt, pow10 } from "./format.js";
import {
  PHI, boundBack, gateProduct, isFinitePositive, logRange, positiveOrNull, regime, relativeToLast, sigmoid,
} from "./gradient-math.js";
import { language, onLanguage, t } from "./i18n.js";
import { axis, baseLayout, config } from "./plot-style.js";
import { onRun } from "./run-events.js";
import { ceilingLines, highwayLines, say, zigzagLines, zigzagPathLines } from "./sentences.js";
import { onThemeChange, readTheme } from "./theme.js";

const $ = (selector) => document.querySelector(selector);
const FORGET_BIASES = [0, 1, 3];
const HIGHWAY_STEPS = 100;

/** The catalogue's entry of the RNN with this activation (its key, its γ). */
const rnn = (activation) => MODELS[modelKey({ cell: "rnn", activation })];

/** A label for the activation's model in the current language ("the sigmoid RNN"). */
function rnnName(activation) {
  return t("learn.rnn_name", { activation });
}

export class Explainers {
  constructor() {
    this.theme = readTheme();
    this.run = null;
    this.complete = false;
    this.zigzag = null; // the API's answer for zigzagSeed
    this.zigzagSeed = null;
    this.zigzagError = null;
    this.sigma = null; // the bound slider, once the user moved it
    this.queue = null; // explainers still to redraw (render, drain)
    this.figures = new WeakMap(); // chart → what its figure was drawn from (plot's `inputs`)
    this.el = {
      ceiling: $("#chart-ceiling"), ceilingLive: $("#ceiling-live"),
      zigzagStat: $("#chart-zigzag-stat"), zigzagLive: $("#zigzag-live"),
      zigzagPath: $("#chart-zigzag-path"), zigzagPathLive: $("#zigzag-path-live"),
      bound: $("#chart-bound"), boundSigma: $("#bound-sigma"), boundValue: $("#bound-sigma-value"),
      boundRun: $("#bound-run"), boundRegimes: $("#bound-regimes"), boundLive: $("#bound-live"),
      highway: $("#chart-highway"), highwayRows: $("#highway-rows"), highwayLive: $("#highway-live"),
    };
    this.el.boundSigma.addEventListener("input", () => {
      this.sigma = Number(this.el.boundSigma.value);
      this.renderBound();
    });
    this.el.boundRun.addEventListener("click", () => runWith({ sigma: this.sliderSigma() }));
    // the bounds can be hidden: the y range is the measurements' either way (a bound of 10²⁸⁸ squashed them)
    this.el.boundShow = $("#bound-show");
    this.el.boundShow.addEventListener("change", () => this.renderBound());
    onRun((run, complete) => this.setRun(run, complete));
    onLanguage(() => this.render());
    onThemeChange((theme) => { this.theme = theme; this.render(); });
    this.render();
    // the zig-zag example of seed 0 before any run, once its chart comes into view
    new IntersectionObserver((entries, observer) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      observer.disconnect();
      if (this.zigzagSeed === null) this.loadZigzag(0);
    }, { rootMargin: "200px" }).observe(this.el.zigzagPath);
  }

  setRun(run, complete) {
    const fresh = run !== this.run;
    this.run = run;
    this.complete = complete;
    if (fresh) this.sigma = null; // the slider follows the new run until moved
    delete document.documentElement.dataset.explained;
    this.render();
    this.loadZigzag(Number(run?.config?.seed ?? 0));
  }

  /** The run's models of one cell type, with their summary (once the stream has ended). */
  models(cell) {
    if (!this.run) return [];
    return this.run.models.filter((m) => m.cell === cell).map((m) => ({
      ...m, key: modelKey(m), summary: this.run.summaries[m.index], fwd: this.run.fwd[m.index],
    }));
  }

  colour(key) {
    return this.theme.models[key] || this.theme.text;
  }

  /** Redraw every explainer, one per idle slot of the main thread: five Plotly redraws in one
   * task would be one long task at the end of every run (the page's budget is 200 ms). When the
   * queue has drained after a complete run, <html data-explained="true"> says so. */
  render() {
    const pending = !this.queue;
    this.queue = ["renderCeiling", "renderZigzagStat", "renderZigzagPath", "renderBound", "renderHighway"];
    if (pending) this.drain();
  }

  drain() {
    const idle = window.requestIdleCallback || ((fn) => setTimeout(fn, 16));
    idle(() => {
      const next = this.queue.shift();
      if (next) this[next]();
      if (this.queue.length) {
        this.drain();
        return;
      }
      this.queue = null;
      this.markExplained();
    }, { timeout: 300 });
  }

  /** <html data-explained="true"> (for tests and benchmarks): a complete run is drawn in every
   * explainer, the zig-zag example of its seed included. */
  markExplained() {
    const zigzagDone = this.zigzagError !== null || this.zigzag?.seed === this.zigzagSeed;
    if (this.complete && !this.queue && zigzagDone) document.documentElement.dataset.explained = "true";
  }

  layout(extra) {
    return baseLayout(this.theme, { margin: { l: 58, r: 14, t: 8, b: 44 }, ...extra });
  }

  /** Draw the figure into `el`. With `inputs` (everything the figure is made of besides the
   * theme and the language), a chart that already shows them is left as it is: the derivative
   * ceiling and the zig-zag example do not change with the run, and drawing them again after
   * every run cost the page two tasks of 15–40 ms for the same picture. */
  plot(el, traces, layout, name, inputs = null) {
    const from = inputs && [this.theme, language(), ...inputs];
    const shown = this.figures.get(el);
    if (from && shown?.length === from.length && shown.every((v, k) => v === from[k])) return;
    this.figures.set(el, from);
    window.Plotly.react(el, traces, layout, config(name));
  }

  // ------------------------------------------------------------ 1. the derivative ceiling

  renderCeiling() {
    const xs = Array.from({ length: 241 }, (_, k) => -6 + k * 0.05);
    const th = this.theme;
    const traces = [
      { x: xs, y: xs.map(PHI.sigmoid.dphi), name: t("learn.ceiling.trace_sigmoid"), mode: "lines",
        line: { color: this.colour(rnn("sigmoid").key), width: 2.5 }, meta: { kind: "dphi", activation: "sigmoid" } },
      { x: xs, y: xs.map(PHI.tanh.dphi), name: t("learn.ceiling.trace_tanh"), mode: "lines",
        line: { color: this.colour(rnn("tanh").key), width: 5, dash: "solid" }, opacity: 0.45,
        meta: { kind: "dphi", activation: "tanh" } },
      { x: xs, y: xs.map((x) => 4 * PHI.sigmoid.dphi(2 * x)), name: t("learn.ceiling.trace_identity"), mode: "lines",
        line: { color: th.text, width: 1.5, dash: "dot" }, meta: { kind: "identity" } },
    ];
    const mark = (y, text) => ({ x: 6, y, xanchor: "right", yanchor: "bottom", text, showarrow: false,
      font: { color: th.muted, size: 11 } });
    this.plot(this.el.ceiling, traces, this.layout({
      xaxis: axis(th, { title: { text: t("learn.ceiling.axis_x") }, zeroline: false }),
      yaxis: axis(th, { title: { text: t("learn.ceiling.axis_y") }, range: [0, 1.08] }),
      shapes: [rnn("sigmoid").gamma, rnn("tanh").gamma].map((y) => ({ type: "line", xref: "paper", x0: 0, x1: 1,
        y0: y, y1: y, line: { color: th.axis, width: 1, dash: "dash" } })),
      annotations: [mark(rnn("sigmoid").gamma, t("learn.ceiling.mark_sigmoid")),
        mark(rnn("tanh").gamma, t("learn.ceiling.mark_tanh"))],
    }), "derivative-ceiling", []);

    const rnns = this.models("rnn").map((m) => ({
      activation: m.activation, name: rnnName(m.activation), preactivation: m.fwd.preactivation,
    }));
    const lines = ceilingLines(this.run ? this.run.T : 50, rnns).map(say);
    this.el.ceilingLive.replaceChildren(...lines.map((line) => Object.assign(document.createElement("span"), { textContent: line })));
  }

  // ------------------------------------------------------------ 2. the zig-zag

  renderZigzagStat() {
    const th = this.theme;
    const rnns = this.models("rnn").filter((m) => m.summary?.sign_uniform);
    const traces = rnns.map((m) => ({
      x: m.summary.sign_uniform.map((_, k) => k + 1).slice(1), y: m.summary.sign_uniform.slice(1),
      name: m.label, mode: "lines", line: { color: this.colour(m.key), width: 2.2 },
      hovertemplate: t("learn.zigzag.hover") + "<extra>" + m.label + "</extra>", meta: { kind: "zigzag", model: m.key },
    }));
    this.plot(this.el.zigzagStat, traces, this.layout({
      xaxis: axis(th, { title: { text: t("learn.axis_t") } }),
      yaxis: axis(th, { title: { text: t("learn.zigzag.axis_stat") }, range: [-0.03, 1.08] }),
      annotations: traces.length ? [] : [{ text: t(this.run ? "learn.zigzag.no_rnn" : "learn.waiting"),
        xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false, font: { color: th.muted } }],
    }), "zigzag-statistic");

    const lines = zigzagLines(rnns.map((m) => ({ label: m.label, sign_uniform: m.summary.sign_uniform }))).map(say);
    this.el.zigzagLive.replaceChildren(...lines.map((line) => Object.assign(document.createElement("span"), { textContent: line })));
  }

  async loadZigzag(seed) {
    if (seed === this.zigzagSeed) return;
    this.zigzagSeed = seed;
    try {
      const response = await fetch(`/api/explain/zigzag?seed=${encodeURIComponent(seed)}`);
      const body = await response.json();
      if (seed !== this.zigzagSeed) return;
      if (!response.ok) throw new Error(body.detail || `HTTP ${response.status}`);
      this.zigzag = body;
      this.zigzagError = null;
    } catch (e) {
      if (seed !== this.zigzagSeed) return;
      this.zigzag = null;
      this.zigzagError = e.message || String(e);
    }
    this.renderZigzagPath();
    this.markExplained();
  }

  renderZigzagPath() {
    const th = this.theme;
    const z = this.zigzag;
    const traces = [];
    if (z) {
      traces.push({ x: [z.start[0], z.target[0]], y: [z.start[1], z.target[1]], name: t("learn.zigzag.direct"),
        mode: "lines", line: { color: th.muted, width: 1.5, dash: "dot" }, hoverinfo: "skip" });
      for (const m of z.models) {
        const { key } = rnn(m.activation);
        traces.push({ x: m.path.map((p) => p[0]), y: m.path.map((p) => p[1]),
          name: t(`learn.zigzag.path.${m.activation}`), mode: "lines+markers",
          line: { color: this.colour(key), width: 1.6 }, marker: { size: 3.5, color: this.colour(key) },
          hovertemplate: "w = (%{x:.3f}, %{y:.3f})<extra></extra>" });
      }
      traces.push({ x: [z.target[0]], y: [z.target[1]], name: t("learn.zigzag.target"), mode: "markers",
        marker: { symbol: "star", size: 14, color: th.text }, hoverinfo: "skip" });
    }
    this.plot(this.el.zigzagPath, traces, this.layout({
      xaxis: axis(th, { title: { text: "w₁" }, zeroline: true }),
      yaxis: axis(th, { title: { text: "w₂" }, zeroline: true, scaleanchor: "x", scaleratio: 1 }),
      annotations: z ? [] : [{ text: this.zigzagError ? t("learn.zigzag.error", { detail: this.zigzagError }) : t("learn.waiting"),
        xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false, font: { color: th.muted } }],
    }), "zigzag-descent", [z, this.zigzagError]);

    const runSeed = this.run ? Number(this.run.config?.seed ?? 0) : null;
    const lines = z ? zigzagPathLines(z, runSeed).map(say) : [];
    this.el.zigzagPathLive.replaceChildren(...lines.map((line) => Object.assign(document.createElement("span"), { textContent: line })));
  }

  // ------------------------------------------------------------ 3. the bound

  /** σ_max of the measured run: the first RNN's σ_max(W_hh) (all RNNs of a run share W_hh). */
  runSigma() {
    const s = this.models("rnn").find((m) => m.summary)?.summary.summary.sigma_max;
    return Number.isFinite(s) ? s : null;
  }

  sliderSigma() {
    return this.sigma ?? this.runSigma() ?? 1;
  }

  renderBound() {
    const th = this.theme;
    const sigma = this.sliderSigma();
    this.el.boundSigma.value = String(sigma);
    this.el.boundValue.textContent = sigma.toFixed(2);
    const measured = this.runSigma();
    this.el.boundRun.textContent = t("learn.bound.run", { sigma: sigma.toFixed(2) });
    this.el.boundRun.hidden = measured !== null && Math.abs(measured - sigma) < 0.005;

    const T = this.run?.T ?? 50;
    const rnns = this.models("rnn");
    const activations = rnns.length ? [...new Set(rnns.map((m) => m.activation))] : ["sigmoid", "tanh"];
    const ks = Array.from({ length: T }, (_, k) => k); // steps back, T − t
    const traces = [];
    const values = [];
    const measuredValues = [];
    const showBounds = this.el.boundShow.checked;
    for (const act of activations) {
      const { key, gamma } = rnn(act);
      const y = boundBack(gamma, sigma, T);
      values.push(...y);
      // relu's bound is tanh's (both γ = 1): drawn dash-dot and named so, not hidden under it
      const same = act === "relu" && activations.includes("tanh");
      traces.push({ x: ks, y: y.map(positiveOrNull),
        name: t(same ? "learn.bound.trace_bound_same" : "learn.bound.trace_bound", { activation: act }),
        mode: "lines", line: { color: this.colour(key), width: same ? 2.6 : 2, dash: same ? "dashdot" : "dash" },
        visible: showBounds ? true : "legendonly", meta: { kind: "bound", model: key } });
    }
    for (const m of rnns) {
      const s = m.summary;
      if (!s) continue;
      const jac = s.jacobian_norm;
      const y = (jac ? [...jac] : relativeToLast(s.grad_norm)).reverse(); // by steps back
      values.push(...y);
      measuredValues.push(...y);
      traces.push({ x: ks, y: y.map(positiveOrNull),
        name: t(jac ? "learn.bound.trace_jacobian" : "learn.bound.trace_grad", { name: m.label }),
        mode: "lines", line: { color: this.colour(m.key), width: 2.4 },
        meta: { kind: jac ? "jacobian_norm" : "grad_norm", model: m.key } });
    }
    // the measurements set the range once there are any; a bound beyond it runs off the chart
    const [lo, hi] = logRange(measuredValues.some(isFinitePositive) ? measuredValues : values, [1]);
    const one = (0 - lo) / (hi - lo); // where y = 1 sits in the plot's height
    const region = (y0, y1, colour) => ({ type: "rect", xref: "paper", yref: "y domain", x0: 0, x1: 1, y0, y1,
      fillcolor: colour, line: { width: 0 }, layer: "below" });
    const label = (y, text) => ({ xref: "paper", yref: "y domain", x: 0.99, y, xanchor: "right", text,
      showarrow: false, font: { color: th.muted, size: 11 } });
    const clamp = (v) => Math.min(1, Math.max(0, v));
    this.plot(this.el.bound, traces, this.layout({
      xaxis: axis(th, { title: { text: t("learn.axis_back") } }),
      margin: { l: 76, r: 14, t: 8, b: 44 }, // the y title clear of the ticks' powers of ten
      yaxis: axis(th, { type: "log", range: [lo, hi], title: { text: t("learn.bound.axis_y"), standoff: 12 },
        exponentformat: "power", automargin: true }),
      shapes: [region(clamp(one), 1, th.dark ? "rgba(232,119,46,0.12)" : "rgba(213,94,0,0.07)"),
        region(0, clamp(one), th.dark ? "rgba(86,180,233,0.12)" : "rgba(0,114,178,0.07)")],
      annotations: [ // each region's name at its far edge, where no curve starts
        ...(one < 0.9 ? [{ ...label(0.98, t("learn.bound.region_explode")), yanchor: "top" }] : []),
        ...(one > 0.1 ? [{ ...label(0.02, t("learn.bound.region_vanish")), yanchor: "bottom" }] : []),
      ],
    }), "bound");

    this.el.boundRegimes.replaceChildren(...activations.map((act) => {
      const { gamma } = rnn(act);
      const g = gamma * sigma;
      const li = document.createElement("li");
      const where = regime(g);
      li.className = `regime regime-${where}`;
      li.textContent = t(`learn.bound.regime.${where}`, {
        activation: act, gamma: gammaLabel(gamma), sigma: sigma.toFixed(2), product: fmt(g, 3),
      });
      return li;
    }));
    // "every solid curve stays under its dashed bound" only where the numbers drawn say so: with a
    // loss at every step and no Jacobian norms the solid curve is ‖∂L/∂h_t‖, which it need not bound
    const above = rnns.filter((m) => m.summary).filter((m) => {
      const s = m.summary;
      const y = (s.jacobian_norm ? [...s.jacobian_norm] : relativeToLast(s.grad_norm)).reverse();
      const b = boundBack(rnn(m.activation).gamma, sigma, T);
      return y.some((v, k) => v === null || !(v <= b[k] * (1 + 1e-9)));
    }).map((m) => m.label);
    const words = { measured: measured?.toFixed(2), sigma: sigma.toFixed(2), names: above.join(", ") };
    this.el.boundLive.dataset.above = above.join(",");
    this.el.boundLive.textContent = measured === null
      ? t(this.run ? "learn.bound.live_no_rnn" : "learn.bound.live_waiting")
      : Math.abs(measured - sigma) >= 0.005 ? t("learn.bound.live_other", words)
        : t(above.length ? "learn.bound.live_same_above" : "learn.bound.live_same", words);
  }

  // ------------------------------------------------------------ 4. the LSTM's highway

  renderHighway() {
    const th = this.theme;
    const lstms = this.models("lstm");
    const T = this.run?.T ?? 0;
    const traces = [];
    const live = [];
    for (const m of lstms) {
      const forget = m.fwd.gates?.forget;
      if (!forget || forget.some((f) => !f)) continue;
      // Π_{k=t+1..T} f_k per unit (batch item 0), then the mean over units; index t − 1
      const prod = gateProduct(forget);
      const ts = prod.map((_, k) => k + 1);
      traces.push({ x: ts, y: prod.map(positiveOrNull), name: t("learn.highway.trace_forget", { name: m.label }),
        mode: "lines", line: { color: this.colour(m.key), width: 2.2, dash: "dash" }, meta: { kind: "forget_product", model: m.key } });
      const c = m.summary?.cell_grad_norm;
      const kept = c && isFinitePositive(c[T - 1]);
      if (kept) {
        traces.push({ x: ts, y: relativeToLast(c), name: t("learn.highway.trace_cell", { name: m.label }),
          mode: "lines", line: { color: this.colour(m.key), width: 2.6 }, meta: { kind: "cell_grad_norm", model: m.key } });
      }
    }
    live.push(...highwayLines(T, this.run?.config.init.forget_bias, lstms.map((m) => ({
      label: m.label, gates: m.fwd.gates, cell_grad_norm: m.summary?.cell_grad_norm,
    }))).map(say));
    for (const m of this.models("rnn")) { // the vanilla RNNs' ‖∂L/∂h_t‖, for contrast
      const g = m.summary?.grad_norm;
      if (!g || !isFinitePositive(g[T - 1])) continue;
      traces.push({ x: g.map((_, k) => k + 1), y: relativeToLast(g),
        name: t("learn.highway.trace_rnn", { name: m.label }), mode: "lines",
        line: { color: this.colour(m.key), width: 1.4, dash: "dot" }, meta: { kind: "grad_norm", model: m.key } });
    }
    this.plot(this.el.highway, traces, this.layout({
      xaxis: axis(th, { title: { text: t("learn.axis_t") } }),
      yaxis: axis(th, { type: "log", title: { text: t("learn.highway.axis_y") }, exponentformat: "power" }),
      annotations: lstms.length ? [] : [{ text: t(this.run ? "learn.highway.no_lstm" : "learn.waiting"),
        xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false, font: { color: th.muted } }],
    }), "lstm-highway");

    const runBias = this.run ? Number(this.run.config.init.forget_bias) : null;
    this.el.highwayRows.replaceChildren(...FORGET_BIASES.map((b) => {
      const f = sigmoid(b);
      const row = document.createElement("tr");
      if (b === runBias) row.className = "is-current";
      const cells = [String(b), fmt(f, 3), pow10(HIGHWAY_STEPS * Math.log10(f), 0)];
      for (const text of cells) row.append(Object.assign(document.createElement("td"), { textContent: text }));
      const action = document.createElement("td");
      const button = Object.assign(document.createElement("button"), { type: "button", className: "ghost small",
        textContent: t("learn.highway.try", { bias: b }) });
      button.dataset.forgetBias = String(b);
      button.title = t("learn.highway.try.title", { bias: b });
      button.addEventListener("click", () => runWith({ forgetBias: b, ensureLstm: true }));
      action.append(button);
      row.append(action);
      return row;
    }));
    this.el.highwayLive.replaceChildren(...live.map((line) => Object.assign(document.createElement("span"), { textContent: line })));
  }
}

/** Set the Explore controls and press Run: the explainers' "run at σ_max = …" and "try forget
 * bias …" buttons. The controls' own listeners keep the URL in step. */
export function runWith({ sigma, forgetBias, ensureLstm = false }) {
  const fire = (el, type) => el.dispatchEvent(new Event(type, { bubbles: true }));
  if (sigma !== undefined) {
    const on = $("#sigma_on");
    if (!on.checked) { on.checked = true; fire(on, "input"); fire(on, "change"); }
    const number = $("#sigma_value");
    number.value = String(Number(sigma.toFixed(2)));
    fire(number, "input");
    fire(number, "change");
  }
  if (forgetBias !== undefined) {
    const field = document.querySelector('#controls [name="forget_bias"]');
    field.value = String(forgetBias);
    fire(field, "input");
    fire(field, "change");
  }
  if (ensureLstm) {
    const box = document.querySelector('#controls input[name="models"][value="lstm"]');
    if (box && !box.checked) { box.checked = true; fire(box, "change"); }
  }
  $("#run").click();
  const behavior = matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth"; // less motion: a jump
  $("#views")?.scrollIntoView({ behavior, block: "start" });
}


new Explainers();
