// The Sweep tab's numbers, without the DOM, Plotly or i18n (tests/test_sweep_page_math.py runs
// them in Chromium against numpy): an axis's values from what was typed, the grid's size, the
// request of POST /api/sweeps and of each of its points, the results gathered into a heatmap's
// cells or a line's median and 10–90 % band over the seeds, and the rate and ETA of a sweep.
//
// A sweep (API-2.md §5) is {kind, base, grid, seeds}: every combination of the grid's values
// (dotted paths into `base`) × every seed is one point; a point whose request has several
// models gives one result per model: {point, seed, model, label, metrics}.

/** A number kept to 12 significant digits: 0.1 + 0.2 is 0.3 on an axis and in a URL. */
const tidy = (x) => Number(x.toPrecision(12));

/**
 * The values of an axis from its text: a list ("0.5, 1, 2, 4"), or a range "from:to:points"
 * (evenly spaced) or "from:to:points:log" (evenly spaced on a log scale). `type` is "number",
 * "integer" or a list of the names allowed. Returns {values} or {error: {code, …}}: code
 * "empty", "number" (`item`), "integer" (`item`), "choice" (`item`, `choices`), "range" (the
 * range's form), "points" (a range's count), "log" (a log range through 0 or below),
 * "repeated" (`item`).
 */
export function parseValues(text, type = "number") {
  const s = String(text ?? "").trim();
  if (!s) return { error: { code: "empty" } };
  if (Array.isArray(type)) {
    const values = s.split(/[\s,;]+/).filter(Boolean);
    const unknown = values.find((v) => !type.includes(v));
    if (unknown !== undefined) return { error: { code: "choice", item: unknown, choices: type.join(", ") } };
    return unique(values);
  }
  let values;
  if (s.includes(":")) {
    const parts = s.split(":").map((p) => p.trim());
    const log = parts.length === 4 && parts[3].toLowerCase() === "log";
    if (parts.length !== 3 && !log) return { error: { code: "range" } };
    const [from, to, count] = parts.slice(0, 3).map(Number);
    if (![from, to, count].every(Number.isFinite) || parts.slice(0, 3).some((p) => p === "")) {
      return { error: { code: "range" } };
    }
    if (!Number.isInteger(count) || count < 1) return { error: { code: "points" } };
    if (log && (from <= 0 || to <= 0)) return { error: { code: "log" } };
    values = range(from, to, count, log);
  } else {
    values = [];
    for (const item of s.split(/[\s,;]+/).filter(Boolean)) {
      const v = Number(item);
      if (!Number.isFinite(v)) return { error: { code: "number", item } };
      values.push(v);
    }
  }
  if (type === "integer") {
    // a list's items must be whole; a range's are rounded (two that round alike: "repeated")
    const bad = s.includes(":") ? undefined : values.find((v) => !Number.isInteger(v));
    if (bad !== undefined) return { error: { code: "integer", item: String(bad) } };
    values = values.map((v) => Math.round(v));
  } else {
    values = values.map(tidy);
  }
  return unique(values);
}

/** `count` numbers from `from` to `to` (both included), evenly or geometrically spaced. */
export function range(from, to, count, log = false) {
  if (count === 1) return [from];
  const out = [];
  for (let k = 0; k < count; k++) {
    const f = k / (count - 1);
    out.push(log ? from * (to / from) ** f : from + (to - from) * f);
  }
  out[count - 1] = to;
  return out;
}

function unique(values) {
  const seen = new Set();
  for (const v of values) {
    if (seen.has(v)) return { error: { code: "repeated", item: String(v) } };
    seen.add(v);
  }
  return { values };
}

/** The seeds from their text: a list ("0, 3, 7") and ranges ("0-4"), as integers ≥ 0. Returns
 * {values} or {error: {code: "empty" | "seed" (`item`) | "repeated" (`item`)}}. */
export function parseSeeds(text) {
  const s = String(text ?? "").trim();
  if (!s) return { error: { code: "empty" } };
  const values = [];
  for (const item of s.split(/[\s,;]+/).filter(Boolean)) {
    const m = item.match(/^(\d+)(?:-(\d+))?$/);
    if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1]))) return { error: { code: "seed", item } };
    for (let k = Number(m[1]); k <= Number(m[2] ?? m[1]); k++) values.push(k);
  }
  return unique(values);
}

/** The seeds as short text: [0, 1, 2, 3, 4, 9] → "0-4, 9". */
export function seedsText(seeds) {
  const out = [];
  for (let i = 0; i < seeds.length; i++) {
    let j = i;
    while (j + 1 < seeds.length && seeds[j + 1] === seeds[j] + 1) j++;
    out.push(j > i ? `${seeds[i]}-${seeds[j]}` : String(seeds[i]));
    i = j;
  }
  return out.join(", ");
}

/** An axis's values as text that parses back to them: a range when they are evenly spaced
 * ("0.05:0.3:11", "10:80:4:log"), else a list ("0.5, 1, 2, 4"). */
export function valuesText(values) {
  const n = values.length;
  if (n >= 3 && values.every((v) => typeof v === "number" && Number.isFinite(v))) {
    const [from, to] = [values[0], values[n - 1]];
    const same = (xs) => xs.every((v, k) => tidy(v) === values[k]);
    if (same(range(from, to, n))) return `${from}:${to}:${n}`;
    if (from > 0 && to > 0 && same(range(from, to, n, true))) return `${from}:${to}:${n}:log`;
  }
  return values.map(String).join(", ");
}

/** The number of points (grid combinations × seeds) and of results (× the models of a point). */
export function sweepSize(grid, seeds, modelsPerPoint = 1) {
  let points = seeds.length;
  for (const values of Object.values(grid)) points *= values.length;
  return { points, results: points * modelsPerPoint };
}

/** The body of POST /api/sweeps. `axes`: [{path, values}] (one or two). */
export function sweepRequest({ kind, base, axes, seeds }) {
  return { kind, base, grid: Object.fromEntries(axes.map(({ path, values }) => [path, values])), seeds };
}

/** A copy of `base` with `value` at dotted `path` (the objects on the way made when missing). */
export function setPath(base, path, value) {
  const out = structuredClone(base);
  const parts = path.split(".");
  const last = parts.pop();
  let at = out;
  for (const part of parts) {
    if (at[part] === null || typeof at[part] !== "object") at[part] = {};
    at = at[part];
  }
  at[last] = structuredClone(value);
  return out;
}

/** The value at dotted `path` of `request`, or `fallback`. */
export function getPath(request, path, fallback = undefined) {
  let at = request;
  for (const part of path.split(".")) {
    if (at === null || typeof at !== "object" || !(part in at)) return fallback;
    at = at[part];
  }
  return at;
}

/** The request of one point: the base, the point's grid values, its seed. */
export function pointRequest(base, point, seed) {
  let out = structuredClone(base);
  for (const [path, value] of Object.entries(point)) out = setPath(out, path, value);
  out.seed = seed;
  return out;
}

/** Whether numbers are spaced evenly on a log scale and not on a linear one (an axis to draw
 * on a log scale): at least three, all positive. */
export function isGeometric(values) {
  if (values.length < 3 || values.some((v) => !(v > 0))) return false;
  const sorted = [...values].sort((a, b) => a - b);
  const even = (step) => sorted.slice(2).every((v, k) => Math.abs(step(v, sorted[k + 1]) / step(sorted[1], sorted[0]) - 1) < 1e-6);
  return even((a, b) => a / b) && !even((a, b) => a - b);
}

/** A grid value as a map key: numbers and names as themselves, lists of models as JSON. */
export const valueKey = (v) => (typeof v === "object" && v !== null ? JSON.stringify(v) : String(v));

// ---------------------------------------------------------------- statistics over seeds

/** The q-quantile of sorted numbers, interpolated linearly (numpy's default). */
export function quantile(sorted, q) {
  if (!sorted.length) return null;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** The median and the 10–90 % band of the finite numbers among `values` ({median, lo, hi, n,
 * missing}: n the numbers counted, missing the nulls and non-finite values left out). */
export function spread(values) {
  const sorted = values.filter((v) => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  const missing = values.length - sorted.length;
  if (!sorted.length) return { median: null, lo: null, hi: null, n: 0, missing };
  return { median: quantile(sorted, 0.5), lo: quantile(sorted, 0.1), hi: quantile(sorted, 0.9), n: sorted.length, missing };
}

/**
 * A metric's value of one result: the number the charts place. `success_rate` is `solved` as 1
 * or 0 (its mean over the seeds is the rate); a `memory_horizon` of null means the gradient
 * never dropped below 10⁻³ of its last value within the sequence: the horizon is at least T
 * (`seqLen`), and is counted as T (`censored`).
 */
export function metricValue(result, metric, seqLen) {
  const m = result.metrics || {};
  if (metric === "success_rate") return { value: typeof m.solved === "boolean" ? Number(m.solved) : null };
  const v = m[metric];
  if (metric === "memory_horizon" && v === null && "memory_horizon" in m && Number.isFinite(seqLen)) {
    return { value: seqLen, censored: true };
  }
  return { value: typeof v === "number" && Number.isFinite(v) ? v : null };
}

/** How a metric's values over the seeds become one number: a rate is a mean, others a median. */
export const REDUCE = { success_rate: "mean" };

/**
 * The results gathered by `dims` (each a function of a result → its value on that dimension,
 * e.g. the point's σ_max, or the model's index): a Map from the values' keys (joined by "|") to
 * {values: [the metric over its seeds], censored, results}. `metric` as in metricValue,
 * `seqLen(result)` the point's T.
 */
export function gather(results, dims, metric, seqLen = () => NaN) {
  const groups = new Map();
  for (const r of results) {
    const key = dims.map((d) => valueKey(d(r))).join("|");
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { values: [], censored: 0, results: [] }));
    const { value, censored } = metricValue(r, metric, seqLen(r));
    g.values.push(value);
    if (censored) g.censored += 1;
    g.results.push(r);
  }
  return groups;
}

/** One group's number — the mean of a rate, else the median over the seeds — with its spread,
 * and `pick`: the result nearest that number (what a click opens: a typical seed). */
export function summarize(group, metric) {
  const s = spread(group.values);
  let value = s.median;
  if (REDUCE[metric] === "mean" && s.n) {
    const finite = group.values.filter((v) => v !== null);
    value = finite.reduce((a, b) => a + b, 0) / finite.length;
  }
  let pick = group.results[0];
  let best = Infinity;
  group.values.forEach((v, k) => {
    if (v === null || value === null || Math.abs(v - value) >= best) return;
    best = Math.abs(v - value);
    pick = group.results[k];
  });
  return { ...s, value, pick };
}

/**
 * A heatmap over two dimensions: `xs`, `ys` the values in their order, `dx`, `dy` functions of a
 * result; returns {z, n, censored, pick}: z[j][i] the cell's number (null: nothing yet or
 * nothing finite), n[j][i] the results in it, pick[j][i] the result nearest its number (what a
 * click opens).
 */
export function heatCells(results, { xs, ys, dx, dy, metric, seqLen }) {
  const groups = gather(results, [dx, dy], metric, seqLen);
  const z = ys.map(() => xs.map(() => null));
  const n = ys.map(() => xs.map(() => 0));
  const censored = ys.map(() => xs.map(() => 0));
  const pick = ys.map(() => xs.map(() => null));
  ys.forEach((y, j) => xs.forEach((x, i) => {
    const g = groups.get(`${valueKey(x)}|${valueKey(y)}`);
    if (!g) return;
    const s = summarize(g, metric);
    z[j][i] = s.value;
    n[j][i] = g.results.length;
    censored[j][i] = g.censored;
    pick[j][i] = s.pick;
  }));
  return { z, n, censored, pick };
}

/**
 * Lines over one dimension: one series per value of `series(result)` (its key), each with, per
 * x in `xs`, the number (median or rate), the 10–90 % band and the count.
 */
export function lineSeries(results, { xs, dx, series, metric, seqLen }) {
  const bySeries = new Map();
  for (const r of results) {
    const key = valueKey(series(r));
    if (!bySeries.has(key)) bySeries.set(key, { key, sample: r, results: [] });
    bySeries.get(key).results.push(r);
  }
  return [...bySeries.values()].map(({ key, sample, results: rs }) => {
    const groups = gather(rs, [dx], metric, seqLen);
    const points = xs.map((x) => {
      const g = groups.get(valueKey(x));
      return g ? { x, ...summarize(g, metric), censored: g.censored }
        : { x, value: null, lo: null, hi: null, n: 0, censored: 0, pick: null };
    });
    return { key, sample, points };
  });
}

// ---------------------------------------------------------------- time

/** Points per second and the seconds left: {rate, eta} (null while nothing is known). */
export function pace(done, total, seconds) {
  if (!(done > 0) || !(seconds > 0)) return { rate: null, eta: null };
  const rate = done / seconds;
  return { rate, eta: Math.max(0, total - done) / rate };
}

/** The seconds a sweep of `points` should take at `rate` points per second (null: unknown). */
export function estimate(points, rate) {
  return rate > 0 ? points / rate : null;
}
