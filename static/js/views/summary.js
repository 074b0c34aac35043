// Summary cards: per model loss, gradient ratio, memory horizon, σ_max, overflow, and a
// one-sentence reading in plain words; a headline sentence that compares the models. Filled
// live during the backward sweep (the ratio so far) and completed when the sweep ends.
//
// Every sentence is one text of static/i18n/<lang>.json with placeholders (the word order is
// the language's); the cards are written again from the run when the language changes.
//
// Compare (compare.js hands them over): pinned runs as cards beside the run's, each naming the
// settings that differ; a run over several seeds adds each model's memory horizon over them
// (median and range) to its card. Under the headline, a line says whether the weights are
// untrained (drawn from the seed), and what training changes is a click away.

import { MODELS, gammaLabel, modelKey, modelLabel, networkName } from "../catalogue.js";
import { fmt, pow10, steps } from "../format.js";
import { firstZero } from "../gradient-math.js";
import { t } from "../i18n.js";

/** "the sigmoid RNN", "the LSTM" (`start`: at the start of a sentence, "The sigmoid RNN") */
export function modelName(m, { start = false } = {}) {
  if (m.weights) return t(start ? "networks.name.start" : "networks.name", { name: networkName(m.weights) });
  const key = modelKey(m);
  return start ? t(`explore.name.start.${key}`) : t(`explore.name.${key}`);
}

/** How a ratio r = 10^x of a reference reads: "10⁻³³ of its start", "40% of its start", …
 * (`ref`: "start", or "T" for "its value at T") */
function ratioPhrase(x, ref = "start") {
  const of = ref === "T" ? t("explore.ratio.ref.T") : t("explore.ratio.ref.start");
  if (x <= -1.5) return t("explore.ratio.pow", { pow: pow10(x), ref: of });
  if (x < 0) return t("explore.ratio.percent", { pct: Math.round(100 * 10 ** x), ref: of });
  if (x < 1.5) return t("explore.ratio.times_small", { v: (10 ** x).toFixed(1), ref: of });
  return t("explore.ratio.times", { pow: pow10(x), ref: of });
}

/** What happened to a model's gradient, as one clause of the headline: the first model's
 * ("the sigmoid RNN's gradient is …") or a later one's ("the LSTM's is …"). */
function clause(m, s, T, first) {
  const u = s.summary;
  const v = { name: modelName(m), t: u.overflow_step };
  if (u.overflow_step !== null) {
    if (u.overflow_phase === "forward") {
      return first ? t("explore.clause.first.overflow_forward", v) : t("explore.clause.rest.overflow_forward", v);
    }
    return first ? t("explore.clause.first.overflow_backward", v) : t("explore.clause.rest.overflow_backward", v);
  }
  if (u.log10_grad_ratio === null) {
    const tz = firstZero(s.grad_norm);
    if (!tz) return first ? t("explore.clause.first.not_finite", v) : t("explore.clause.rest.not_finite", v);
    v.steps = steps(T - tz);
    return first ? t("explore.clause.first.zero", v) : t("explore.clause.rest.zero", v);
  }
  const x = u.log10_grad_ratio;
  // after the first model, "10⁻⁵ of its start" is said as "10⁻⁵"
  if (!first && x <= -1.5) return t("explore.clause.rest.pow", { ...v, pow: pow10(x) });
  v.ratio = ratioPhrase(x);
  return first ? t("explore.clause.first.ratio", v) : t("explore.clause.rest.ratio", v);
}

/** One sentence per model: what its gradient did and what that means. With a loss at every
 * step (`at` "all") each h_t has its own step's loss too: the ratio is said, not read as memory. */
export function reading(m, s, T, at = "last") {
  const u = s.summary;
  const v = { name: modelName(m), Name: modelName(m, { start: true }), t: u.overflow_step };
  if (at === "all" && u.overflow_step === null && u.log10_grad_ratio !== null) {
    return t("explore.reading.all", { ...v, ratio: ratioPhrase(u.log10_grad_ratio, "T") });
  }
  if (u.overflow_step !== null) {
    return u.overflow_phase === "forward" ? t("explore.reading.overflow_forward", v)
      : t("explore.reading.overflow_backward", v);
  }
  if (u.log10_grad_ratio === null) {
    const tz = firstZero(s.grad_norm);
    return t("explore.reading.zero", { ...v, steps: steps(T - (tz ?? 1)) });
  }
  const x = u.log10_grad_ratio;
  const h = u.memory_horizon;
  Object.assign(v, { steps: steps(T - 1), ratio: ratioPhrase(x) });
  if (x <= -3) return t("explore.reading.vanished", { ...v, horizon: steps(h) });
  if (x < 3) {
    return h === null ? t("explore.reading.kept_all", v) : t("explore.reading.kept", { ...v, horizon: steps(h) });
  }
  return t("explore.reading.exploded", v);
}

/** The headline: "After 49 steps back, the sigmoid RNN's gradient is 10⁻³³ of its start; the
 * LSTM's is 10⁻⁵." */
export function headline(run) {
  const parts = run.models.map((m, i) => {
    const s = run.summaries[i];
    return s ? { m, s } : null;
  }).filter(Boolean);
  if (!parts.length) return "";
  const clauses = parts.map(({ m, s }, k) => clause(m, s, run.T, k === 0)).join(t("explore.headline.join"));
  const key = run.config.loss?.at === "all" ? "explore.headline.all" : "explore.headline";
  return t(key, { steps: steps(run.T - 1), clauses });
}
function stat(label, value, title) {
  const div = document.createElement("div");
  div.className = "stat";
  if (title) div.title = title;
  const dt = document.createElement("dt");
  dt.textContent = label;
  const dd = document.createElement("dd");
  dd.textContent = value;
  div.append(dt, dd);
  return div;
}

/** The memory horizon over seeds: {median, low, high} in steps ("all" counts as T − 1). */
export function horizonSpread(horizons, T) {
  const h = horizons.map((v) => (v === null ? T - 1 : v)).sort((a, b) => a - b);
  const mid = h.length >> 1;
  const median = h.length % 2 ? h[mid] : (h[mid - 1] + h[mid]) / 2;
  return { median, low: h[0], high: h[h.length - 1] };
}

export class SummaryCards {
  /** @param onTrain () opens the Train tab set to train the run's models (the untrained line's link) */
  constructor(container, headlineEl, { onTrain = null } = {}) {
    this.container = container;
    this.headlineEl = headlineEl;
    this.run = null;
    this.signature = "";
    this.pins = [];
    this.seeds = null; // {seeds, T, models} | {loading, n} | {error, n} | null
    this.onTrain = onTrain;
    this.untrained = Object.assign(document.createElement("p"), { className: "untrained-note", id: "untrained-note" });
    this.untrained.hidden = true;
    headlineEl.after(this.untrained);
    this.pinsEl = Object.assign(document.createElement("div"), { className: "pinned-cards", id: "pinned-runs" });
    container.after(this.pinsEl);
  }

  /** Pinned runs as cards: [{index, name, data | null, error, differs, unpin}]. */
  setPins(pins) {
    this.pins = pins;
    this.writePins();
  }

  /** The run over several seeds (compare.js), or null. */
  setSeeds(seeds) {
    this.seeds = seeds;
    if (this.final) this.writeFinal();
  }

  writePins() {
    const el = (tag, props = {}) => Object.assign(document.createElement(tag), props);
    this.pinsEl.replaceChildren(...this.pins.map((pin) => {
      const card = el("article", { className: "model-card pinned-card" });
      card.dataset.pin = String(pin.index);
      const h = el("h3");
      h.append(el("span", { className: "pin-dash", textContent: "┄" }), ` ${pin.name}`);
      const close = el("button", { type: "button", className: "ghost small pin-remove", textContent: "×" });
      close.title = t("compare.unpin");
      close.setAttribute("aria-label", t("compare.unpin"));
      close.addEventListener("click", pin.unpin);
      h.append(close);
      card.append(h, el("p", { className: "pin-differs", textContent: pin.differs }));
      if (pin.error) card.append(el("p", { className: "pin-error", textContent: pin.error }));
      else if (!pin.data) card.append(el("p", { className: "live", textContent: t("compare.pin.loading") }));
      else {
        const dl = el("dl", { className: "stats" });
        for (const m of pin.data.models) {
          const u = m.summary;
          const ratio = u.log10_grad_ratio !== null ? pow10(u.log10_grad_ratio, 1)
            : u.overflow_step !== null ? t("explore.not_finite") : t("explore.stat.ratio.underflow");
          const horizon = u.memory_horizon === null ? t("explore.stat.horizon.all", { n: pin.data.T - 1 })
            : steps(u.memory_horizon);
          const row = stat(modelLabel(m), t("compare.pin.numbers", { ratio, horizon }));
          row.dataset.model = m.key;
          dl.append(row);
        }
        card.append(dl);
      }
      return card;
    }));
  }

  /** The line under the headline: the weights' origin (untrained, drawn from the seed), with the
   * way to train the same models. */
  writeUntrained() {
    const { run } = this;
    const drawn = run ? run.models.filter((m) => !m.weights).length : 0;
    this.untrained.hidden = !drawn;
    if (!drawn) return;
    const all = drawn === run.models.length;
    this.untrained.replaceChildren(t(all ? "explore.untrained" : "explore.untrained.some", { seed: run.config.seed }));
    if (this.onTrain && all) {
      const link = Object.assign(document.createElement("button"), { type: "button", className: "link",
        id: "train-these", textContent: t("explore.untrained.train") });
      link.addEventListener("click", () => this.onTrain(run));
      this.untrained.append(" ", link);
    }
  }

  begin(run) {
    this.run = run;
    this.signature = "";
    this.final = false;
    this.container.replaceChildren();
    this.cards = run.models.map((m) => {
      const card = document.createElement("article");
      card.className = "model-card";
      card.dataset.model = modelKey(m);
      if (m.yours !== null && m.yours !== undefined) card.dataset.yours = String(m.yours);
      card.dataset.testid = "summary-card";
      const h = document.createElement("h3");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.dataset.model = modelKey(m);
      h.append(sw, m.label);
      const { gamma } = MODELS[modelKey(m)];
      if (gamma !== null) {
        const chip = document.createElement("span");
        chip.className = "chip";
        chip.textContent = `γ = ${gammaLabel(gamma)}`;
        chip.title = t("explore.card.gamma.title");
        h.append(chip);
      }
      const live = document.createElement("p");
      live.className = "live";
      const dl = document.createElement("dl");
      dl.className = "stats";
      const p = document.createElement("p");
      p.className = "reading";
      card.append(h, live, dl, p);
      this.container.append(card);
      return { m, card, live, dl, p };
    });
    this.headlineEl.textContent = "";
  }

  sync(p) {
    const { run } = this;
    if (!run) return;
    const T = run.T;
    const final = p >= run.total && run.summaryCount === run.M;
    const b = Math.max(0, p - T);
    const signature = `${final}|${b}|${Math.min(p, T)}`;
    if (signature === this.signature) return;
    this.signature = signature;
    this.final = final;
    if (final) {
      this.writeFinal();
      return;
    }
    for (const c of this.cards) {
      c.card.classList.remove("is-final");
      c.dl.replaceChildren();
      c.p.textContent = "";
      c.live.textContent = this.liveText(c.m.index, p);
    }
    this.headlineEl.textContent = "";
    this.untrained.hidden = true;
  }

  /** The cards, the headline and the untrained line of a complete run. */
  writeFinal() {
    const { run } = this;
    for (const c of this.cards) {
      const s = run.summaries[c.m.index];
      c.card.classList.add("is-final");
      c.live.textContent = "";
      c.dl.replaceChildren(...this.stats(c.m, s));
      c.p.textContent = reading(c.m, s, run.T, run.config.loss?.at);
    }
    this.headlineEl.textContent = headline(run);
    this.writeUntrained();
  }

  /** The card's line of the run over seeds: the memory horizon's median and range. */
  seedsStat(m) {
    const { seeds } = this;
    if (!seeds) return null;
    const label = t("compare.seeds.horizon", { n: seeds.n ?? seeds.seeds.length });
    if (seeds.loading) return stat(label, "…");
    if (seeds.error) return stat(label, t("compare.seeds.error"), seeds.error);
    const entry = seeds.models[m.index];
    if (!entry) return null;
    const { median, low, high } = horizonSpread(entry.summary.memory_horizon, seeds.T);
    const row = stat(label, t("compare.seeds.spread", { median: fmt(median), low, high }),
      t("compare.seeds.spread.title", { seeds: seeds.seeds.join(", ") }));
    row.classList.add("stat-seeds");
    return row;
  }

  clear() {
    this.run = null;
    this.final = false;
    this.container.replaceChildren();
    this.headlineEl.textContent = "";
    this.untrained.hidden = true;
  }

  liveText(i, p) {
    const { run } = this;
    const T = run.T;
    if (p <= 0) return t("explore.card.waiting");
    if (p <= T) return t("explore.card.forward", { t: p, T });
    const at = Math.max(1, 2 * T - p + 1);
    const g = run.bwd[i].grad_norm;
    const gT = g[T - 1];
    const gt = g[at - 1];
    if (gt === null || gT === null) return t("explore.card.backward.overflow", { t: at });
    if (gt === 0) return t("explore.card.backward.zero", { t: at });
    return t("explore.card.backward", { t: at, ratio: ratioPhrase(Math.log10(gt / gT), "T") });
  }

  stats(m, s) {
    const u = s.summary;
    const T = this.run.T;
    const log = u.log10_grad_ratio === null ? "null" : u.log10_grad_ratio.toFixed(2);
    const out = [
      stat(t("explore.stat.loss"), s.loss === null ? t("explore.not_finite") : fmt(s.loss), t("explore.stat.loss.title")),
      stat(t("explore.stat.ratio"), u.log10_grad_ratio !== null ? pow10(u.log10_grad_ratio, 1)
        : u.overflow_step !== null ? t("explore.not_finite") : t("explore.stat.ratio.underflow"),
        `‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ (log10 = ${log})`),
      stat(t("explore.stat.horizon"), u.memory_horizon === null ? t("explore.stat.horizon.all", { n: T - 1 })
        : steps(u.memory_horizon), t("explore.stat.horizon.title")),
      stat("σₘₐₓ(Wₕₕ)", fmt(u.sigma_max), t("explore.stat.sigma.title")),
    ];
    const { gamma } = MODELS[modelKey(m)];
    if (gamma !== null && u.sigma_max !== null) {
      const gs = gamma * u.sigma_max;
      out.push(stat("γ·σₘₐₓ", fmt(gs), gs < 1 ? t("explore.stat.gs.below") : t("explore.stat.gs.above")));
    }
    const at = u.overflow_step;
    out.push(stat(t("explore.stat.overflow"), at === null ? t("explore.stat.overflow.none")
      : u.overflow_phase === "forward" ? t("explore.stat.overflow.forward", { t: at })
        : t("explore.stat.overflow.backward", { t: at }),
    t("explore.stat.overflow.title")));
    const spread = this.seedsStat(m);
    if (spread) out.push(spread);
    return out;
  }

  /** Write the cards again in the current language (same run, same position). */
  relabel() {
    if (this.run) this.begin(this.run);
    this.writePins();
  }
}
