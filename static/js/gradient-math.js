// The numbers the page derives from a run: plain functions of numbers, no DOM, no Plotly, no
// words (tests/test_page_math.py checks them against the core's own). The views and the
// explainers draw what these compute.
//
// Arrays indexed by t hold t = 1..T at indices 0..T−1, as in the API; a null in the API's data
// is a value that was not finite.

/** φ and φ′ as functions of the pre-activation z (the core writes φ′ through the output h = φ(z);
 * the page has z). γ = sup φ′ is the catalogue's (static/js/catalogue.js), not repeated here. */
const sigmoid = (z) => 1 / (1 + Math.exp(-z));
export const PHI = Object.freeze({
  sigmoid: { phi: sigmoid, dphi: (z) => sigmoid(z) * (1 - sigmoid(z)) },
  tanh: { phi: Math.tanh, dphi: (z) => 1 - Math.tanh(z) ** 2 },
  relu: { phi: (z) => Math.max(z, 0), dphi: (z) => (z > 0 ? 1 : 0) },
  linear: { phi: (z) => z, dphi: () => 1 },
});

export { sigmoid };

/** γ as the page writes it: 0.25 → "1/4", 1 → "1"; the reciprocal of a whole number below 1 as a
 * fraction, anything else as its number. */
export function gammaLabel(gamma) {
  if (gamma === null || gamma === undefined) return "";
  const n = 1 / gamma;
  if (gamma > 0 && gamma < 1 && Number.isInteger(n)) return `1/${n}`;
  return String(gamma);
}

/** Pascanu et al.'s bound (γσ_max)^(T−t) for t = 1..T (index t − 1), as core.analysis's
 * pascanu_bound. */
export function pascanuBound(gamma, sigmaMax, T) {
  const g = gamma * sigmaMax;
  return Array.from({ length: T }, (_, k) => g ** (T - 1 - k));
}

/** The same bound by steps back, k = T − t = 0..T−1: (γσ_max)^k. */
export function boundBack(gamma, sigmaMax, T) {
  return pascanuBound(gamma, sigmaMax, T).reverse();
}

/** Which side of 1 the factor γσ_max is on: "vanish", "flat" or "explode". */
export function regime(factor) {
  return factor < 1 - 1e-9 ? "vanish" : factor > 1 + 1e-9 ? "explode" : "flat";
}

/** A value drawn on a log axis: a positive finite number, else null (a gap). */
export function positiveOrNull(v) {
  return isFinitePositive(v) ? v : null;
}

export function isFinitePositive(v) {
  return typeof v === "number" && Number.isFinite(v) && v > 0;
}

/** The bound at one step as the flow chart draws it: scaled by `scale` (‖∂L/∂h_T‖ for the loss
 * gradient, 1 for the Jacobian), null where it is not a positive finite number. */
export function scaledBound(bound, scale) {
  const y = bound === null || bound === undefined || scale === null ? null : bound * scale;
  return Number.isFinite(y) && y > 0 ? y : null;
}

/** values[t] / values[T] for a positive finite reference, null where that is not drawable. */
export function relativeToLast(values) {
  const last = values[values.length - 1];
  if (!isFinitePositive(last)) return values.map(() => null);
  return values.map((v) => positiveOrNull(v === null ? null : v / last));
}

/** The first t (going back from T) where `values` is exactly 0, or null. */
export function firstZero(values) {
  for (let k = values.length; k >= 1; k--) if (values[k - 1] === 0) return k;
  return null;
}

/** The arithmetic mean; null when any value is null (not finite) or there are none. */
export function meanOrNull(values) {
  if (!values || !values.length) return null;
  let s = 0;
  for (const x of values) {
    if (x === null) return null;
    s += x;
  }
  return s / values.length;
}

/** The mean of the values that are not null (0 when there are none). */
export function meanOfFinite(values) {
  const kept = values.filter((v) => v !== null);
  return kept.reduce((a, b) => a + b, 0) / Math.max(kept.length, 1);
}

/** The mean of log10 φ′(z) over pre-activations `zs`: the log10 of φ′'s geometric mean, the
 * typical factor one step back multiplies by. */
export function meanLog10(zs, dphi) {
  const logs = zs.map((z) => Math.log10(dphi(z)));
  return logs.reduce((a, b) => a + b, 0) / logs.length;
}

/** The share of pre-activations above 0 (relu's active units). */
export function activeShare(zs) {
  return zs.filter((z) => z > 0).length / zs.length;
}

/**
 * Π_{k=t+1..T} g_k per unit along a gated path (the LSTM's forget gate f, the GRU's update gate
 * z), going back from t = T, where it is 1 for every unit: each times(g_{t+1}) moves it one
 * step back. A gate that is missing or not finite (null) makes its units NaN.
 */
export class BackwardProduct {
  constructor(H) {
    this.prod = new Array(H).fill(1);
  }

  times(g) {
    const { prod } = this;
    for (let u = 0; u < prod.length; u++) prod[u] = g && g[u] !== null ? prod[u] * g[u] : NaN;
    return this;
  }

  /** The mean over units. */
  get mean() {
    let s = 0;
    for (const v of this.prod) s += v;
    return s / this.prod.length;
  }
}

/** mean_u Π_{k=t+1..T} g_k,u for t = 1..T (index t − 1), from the gates g_t (index t − 1,
 * H values each). */
export function gateProduct(gates) {
  const T = gates.length;
  const out = new Array(T);
  const path = new BackwardProduct(gates[T - 1]?.length ?? 0);
  for (let k = T - 1; k >= 0; k--) {
    if (k < T - 1) path.times(gates[k + 1]);
    out[k] = path.mean;
  }
  return out;
}

/** Evenly spaced numbers from `lo` to `hi`, `n` of them (both ends included). */
export function linspace(lo, hi, n) {
  return Array.from({ length: n }, (_, k) => lo + (k * (hi - lo)) / (n - 1));
}

/**
 * A histogram of pre-activations z on [lo, hi) in bins of `width` that can take steps away as
 * well as add them (playback goes both ways), with φ′ at each z summed: the mean φ′ and the
 * share of saturated units (φ′ below a tenth of γ). Values outside [lo, hi) count in `below` /
 * `above`, nulls in `nonfinite`; every value counts in `n`.
 */
export class Histogram {
  constructor(lo, hi, width) {
    this.lo = lo;
    this.hi = hi;
    this.width = width;
    this.counts = new Array(Math.round((hi - lo) / width)).fill(0);
    this.below = 0;
    this.above = 0;
    this.nonfinite = 0;
    this.n = 0;
    this.dsum = 0;
    this.saturated = 0;
  }

  /** The bins' centres. */
  centres() {
    return this.counts.map((_, k) => this.lo + (k + 0.5) * this.width);
  }

  /** Add (sign +1) or take away (sign −1) the values `zs`, with φ′ = dphi and γ = gamma. */
  add(zs, sign, dphi, gamma) {
    for (const x of zs) {
      this.n += sign;
      if (x === null) {
        this.nonfinite += sign;
        continue;
      }
      const d = dphi(x);
      this.dsum += sign * d;
      if (d < 0.1 * gamma) this.saturated += sign;
      if (x < this.lo) this.below += sign;
      else if (x >= this.hi) this.above += sign;
      else this.counts[Math.floor((x - this.lo) / this.width)] += sign;
    }
  }

  /** Each bin's share of all values per unit of z (a density: the bins sum to the share in range). */
  density() {
    const total = this.n || 1;
    return this.counts.map((c) => c / total / this.width);
  }

  /** The mean φ′ over the finite values (NaN when there are none). */
  get meanDerivative() {
    const finite = this.n - this.nonfinite;
    return finite ? this.dsum / finite : NaN;
  }
}

/** Log-axis range [lo, hi] (log10) around the positive finite values and `include`, with a
 * little room; [−1, 1] when there are none. */
export function logRange(values, include = []) {
  const logs = [...values, ...include].filter(isFinitePositive).map(Math.log10);
  if (!logs.length) return [-1, 1];
  let lo = Math.min(...logs);
  let hi = Math.max(...logs);
  if (hi - lo < 1) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = 0.04 * (hi - lo);
  return [lo - pad, hi + pad];
}
