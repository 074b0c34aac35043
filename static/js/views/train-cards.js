// The Train tab's result cards: one per model, live numbers while training, the result in
// words at the end.

import { fmt, metricText } from "../format.js";
import { t } from "../i18n.js";
import { interruptedVerdict, say, verdict } from "../sentences.js";

/** One card per model: live numbers while training, the result in words at the end. The cards
 * keep what they were told (the `done` event, or why the training ended early), so render()
 * can say it again in another language. */
export class TrainCards {
  constructor(el) {
    this.el = el;
    this.cards = [];
  }

  begin(data) {
    this.data = data;
    this.done = null;
    this.reason = null;
    this.cards = data.models.map((m) => {
      const card = document.createElement("article");
      card.className = "train-card";
      card.dataset.model = m.key;
      const h = document.createElement("h3");
      const sw = document.createElement("span");
      sw.className = "swatch";
      const chip = document.createElement("span");
      chip.className = "chip";
      h.append(sw, m.label, chip);
      const live = document.createElement("p");
      live.className = "live";
      const verdict = document.createElement("p");
      verdict.className = "verdict";
      card.append(h, live, verdict);
      return { card, chip, live, verdict };
    });
    this.el.replaceChildren(...this.cards.map((c) => c.card));
    this.render();
  }

  /** Live numbers (cheap; called once per frame). */
  sync() {
    const { data } = this;
    if (!data) return;
    data.models.forEach((m, i) => {
      const l = data.last[i];
      const parts = [t("train.card.live.step", { step: l.step }), t("train.card.live.loss", { loss: fmt(l.loss) })];
      if (l.evalStep !== null) {
        parts.push(t("train.card.live.eval", { metric: metricText(data.metric, l.evalValue), step: l.evalStep }));
      }
      if (data.config.clip !== null) {
        const reports = Math.ceil(l.step / data.progressEvery);
        parts.push(t("train.card.live.clipped", { clipped: l.clipped, reports }));
      }
      const text = parts.join(" · ");
      if (this.cards[i].live.textContent !== text) this.cards[i].live.textContent = text;
    });
  }

  /** The `done` event: "LSTM: MSE 0.0003 vs baseline 0.167 — solved". */
  finish(done) {
    this.done = done;
    this.render();
  }

  /** Stopped ("stopped") or failed ("broken"): the last held-out metric, marked as such. */
  interrupt(reason) {
    if (!this.data) return;
    this.reason = reason;
    this.render();
  }

  /** Chips and verdicts in the current language. */
  relabel() {
    this.render();
  }

  render() {
    const { data, done, reason } = this;
    if (!data) return;
    this.cards.forEach((c, i) => {
      const r = done?.models[i];
      if (r) {
        c.verdict.textContent = say(verdict(r));
        c.chip.textContent = r.solved ? t("train.card.chip.solved") : t("train.card.chip.unsolved");
        c.card.classList.toggle("is-solved", r.solved);
        c.card.classList.add("is-final");
      } else if (reason) {
        const stopped = reason === "stopped";
        c.chip.textContent = stopped ? t("train.card.chip.stopped") : t("train.card.chip.broken");
        c.verdict.textContent = say(interruptedVerdict(data.models[i].label, data.last[i], data.metric,
          data.metricBaseline, reason));
      } else {
        c.chip.textContent = t("train.card.chip.training");
        c.verdict.textContent = "";
      }
    });
    this.sync();
  }

  clear() {
    this.data = null;
    this.cards = [];
  }
}
