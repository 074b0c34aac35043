// The lessons' claims on the page's numbers: the twin of core/teaching.py's `claim_holds` (the
// claims themselves — kind, model, threshold — are the core's data, embedded in the page as
// <script id="gfl-lessons">), and whether the run or training on screen is a lesson state's.
// DOM-free: tests/test_browser_lessons.py checks it against the core on every lesson's state.

import { modelKey } from "./catalogue.js";

/** The lessons (core/teaching.py LESSONS as data). */
export const LESSONS = JSON.parse(document.getElementById("gfl-lessons")?.textContent || "[]");

/** A run's models as the claims read them: catalogue key → {summary, grad_norm, bound,
 * sign_uniform, cell_grad_norm} (a RunData whose stream has ended; uploaded networks left out). */
export function runModels(run) {
  const out = {};
  run.models.forEach((m, i) => {
    if (m.weights) return;
    const s = run.summaries[i];
    out[modelKey(m)] = { summary: s.summary, grad_norm: run.bwd[i].grad_norm, bound: s.bound ?? null,
      sign_uniform: s.sign_uniform ?? null, cell_grad_norm: run.bwd[i].cell_grad_norm ?? null };
  });
  return out;
}

/** A finished training's final held-out metric by catalogue key (null: not finite). */
export function trainMetrics(data) {
  return Object.fromEntries(data.models.map((m, i) => [m.key, data.final.models[i].value]));
}

const finite = (v) => typeof v === "number" && Number.isFinite(v);
const asNumber = (v) => (v === null || v === undefined ? NaN : v);

/** log10(‖∂L/∂h_1‖ / ‖∂L/∂h_T‖): −∞ for a gradient cut to 0 without overflow, NaN on overflow. */
function ratio(m) {
  if (m.summary.overflow_step !== null) return NaN;
  const g = m.grad_norm;
  if (g[0] === 0 && g[g.length - 1] > 0) return -Infinity;
  return asNumber(m.summary.log10_grad_ratio);
}

/** {holds, measured, other} of a claim: `models` as runModels gives them, `metric` as trainMetrics. */
export function claimHolds(claim, models, metric = {}) {
  const { kind, value } = claim;
  if (kind === "metric_max" || kind === "metric_min") {
    const v = metric[claim.model];
    return { holds: kind === "metric_max" ? finite(v) && v <= value : !finite(v) || v >= value, measured: v };
  }
  const m = models[claim.model];
  const u = m.summary;
  const overflow = u.overflow_step !== null;
  switch (kind) {
    case "horizon_all":
      return { holds: !overflow && u.memory_horizon === null, measured: u.memory_horizon };
    case "horizon_max":
      return { holds: !overflow && u.memory_horizon !== null && u.memory_horizon <= value, measured: u.memory_horizon };
    case "ratio_max": {
      const r = ratio(m);
      return { holds: r <= value, measured: r };
    }
    case "ratio_min": {
      const r = ratio(m);
      return { holds: Number.isFinite(r) && r >= value, measured: r };
    }
    case "grad_zero": {
      const r = ratio(m);
      return { holds: r === -Infinity, measured: r };
    }
    case "keeps_more": {
      const r = ratio(m);
      const other = ratio(models[claim.other]);
      return { holds: r > other, measured: r, other };
    }
    case "under_bound": {
      const g = m.grad_norm;
      const gT = asNumber(g[g.length - 1]);
      // a bound past float64 is null in the answer: +∞, which nothing exceeds
      const holds = g.every((v, k) => v !== null && v <= gT * (m.bound[k] ?? Infinity) * (1 + 1e-9));
      return { holds, measured: null };
    }
    case "sign_uniform_all":
    case "sign_uniform_mean_max": {
      const s = m.sign_uniform.slice(1).map(asNumber);
      const mean = s.reduce((a, b) => a + b, 0) / s.length;
      return { holds: kind === "sign_uniform_all" ? s.every((v) => v === 1) : mean <= value, measured: mean };
    }
    case "cell_ratio_min":
    case "cell_ratio_max": {
      const c = m.cell_grad_norm;
      const r = Math.log10(asNumber(c[0])) - Math.log10(asNumber(c[c.length - 1]));
      const holds = Number.isFinite(r) && (kind === "cell_ratio_min" ? r >= value : r <= value);
      return { holds, measured: r };
    }
    default:
      throw new Error(`unknown claim kind ${kind}`);
  }
}

const sameKeys = (a, b) => a.length === b.length && [...a].sort().join() === [...b].sort().join();
const numberOrNone = (text) => (text === "none" ? null : Number(text));

/** Whether a run (its RunData) is the explorer state `settings` (core/teaching.py RUN_KEYS). */
export function isLessonRun(settings, run) {
  const c = run.config;
  if (run.models.some((m) => m.weights || m.num_layers !== 1 || m.bidirectional)) return false;
  return sameKeys(run.models.map(modelKey), settings.models) && c.seq_len === Number(settings.seq_len)
    && c.hidden_size === Number(settings.hidden_size) && c.input.kind === settings.input
    && c.init.scheme === settings.init && (c.init.sigma_max ?? null) === numberOrNone(settings.sigma_max)
    && c.init.forget_bias === Number(settings.forget_bias) && c.loss.at === settings.loss
    && (c.loss.kind ?? "mse") === "mse" && (c.batch_size ?? 1) === 1 && String(c.seed) === settings.seed;
}

/** Whether a training (its TrainData) is the Train-tab state `settings` (TRAIN_KEYS). */
export function isLessonTraining(settings, data) {
  const c = data.config;
  const sgd = settings.train_optimizer === "sgd";
  return sameKeys(data.models.map((m) => m.key), settings.train_models) && c.task === settings.train_task
    && c.seq_len === Number(settings.train_seq_len) && c.hidden_size === Number(settings.train_hidden_size)
    && c.batch_size === Number(settings.train_batch_size) && c.optimizer.name === settings.train_optimizer
    && c.optimizer.lr === Number(settings.train_lr) && (!sgd || c.optimizer.momentum === Number(settings.train_momentum))
    && (c.clip ?? null) === numberOrNone(settings.train_clip) && c.steps === Number(settings.train_steps)
    && c.eval_every === Number(settings.train_eval_every) && c.eval_size === Number(settings.train_eval_size)
    && String(c.seed) === settings.train_seed;
}
