// The sentences the page writes about a run's or a training's numbers: which text of
// static/i18n/<lang>.json each one is, and which of the run's numbers it quotes. Plain functions
// of the API's JSON, no DOM: the views write what these choose, and
// tests/test_browser_sentences.py calls them on many runs and checks each chosen text's claim
// with core/claims.py, their Python twin (docs/page.md lists them all).
//
// A sentence is {key, values, quotes}: the text's key; its placeholders' values (a string, a
// number, or a sentence, written first); and `quotes`, the run's numbers that the claim is
// about, unformatted. Two more shapes fill placeholders: {text} (digits the same in every
// language, "10⁻³³·²") and {items, join} (sentences joined by the text `join`). `say` writes
// any of them in the current language.
//
// A model here is one entry of the API's `models` (POST /api/runs) with its `weights` (the
// uploaded network's id, or null) and, for the words that name it, its `label`; a page's
// RunData gives the same fields (summary.js).

import { MODELS, gammaLabel, modelKey, networkName, trainedFrom } from "./catalogue.js";
import { fmt, metricText, metricValue, pow10, superscript } from "./format.js";
import { Histogram, PHI, firstZero, gateProduct, isFinitePositive, meanLog10, meanOfFinite } from "./gradient-math.js";
import { t } from "./i18n.js";

const sentence = (key, values = {}, quotes = {}) => ({ key, values, quotes });
const literal = (text, quotes = {}) => ({ text, quotes });

/** A sentence (or a plain string) in the current language. */
export function say(s) {
  if (typeof s === "string") return s;
  if (s.items) return s.items.map(say).join(t(s.join));
  if (s.text !== undefined) return s.text;
  const values = {};
  for (const [name, v] of Object.entries(s.values)) values[name] = v !== null && typeof v === "object" ? say(v) : v;
  return t(s.key, values);
}

/** The API's models with their `weights` (config.models[i].weights) and a summary: the answer
 * of POST /api/runs in the shape the sentences read. */
export function runModels(answer) {
  return answer.models.map((m, i) => ({ ...m, weights: m.weights ?? answer.config.models?.[i]?.weights ?? null }));
}

// ------------------------------------------------------------------------ Explore: cards, headline

/** "5 steps" / "1 step" */
export function stepsOf(n) {
  return sentence(n === 1 ? "explore.steps.one" : "explore.steps.many", { n }, { n });
}

/** "the sigmoid RNN", "the LSTM", "your network model.pt", "the trained LSTM" (a network the
 * Train tab trained, run as its own model) (`start`: at a sentence's start) */
export function nameOf(m, { start = false } = {}) {
  const trained = m.weights ? trainedFrom(m.weights) : null;
  if (trained && trained.key === modelKey(m)) {
    return sentence(start ? "networks.name.trained.start" : "networks.name.trained", { model: trained.label });
  }
  if (m.weights) return sentence(start ? "networks.name.start" : "networks.name", { name: networkName(m.weights) });
  const key = modelKey(m);
  return sentence(start ? `explore.name.start.${key}` : `explore.name.${key}`);
}

/** How a ratio r = 10^x of a reference reads: "10⁻³³ of its start", "40% of its start", …
 * (`ref`: "start", or "T" for "its value at T") */
export function ratioPhrase(x, ref = "start") {
  const of = sentence(ref === "T" ? "explore.ratio.ref.T" : "explore.ratio.ref.start");
  const quotes = { log10_ratio: x };
  if (x <= -1.5) return sentence("explore.ratio.pow", { pow: pow10(x), ref: of }, quotes);
  if (x < 0) return sentence("explore.ratio.percent", { pct: Math.round(100 * 10 ** x), ref: of }, quotes);
  if (x < 1.5) return sentence("explore.ratio.times_small", { v: (10 ** x).toFixed(1), ref: of }, quotes);
  return sentence("explore.ratio.times", { pow: pow10(x), ref: of }, quotes);
}

/** A gradient norm that fell to exactly 0 from below this underflowed (float64's smallest
 * subnormal is 5·10⁻³²⁴); from above it, one step cut it: every unit's φ′ was 0 there (a relu
 * switched off, a unit saturated until φ′ rounded to 0). */
export const UNDERFLOW_FROM = 1e-300;

/** How a gradient reached exactly 0 at step tz (1-based; ‖∂L/∂h_{tz+1}‖ > 0): "zero" (an
 * underflow), or "cut", with the quotes {zero_at, steps_back, from_log10}. */
function zeroOf(g, T, tz) {
  const from = g[tz];
  const quotes = { zero_at: tz, steps_back: T - tz, from_log10: Math.log10(from) };
  return from < UNDERFLOW_FROM ? { kind: "zero", quotes } : { kind: "cut", quotes, from: fmt(from) };
}

/** Whether a forward overflow was the loss's alone: ‖∂L/∂h_T‖ is finite, so h_T and the output
 * were (the core reports an overflow of the loss alone as the forward sweep's at T). */
function lossOverflow(m, T) {
  const u = m.summary;
  return u.overflow_phase === "forward" && u.overflow_step === T && m.grad_norm?.[T - 1] !== null;
}

/** What happened to a model's gradient over T steps, as one clause of the headline: the first
 * model's ("the sigmoid RNN's gradient is …") or a later one's ("the LSTM's is …"). */
export function clause(m, T, first) {
  const u = m.summary;
  const v = { name: nameOf(m), t: u.overflow_step };
  const pick = (a, b) => (first ? a : b);
  if (u.overflow_step !== null) {
    const quotes = { t: u.overflow_step };
    if (lossOverflow(m, T)) {
      return sentence(pick("explore.clause.first.overflow_loss", "explore.clause.rest.overflow_loss"), v, quotes);
    }
    if (u.overflow_phase === "forward") {
      return sentence(pick("explore.clause.first.overflow_forward", "explore.clause.rest.overflow_forward"), v, quotes);
    }
    return sentence(pick("explore.clause.first.overflow_backward", "explore.clause.rest.overflow_backward"), v, quotes);
  }
  if (u.log10_grad_ratio === null) {
    const tz = firstZero(m.grad_norm);
    if (!tz) return sentence(pick("explore.clause.first.not_finite", "explore.clause.rest.not_finite"), v);
    const { kind, quotes } = zeroOf(m.grad_norm, T, tz);
    return sentence(pick(`explore.clause.first.${kind}`, `explore.clause.rest.${kind}`), { ...v, steps: stepsOf(T - tz) },
      quotes);
  }
  const x = u.log10_grad_ratio;
  const quotes = { log10_ratio: x };
  // after the first model, "10⁻⁵ of its start" is said as "10⁻⁵"
  if (!first && x <= -1.5) return sentence("explore.clause.rest.pow", { ...v, pow: pow10(x) }, quotes);
  return sentence(pick("explore.clause.first.ratio", "explore.clause.rest.ratio"), { ...v, ratio: ratioPhrase(x) }, quotes);
}

/** The headline of a complete run (`answer`: {config, models} as POST /api/runs answers; a model
 * without its summary yet is left out): "After 49 steps back, the sigmoid RNN's gradient is
 * 10⁻³³ of its start; the LSTM's is 10⁻⁵." Null when no model has its summary. */
export function headline(answer) {
  const T = answer.config.seq_len;
  const clauses = runModels(answer).filter((m) => m.summary).map((m, k) => clause(m, T, k === 0));
  if (!clauses.length) return null;
  const key = answer.config.loss?.at === "all" ? "explore.headline.all" : "explore.headline";
  return sentence(key, { steps: stepsOf(T - 1), clauses: { items: clauses, join: "explore.headline.join" } },
    { steps_back: T - 1 });
}

/** One sentence per model: what its gradient did over T steps and what that means. With a loss
 * at every step (`at` "all") each h_t has its own step's loss too: the ratio is said, not read
 * as memory. */
export function reading(m, T, at = "last") {
  const u = m.summary;
  const v = { name: nameOf(m), Name: nameOf(m, { start: true }), t: u.overflow_step };
  if (at === "all" && u.overflow_step === null && u.log10_grad_ratio !== null) {
    return sentence("explore.reading.all", { ...v, ratio: ratioPhrase(u.log10_grad_ratio, "T") },
      { log10_ratio: u.log10_grad_ratio });
  }
  if (u.overflow_step !== null) {
    const key = lossOverflow(m, T) ? "explore.reading.overflow_loss"
      : u.overflow_phase === "forward" ? "explore.reading.overflow_forward" : "explore.reading.overflow_backward";
    return sentence(key, v, { t: u.overflow_step });
  }
  if (u.log10_grad_ratio === null) {
    const tz = firstZero(m.grad_norm);
    if (!tz) return sentence("explore.reading.not_finite", v);
    const { kind, quotes, from } = zeroOf(m.grad_norm, T, tz);
    return sentence(`explore.reading.${kind}`, { ...v, steps: stepsOf(T - tz), from }, quotes);
  }
  const x = u.log10_grad_ratio;
  const h = u.memory_horizon;
  Object.assign(v, { steps: stepsOf(T - 1), ratio: ratioPhrase(x) });
  const quotes = { log10_ratio: x, steps_back: T - 1 };
  // a ratio of exactly 10⁻³ still meets the horizon's "≥ 10⁻³": that is kept all the way, not vanished
  if (x <= -3 && h !== null) return sentence("explore.reading.vanished", { ...v, horizon: stepsOf(h) }, { ...quotes, horizon: h });
  if (x < 3) {
    return h === null ? sentence("explore.reading.kept_all", v, quotes)
      : sentence("explore.reading.kept", { ...v, horizon: stepsOf(h) }, { ...quotes, horizon: h });
  }
  return sentence("explore.reading.exploded", v, quotes);
}

/** A card's line during the backward sweep at playback position p (T < p ≤ 2T; before it, the
 * forward sweep's): how ‖∂L/∂h_t‖ compares with its value at T so far. `grad_norm` may still
 * hold nulls for the steps not yet received. */
export function liveLine(gradNorm, T, p) {
  if (p <= 0) return sentence("explore.card.waiting");
  if (p <= T) return sentence("explore.card.forward", { t: p, T }, { t: p });
  const at = Math.max(1, 2 * T - p + 1);
  const gT = gradNorm[T - 1];
  const gt = gradNorm[at - 1];
  if (gt === null || gT === null) return sentence("explore.card.backward.overflow", { t: at }, { t: at });
  if (gt === 0) {
    // the step after is in (the sweep goes back from T): whether it underflowed or was cut
    const next = at < T ? gradNorm[at] : null;
    if (next !== null && next >= UNDERFLOW_FROM) {
      return sentence("explore.card.backward.cut", { t: at }, { t: at, from_log10: Math.log10(next) });
    }
    return sentence("explore.card.backward.zero", { t: at }, { t: at });
  }
  const x = Math.log10(gt / gT);
  return sentence("explore.card.backward", { t: at, ratio: ratioPhrase(x, "T") }, { t: at, log10_ratio: x });
}

/** A card's numbers: the ratio ‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ as a power of ten, the memory horizon, the
 * step of an overflow (texts; `ratio` and `horizon` are also a pinned run's line). */
export function statRatio(m) {
  const u = m.summary;
  if (u.log10_grad_ratio !== null) return literal(pow10(u.log10_grad_ratio, 1), { log10_ratio: u.log10_grad_ratio });
  if (u.overflow_step !== null) return sentence("explore.not_finite");
  const tz = firstZero(m.grad_norm);
  const T = m.grad_norm.length;
  return sentence(tz && zeroOf(m.grad_norm, T, tz).kind === "cut" ? "explore.stat.ratio.cut" : "explore.stat.ratio.underflow");
}

export function statHorizon(m, T) {
  const h = m.summary.memory_horizon;
  return h === null ? sentence("explore.stat.horizon.all", { n: T - 1 }, { horizon: null, n: T - 1 })
    : { ...stepsOf(h), quotes: { horizon: h } };
}

export function statOverflow(m) {
  const { overflow_step: at, overflow_phase: phase } = m.summary;
  if (at === null) return sentence("explore.stat.overflow.none");
  return sentence(phase === "forward" ? "explore.stat.overflow.forward" : "explore.stat.overflow.backward", { t: at }, { t: at });
}

/** The title of γ·σ_max on a card: below 1 the bound forces vanishing. Null for a gated cell. */
export function statGammaSigma(m) {
  const { gamma } = MODELS[modelKey(m)];
  const sigma = m.summary.sigma_max;
  if (gamma === null || sigma === null) return null;
  const gs = gamma * sigma;
  return sentence(gs < 1 ? "explore.stat.gs.below" : "explore.stat.gs.above", {}, { gamma_sigma: gs });
}

/** A pinned run's line per model: "ratio 10⁻³³·² · horizon 5 steps". */
export function pinNumbers(m, T) {
  const ratio = statRatio(m);
  const horizon = statHorizon(m, T);
  return sentence("compare.pin.numbers", { ratio, horizon }, { ...ratio.quotes, ...horizon.quotes });
}

/** The memory horizon over seeds: {median, low, high} in steps ("all" counts as T − 1). */
export function horizonSpread(horizons, T) {
  const h = horizons.map((v) => (v === null ? T - 1 : v)).sort((a, b) => a - b);
  const mid = h.length >> 1;
  const median = h.length % 2 ? h[mid] : (h[mid - 1] + h[mid]) / 2;
  return { median, low: h[0], high: h[h.length - 1] };
}

/** A card's line of a run over seeds: "median 12.5, 9–17 steps" (`horizons`: the memory horizon
 * at each seed, as POST /api/runs with `seeds` gives it). */
export function seedsSpread(horizons, T) {
  const { median, low, high } = horizonSpread(horizons, T);
  return sentence("compare.seeds.spread", { median: fmt(median), low, high }, { median, low, high });
}

/** The line under the headline: untrained weights drawn from the run's seed (all of the run's
 * models, or some beside uploaded networks); null when every model is an uploaded network. */
export function untrainedNote(answer) {
  const models = runModels(answer);
  const drawn = models.filter((m) => !m.weights).length;
  if (!drawn) return null;
  const { seed } = answer.config;
  return sentence(drawn === models.length ? "explore.untrained" : "explore.untrained.some", { seed }, { seed });
}

// ------------------------------------------------------------------------ Explore: the explainers

export const Z_MAX = 8; // the why-chart's z range is [−Z_MAX, Z_MAX)
export const Z_BIN = 0.25;
const SYMBOL = { sigmoid: "σ", tanh: "tanh", relu: "relu", linear: "z" };

/** The histogram of a vanilla RNN's pre-activations z_t for t = 1..upto (`preactivation`: T rows
 * of H values, a null row not yet received). */
export function preactivationHistogram(preactivation, activation, upto = preactivation.length) {
  const h = new Histogram(-Z_MAX, Z_MAX, Z_BIN);
  const { gamma } = MODELS[modelKey({ cell: "rnn", activation })];
  for (const z of preactivation.slice(0, upto)) if (z) h.add(z, 1, PHI[activation].dphi, gamma);
  return h;
}

/** A share of the histogram's values in per cent: one decimal, two below 0.1 %, and never "0.00"
 * for a share that is not 0. */
function percent(count, n) {
  const share = count / n;
  let text = (100 * share).toFixed(count && share < 0.001 ? 2 : 1);
  if (count && Number(text) === 0) text = String(Number((100 * share).toPrecision(1)));
  return `${text}%`;
}

/** The why-chart's line of one RNN (`m`: {label, activation}) over the histogram `h` of its
 * pre-activations: the parts of one sentence ("…: mean σ′(z) = 0.201 …; 3.1% saturated",
 * "; 0.4% of z off this chart", "; 1.0% not finite"), to be joined and ended with ".". */
export function whyLine(m, h) {
  const { gamma } = MODELS[modelKey({ cell: "rnn", activation: m.activation })];
  if (!h.n) return [sentence("explore.why.stats.waiting", { label: m.label })];
  const mean = h.meanDerivative;
  const off = h.below + h.above;
  const parts = [sentence("explore.why.stats.main", {
    label: m.label, sym: SYMBOL[m.activation], mean: Number.isFinite(mean) ? mean.toFixed(3) : "—",
    gamma: gammaLabel(gamma), saturated: percent(h.saturated, h.n),
  }, { mean_dphi: Number.isFinite(mean) ? mean : null, saturated: h.saturated / h.n, n: h.n })];
  if (off) parts.push(sentence("explore.why.stats.off", { pct: percent(off, h.n), max: Z_MAX }, { off: off / h.n }));
  if (h.nonfinite) {
    parts.push(sentence("explore.why.stats.nonfinite", { pct: percent(h.nonfinite, h.n) }, { nonfinite: h.nonfinite / h.n }));
  }
  return parts;
}

/** Explainer 1's lines: the ceiling γ^(T−1) of sigmoid's φ′ over the run's steps, then each
 * vanilla RNN's φ′ in this run (`rnns`: [{activation, name, preactivation}]; `name` the sentence
 * naming it). Relu's φ′ is 0 or 1: its share of active units is said instead. The values that
 * were not finite (null) are left out. */
export function ceilingLines(T, rnns) {
  const steps = T - 1;
  const lines = [sentence("learn.ceiling.live_bound", { n: steps, power: superscript(String(steps)),
    value: pow10(steps * Math.log10(MODELS[modelKey({ cell: "rnn", activation: "sigmoid" })].gamma), 1) }, { n: steps })];
  for (const m of rnns) {
    const pre = (m.preactivation?.filter(Boolean).flat() ?? []).filter((z) => z !== null);
    if (!pre.length) continue;
    if (m.activation === "relu") {
      const share = pre.filter((z) => z > 0).length / pre.length;
      lines.push(sentence("learn.ceiling.live_relu", { name: m.name, share: fmt(100 * share, 2) }, { active: share }));
      continue;
    }
    const mean = meanLog10(pre, PHI[m.activation].dphi); // −∞ when some φ′ is exactly 0
    lines.push(sentence("learn.ceiling.live_model", {
      name: m.name, mean: fmt(10 ** mean, 2), n: steps,
      value: Number.isFinite(mean) ? pow10(steps * mean, 1) : fmt(10 ** (steps * mean)),
    }, { log10_mean_dphi: mean, n: steps }));
  }
  return lines;
}

/** Explainer 2's lines: each vanilla RNN's sign-uniform statistic over t = 2..T (`rnns`:
 * [{label, sign_uniform}]): exactly 1 at every step, or its mean. */
export function zigzagLines(rnns) {
  return rnns.filter((m) => m.sign_uniform).map((m) => {
    const vals = m.sign_uniform.slice(1).filter((v) => v !== null);
    const mean = meanOfFinite(vals);
    const allOne = vals.length > 0 && vals.every((v) => v === 1);
    return allOne ? sentence("learn.zigzag.live_one", { name: m.label, n: vals.length }, { n: vals.length })
      : sentence("learn.zigzag.live_mean", { name: m.label, mean: fmt(mean, 2) }, { mean });
  });
}

/** Explainer 2's worked example in two dimensions (`z`: the answer of GET /api/explain/zigzag;
 * `runSeed`: the seed of the run on screen, null before any): the setup, then each activation's
 * path — the share of steps that moved both weights the same way, the path's length against the
 * straight line and the first step within 10 % of the target (or that none is), or, when gradient
 * descent diverged, the step after which the weights are no longer finite. */
export function zigzagPathLines(z, runSeed = null) {
  const { steps, lr, seed } = z;
  const setup = { steps, lr, seed };
  const lines = [sentence(seed === runSeed ? "learn.zigzag.live_setup" : "learn.zigzag.live_setup_no_run", setup, setup)];
  for (const m of z.models) {
    const name = sentence(`learn.zigzag.path.${m.activation}`);
    const at = m.path.findIndex((w) => w.some((v) => v === null)); // JSON's null: not finite
    if (at >= 0) {
      lines.push(sentence("learn.zigzag.live_path_overflow", { name, at }, { overflow_at: at }));
      continue;
    }
    const ratio = m.path_length / m.direct_length;
    lines.push(sentence(m.steps_to_near === null ? "learn.zigzag.live_path_never" : "learn.zigzag.live_path", {
      name, same: fmt(100 * m.same_sign_fraction, 3), steps, length: fmt(m.path_length, 2), ratio: fmt(ratio, 2),
      near: m.steps_to_near,
    }, { same_sign: m.same_sign_fraction, length: m.path_length, ratio, near: m.steps_to_near, steps }));
  }
  return lines;
}

/** Explainer 4's lines: each LSTM's forget gates over the run (`lstms`: [{label, gates,
 * cell_grad_norm}]; one whose gates are not all there is left out): their mean, the product
 * Π_{k=2..T} f_k (mean over units) and ‖∂L/∂c_1‖ / ‖∂L/∂c_T‖. */
export function highwayLines(T, forgetBias, lstms) {
  const out = [];
  for (const m of lstms) {
    const forget = m.gates?.forget;
    if (!forget || forget.some((f) => !f)) continue;
    const prod = gateProduct(forget);
    const c = m.cell_grad_norm;
    const kept = c && isFinitePositive(c[T - 1]);
    const meanF = meanOfFinite(forget.flat());
    out.push(sentence("learn.highway.live", {
      name: m.label, bias: forgetBias, mean: fmt(meanF, 3), n: T - 1, product: fmt(prod[0], 2),
      kept: kept ? fmt(c[0] / c[T - 1], 2) : "—",
    }, { mean_forget: meanF, product: prod[0], kept: kept ? c[0] / c[T - 1] : null, n: T - 1 }));
  }
  return out;
}

// ------------------------------------------------------------------------ Explore: W_hh's spectrum

/** Whether a singular value lies above 1/γ: by more than float64's rounding of it (an orthogonal
 * W_hh rescaled to σ_max = 1 has every singular value 1 ± 10⁻¹⁶, none of them above 1). */
export function aboveCritical(value, gamma) {
  return value > (1 / gamma) * (1 + 1e-9);
}

/** The note under W_hh's singular values (`values`: the run's RNNs' W_hh's, largest first; null
 * when the run has no vanilla RNN): σ_max, and how many lie above 1/γ of tanh and relu (1) and of
 * sigmoid (4). */
export function spectrumNote(values) {
  if (!values) return sentence("explore.spectrum.none");
  const above = (key) => values.filter((v) => aboveCritical(v, MODELS[key].gamma)).length;
  const [tanh, sigmoid] = [above("rnn-tanh"), above("rnn-sigmoid")];
  return sentence("explore.spectrum.note", { max: values[0].toFixed(3), n: values.length, tanh, sigmoid },
    { sigma_max: values[0], n: values.length, above_tanh: tanh, above_sigmoid: sigmoid });
}

// ------------------------------------------------------------------------ Train

/** Whether a held-out metric is no better than the memoryless baseline: an accuracy within 5
 * points of chance, a squared error at 90 % of the baseline's or more (or not finite). */
export function atChance(metric, value, baseline) {
  if (!Number.isFinite(value)) return true;
  return metric === "mse" ? value >= 0.9 * baseline : value <= baseline + 0.05;
}

/** A model's verdict from the training's `done` event (`r`: {label, metric, value, baseline,
 * solved}): "LSTM: MSE 0.0003 vs baseline 0.167 — solved". */
export function verdict(r) {
  const values = { model: r.label, metric: metricText(r.metric, r.value), baseline: metricValue(r.metric, r.baseline) };
  const quotes = { value: r.value, baseline: r.baseline };
  if (r.solved) return sentence("train.verdict.solved", values, quotes);
  return sentence(r.metric === "mse" ? "train.verdict.unsolved.mse" : "train.verdict.unsolved.accuracy", values, quotes);
}

/** A model's verdict when the training was stopped ("stopped") or broke off ("broken"): its last
 * held-out metric (`last`: {evalStep, evalValue}), or that it had none yet. */
export function interruptedVerdict(label, last, metric, baseline, reason) {
  const stopped = reason === "stopped";
  const values = { model: label, metric: metricText(metric, last.evalValue), step: last.evalStep,
    baseline: metricValue(metric, baseline) };
  const quotes = { value: last.evalValue, step: last.evalStep, baseline };
  if (last.evalStep === null) return sentence(stopped ? "train.verdict.stopped.early" : "train.verdict.broken.early", values);
  return sentence(stopped ? "train.verdict.stopped" : "train.verdict.broken", values, quotes);
}

/** The status line of a finished training (`outcomes`: the `done` event's models) and, when a
 * model that did not solve the task ended at chance, the message that says what to try. */
export function trainingDone(outcomes, { steps, seconds, metric, baseline, seqLen }) {
  const solved = outcomes.filter((r) => r.solved);
  const models = solved.map((r) => r.label).join(", ");
  const status = sentence(solved.length ? "train.status.done.solved" : "train.status.done.unsolved",
    { steps, seconds, models }, { solved: solved.map((r) => r.label) });
  const still = outcomes.filter((r) => !r.solved && atChance(metric, r.value, baseline));
  // a T of 1 or 2 cannot be halved: then more steps, more units or the gated models
  const chance = still.length ? sentence(seqLen > 2 ? "train.message.chance" : "train.message.chance.short",
    { models: still.map((r) => r.label).join(", "), seq_len: seqLen }, { at_chance: still.map((r) => r.label) }) : null;
  return { status, chance };
}
