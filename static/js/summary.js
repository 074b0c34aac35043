// 5. Summary cards: per model loss, gradient ratio, memory horizon, σ_max, overflow, and a
// one-sentence reading in plain words; a headline sentence that compares the models. Filled
// live during the backward sweep (the ratio so far) and completed when the sweep ends.

import { fmt, pow10, steps } from "./format.js";
import { modelKey } from "./url-state.js";

const GAMMA = { sigmoid: 0.25, tanh: 1, relu: 1 };

/** "the sigmoid RNN", "the LSTM" */
export function modelName(m) {
  return m.cell === "rnn" ? `the ${m.activation} RNN` : `the ${m.cell.toUpperCase()}`;
}

/** How a ratio r = 10^x of the start reads: "10⁻³³ of its start", "40% of its start", … */
function ratioPhrase(x) {
  if (x <= -1.5) return `${pow10(x)} of its start`;
  if (x < 0) {
    const v = 10 ** x;
    return `${Math.round(100 * v)}% of its start`;
  }
  if (x < 1.5) return `${(10 ** x).toFixed(1)}× its start`;
  return `${pow10(x)} times its start`;
}

/** The first t (going back from T) where the gradient is exactly 0, or null. */
function firstZero(gradNorm) {
  for (let t = gradNorm.length; t >= 1; t--) if (gradNorm[t - 1] === 0) return t;
  return null;
}

/** What happened to a model's gradient, as the rest of "…'s gradient ___" (the headline). */
function clause(m, s, T) {
  const u = s.summary;
  if (u.overflow_step !== null) {
    return u.overflow_phase === "forward"
      ? `is not finite (its state overflowed at t = ${u.overflow_step} in the forward sweep)`
      : `overflowed (not finite) at t = ${u.overflow_step} going back`;
  }
  if (u.log10_grad_ratio === null) {
    const tz = firstZero(s.grad_norm);
    return tz ? `is exactly 0 (it underflowed ${steps(T - tz)} back)` : "is not finite";
  }
  return `is ${ratioPhrase(u.log10_grad_ratio)}`;
}

/** One sentence per model: what its gradient did and what that means. */
export function reading(m, s, T) {
  const u = s.summary;
  const name = modelName(m);
  const Name = name[0].toUpperCase() + name.slice(1);
  const back = T - 1;
  if (u.overflow_step !== null) {
    if (u.overflow_phase === "forward") {
      return `${Name}'s hidden state overflowed at t = ${u.overflow_step} of the forward sweep — it ` +
        "left float64's range, so its loss and gradients are not finite (null): it exploded.";
    }
    return `Going back, ${name}'s gradient overflowed (not finite) at t = ${u.overflow_step}: it exploded.`;
  }
  if (u.log10_grad_ratio === null) {
    const tz = firstZero(s.grad_norm);
    return `After ${steps(T - (tz ?? 1))} back, ${name}'s gradient norm underflowed to exactly 0 in ` +
      "float64: it vanished, and no signal from earlier steps reaches the loss.";
  }
  const x = u.log10_grad_ratio;
  const h = u.memory_horizon;
  if (x <= -3) {
    return `After ${steps(back)} back, ${name}'s gradient is ${ratioPhrase(x)}: it vanished — ` +
      `only the last ${steps(h)} keep at least 10⁻³ of the signal.`;
  }
  if (x < 3) {
    const kept = h === null ? "all the way to t = 1" : `for ${steps(h)}`;
    return `After ${steps(back)} back, ${name}'s gradient is ${ratioPhrase(x)}: it stays within ` +
      `10⁻³ of its start ${kept}, so early inputs still reach the loss.`;
  }
  return `After ${steps(back)} back, ${name}'s gradient is ${ratioPhrase(x)}: it exploded.`;
}

/** The headline: "After 49 steps back, the sigmoid RNN's gradient is 10⁻³³ of its start; the
 * LSTM's is 10⁻⁵ of its start." */
export function headline(run) {
  const parts = run.models.map((m, i) => {
    const s = run.summaries[i];
    return s ? { m, text: clause(m, s, run.T) } : null;
  }).filter(Boolean);
  if (!parts.length) return "";
  const [first, ...rest] = parts;
  let sentence = `After ${steps(run.T - 1)} back, ${modelName(first.m)}'s gradient ${first.text}`;
  for (const p of rest) sentence += `; ${modelName(p.m)}'s ${p.text.replace(/^(is 10\S*) of its start$/, "$1")}`;
  return sentence + ".";
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
  constructor(container, headlineEl) {
    this.container = container;
    this.headlineEl = headlineEl;
    this.run = null;
    this.signature = "";
  }

  begin(run) {
    this.run = run;
    this.signature = "";
    this.container.replaceChildren();
    this.cards = run.models.map((m) => {
      const card = document.createElement("article");
      card.className = "model-card";
      card.dataset.model = modelKey(m);
      card.dataset.testid = "summary-card";
      const h = document.createElement("h3");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.dataset.model = modelKey(m);
      h.append(sw, m.label);
      if (m.cell === "rnn") {
        const chip = document.createElement("span");
        chip.className = "chip";
        chip.textContent = `γ = ${GAMMA[m.activation] === 0.25 ? "1/4" : GAMMA[m.activation]}`;
        chip.title = "γ = sup φ′, the activation's largest slope";
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
    for (const c of this.cards) {
      const i = c.m.index;
      const s = run.summaries[i];
      c.card.classList.toggle("is-final", final);
      if (!final) {
        c.dl.replaceChildren();
        c.p.textContent = "";
        c.live.textContent = this.liveText(i, p);
        continue;
      }
      c.live.textContent = "";
      c.dl.replaceChildren(...this.stats(c.m, s));
      c.p.textContent = reading(c.m, s, T);
    }
    this.headlineEl.textContent = final ? headline(run) : "";
  }

  clear() {
    this.run = null;
    this.container.replaceChildren();
    this.headlineEl.textContent = "";
  }

  liveText(i, p) {
    const { run } = this;
    const T = run.T;
    if (p <= 0) return "Waiting for the first frames…";
    if (p <= T) return `Forward sweep: t = ${p} of ${T}.`;
    const t = Math.max(1, 2 * T - p + 1);
    const g = run.bwd[i].gradNorm;
    const gT = g[T - 1];
    const gt = g[t - 1];
    if (gt === null || gT === null) return `Backward sweep at t = ${t}: the gradient is not finite (overflow).`;
    if (gt === 0) return `Backward sweep at t = ${t}: the gradient underflowed to exactly 0.`;
    const x = Math.log10(gt / gT);
    return `Backward sweep at t = ${t}: ‖∂L/∂hₜ‖ is ${ratioPhrase(x).replace("its start", "its value at T")}.`;
  }

  stats(m, s) {
    const u = s.summary;
    const T = this.run.T;
    const out = [
      stat("loss", s.loss === null ? "not finite" : fmt(s.loss), "The loss L of this run (mean squared error)"),
      stat("gradient ratio", u.log10_grad_ratio !== null ? pow10(u.log10_grad_ratio, 1)
        : u.overflow_step !== null ? "not finite" : "0 (underflow)",
        "‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ (log10 = " + (u.log10_grad_ratio === null ? "null" : u.log10_grad_ratio.toFixed(2)) + ")"),
      stat("memory horizon", u.memory_horizon === null ? `all ${T - 1} steps` : steps(u.memory_horizon),
        "How many steps back the gradient stays ≥ 10⁻³ of its value at t = T"),
      stat("σₘₐₓ(Wₕₕ)", fmt(u.sigma_max), "Largest singular value of the recurrent weights"),
    ];
    if (m.cell === "rnn" && u.sigma_max !== null) {
      const gs = GAMMA[m.activation] * u.sigma_max;
      out.push(stat("γ·σₘₐₓ", fmt(gs), gs < 1 ? "< 1: the bound (γσₘₐₓ)^(T−t) forces the gradient to vanish"
        : "≥ 1: the bound allows the gradient to survive or explode"));
    }
    out.push(stat("overflow", u.overflow_step === null ? "none" : `t = ${u.overflow_step} (${u.overflow_phase})`,
      "The first value that stopped being finite, in the order of computation"));
    return out;
  }
}
