// Summary cards: per model loss, gradient ratio, memory horizon, σ_max, overflow, and a
// one-sentence reading in plain words; a headline sentence that compares the models. Filled
// live during the backward sweep (the ratio so far) and completed when the sweep ends.
//
// Every sentence is one text of static/i18n/<lang>.json with placeholders (the word order is
// the language's), chosen from the run's numbers by sentences.js; the cards are written again
// from the run when the language changes.
//
// Compare (compare.js hands them over): pinned runs as cards beside the run's, each naming the
// settings that differ; a run over several seeds adds each model's memory horizon over them
// (median and range) to its card. Under the headline, a line says whether the weights are
// untrained (drawn from the seed), and what training changes is a click away.

import { MODELS, gammaLabel, modelKey, modelLabel } from "../catalogue.js";
import { fmt } from "../format.js";
import { t } from "../i18n.js";
import {
  headline, liveLine, nameOf, pinNumbers, reading, say, seedsSpread, statGammaSigma, statHorizon, statOverflow,
  statRatio, untrainedNote,
} from "../sentences.js";

export { horizonSpread } from "../sentences.js";

/** "the sigmoid RNN", "the LSTM" (`start`: at the start of a sentence, "The sigmoid RNN") */
export function modelName(m, { start = false } = {}) {
  return say(nameOf(m, { start }));
}

/** A RunData in the shape of POST /api/runs' answer, as the sentences read it: each model with
 * its summary's numbers (the unit on screen), null before its summary has arrived. */
function answerOf(run) {
  return {
    config: run.config,
    models: run.models.map((m, i) => {
      const s = run.summaries[i];
      return { ...m, ...(s ?? {}), summary: s ? s.summary : null };
    }),
  };
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
          const row = stat(modelLabel(m), say(pinNumbers(m, pin.data.T)));
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
    const note = run ? untrainedNote(answerOf(run)) : null;
    this.untrained.hidden = !note;
    if (!note) return;
    const all = note.key === "explore.untrained";
    this.untrained.replaceChildren(say(note));
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
    const answer = answerOf(run);
    for (const c of this.cards) {
      const m = answer.models[c.m.index];
      c.card.classList.add("is-final");
      c.live.textContent = "";
      c.dl.replaceChildren(...this.stats(m));
      c.p.textContent = say(reading(m, run.T, run.config.loss?.at));
    }
    const h = headline(answer);
    this.headlineEl.textContent = h ? say(h) : "";
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
    const row = stat(label, say(seedsSpread(entry.summary.memory_horizon, seeds.T)),
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
    return say(liveLine(this.run.bwd[i].grad_norm, this.run.T, p));
  }

  /** A complete model's numbers (`m`: its entry of answerOf(run)). */
  stats(m) {
    const u = m.summary;
    const T = this.run.T;
    const log = u.log10_grad_ratio === null ? "null" : u.log10_grad_ratio.toFixed(2);
    const out = [
      stat(t("explore.stat.loss"), m.loss === null ? t("explore.not_finite") : fmt(m.loss), t("explore.stat.loss.title")),
      stat(t("explore.stat.ratio"), say(statRatio(m)), `‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ (log10 = ${log})`),
      stat(t("explore.stat.horizon"), say(statHorizon(m, T)), t("explore.stat.horizon.title")),
      stat("σₘₐₓ(Wₕₕ)", fmt(u.sigma_max), t("explore.stat.sigma.title")),
    ];
    const gs = statGammaSigma(m);
    if (gs) out.push(stat("γ·σₘₐₓ", fmt(gs.quotes.gamma_sigma), say(gs)));
    out.push(stat(t("explore.stat.overflow"), say(statOverflow(m)), t("explore.stat.overflow.title")));
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
