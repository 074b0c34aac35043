// A sweep on the page: its request (kind, base, grid, seeds), its status and its results as they
// arrive (each kept once, however often the server sends it: GET /api/sweeps/{id} and the event
// stream both start with what is finished), and its dimensions — the grid's axes, then the model
// when a point has several — which the views draw against.

import { MODELS, modelKey } from "./catalogue.js";
import { axisLabel, axisShort, valueLabel } from "./sweep-axes.js";
import { getPath, heatCells, isGeometric, lineSeries, pointRequest, valueKey } from "./sweep-plan.js";

/** The models a request names when it names none (the API's defaults). */
const DEFAULT_MODELS = {
  run: [{ cell: "rnn", activation: "sigmoid" }, { cell: "rnn", activation: "tanh" }, { cell: "lstm" }],
  train: [{ cell: "rnn", activation: "sigmoid" }, { cell: "rnn", activation: "tanh" }, { cell: "lstm" }, { cell: "gru" }],
};
const DEFAULT_SEQ_LEN = 50;

const resultKey = (r) => `${JSON.stringify(r.point)}|${r.seed}|${r.model}`;

export class SweepData {
  /**
   * `info`: {id, status, total, done, errors, detail} (the API's status); `request` ({kind, base,
   * grid, seeds}); `order`: the grid's paths in the order the page shows them (the canonical
   * request sorts them), those it does not name after; `tasks`: each task's metric ("mse",
   * "accuracy"), from /api/meta.
   */
  constructor(info, request, order = [], tasks = {}) {
    const { id, status = "queued", total = 0, done = 0, detail = null } = info;
    Object.assign(this, { id, status, total, done, detail, request, order });
    this.kind = request.kind;
    this.results = []; // one per finished point and model
    this.failed = []; // {point, seed, error}: the points that could not be computed
    this.seen = new Set();
    this.pace = null; // {rate, eta}: the server's, from its last progress report
    this.dims = this.dimensions();
    // the held-out metric of a training sweep's task(s): "mse", "accuracy", or null (mixed, unknown)
    const names = new Set(request.grid?.task ?? [request.base?.task]);
    const metrics = new Set([...names].map((name) => tasks[name] ?? null));
    this.taskMetric = metrics.size === 1 ? [...metrics][0] : null;
  }

  /** Keep a point's result (GET's `results`); false when it was already here. */
  add(result) {
    const key = resultKey(result);
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    this.results.push(result);
    return true;
  }

  /** Keep a finished point (a `result` event, or one of GET's `point_errors`): its results, or
   * its error. Whether anything was new. */
  addPoint(p) {
    if (!p.error) return (p.results ?? []).map((r) => this.add(r)).some(Boolean);
    const key = `${JSON.stringify(p.point)}|${p.seed}|error`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    this.failed.push(p);
    return true;
  }

  /** The status, the counts and the pace of a `start`, `progress`, `done` or `end` event. */
  update(info) {
    for (const name of ["status", "total", "done", "detail"]) if (info[name] !== undefined) this[name] = info[name];
    if ("points_per_second" in info) this.pace = { rate: info.points_per_second, eta: info.eta_seconds };
  }

  /** The model entry of a result: the point's own models when the grid varies them. */
  modelOf(result) {
    const models = result.point?.models ?? this.request.base?.models ?? DEFAULT_MODELS[this.kind];
    return models[result.model ?? 0] ?? { cell: "rnn" };
  }

  /** The request of a result's point, for its one model. */
  requestOf(result) {
    const request = pointRequest(this.request.base ?? {}, result.point ?? {}, result.seed);
    request.models = [this.modelOf(result)];
    return request;
  }

  /** The sequence length of a result's point. */
  seqLen(result) {
    return result.point?.seq_len ?? getPath(this.request.base ?? {}, "seq_len", null) ?? DEFAULT_SEQ_LEN;
  }

  /**
   * The sweep's dimensions: [{path, label, short, values, labels, of(result), numeric, scale,
   * axis}]
   * (`scale`: "linear", "log" for numbers spaced evenly on a log scale, "category"), the grid's
   * axes in order (a grid over `models` is the model dimension), then the model when the
   * points have several. `of` gives a result's value on the dimension, found in `values`.
   */
  dimensions() {
    const grid = this.request.grid ?? {};
    const dims = [];
    const rank = (path) => (this.order.includes(path) ? this.order.indexOf(path) : this.order.length);
    const paths = Object.keys(grid).sort((a, b) => rank(a) - rank(b));
    for (const [path, values] of paths.map((p) => [p, grid[p]])) {
      if (path === "models") continue;
      const numeric = values.every((v) => typeof v === "number");
      const scale = !numeric ? "category" : isGeometric(values) ? "log" : "linear";
      dims.push({ path, label: axisLabel(path), short: axisShort(path), values, numeric, scale,
        labels: values.map(valueLabel), of: (r) => r.point?.[path] });
    }
    const entries = grid.models ? grid.models.flat() : (this.request.base?.models ?? DEFAULT_MODELS[this.kind]);
    const keys = [...new Set(entries.map(modelKey))];
    if (keys.length > 1 || !dims.length) {
      dims.push({ path: "model", label: axisLabel("model"), short: axisShort("model"), values: keys, numeric: false,
        scale: "category", labels: keys.map((key) => MODELS[key]?.label ?? key), of: (r) => modelKey(this.modelOf(r)) });
    }
    for (const dim of dims) dim.axis = dimAxis(dim);
    return dims;
  }

  /**
   * The task's chance level of a training sweep's `metric` over the first dimension, one per
   * value ({values, metric}: null where no result has arrived; each result carries its point's
   * `baseline`): the final metric's or loss's own; for a success rate, 0 — a model at chance
   * level never meets the criterion — with that chance metric (`chance`). Null for a run sweep.
   */
  baseline(metric) {
    const field = metric === "success_rate" ? "final_metric" : metric;
    if (this.kind !== "train" || !["final_metric", "final_loss"].includes(field)) return null;
    const [dx] = this.dims;
    const at = dx.values.map((v) => this.results.find((r) => valueKey(dx.of(r)) === valueKey(v))?.baseline?.[field] ?? null);
    if (at.every((v) => v === null)) return null;
    if (metric === "success_rate") return { values: at.map((v) => (v === null ? null : 0)), chance: at.find((v) => v !== null) };
    return { values: at };
  }

  /** The heatmap of `metric` over the first two dimensions: sweep-plan.js's heatCells, with
   * the dimensions as `dx`, `dy`. */
  heat(metric) {
    const [dx, dy] = this.dims;
    const cells = heatCells(this.results, {
      xs: dx.values, ys: dy.values, dx: dx.of, dy: dy.of, metric, seqLen: (r) => this.seqLen(r),
    });
    return { ...cells, dx, dy };
  }

  /**
   * The lines of `metric` over the first dimension, one per combination of the others:
   * {dx, rest, series: [{key, labels (one per other dimension), model (its key, if the model is
   * one of them), points: [{x, value, lo, hi, n, censored, pick}]}]}.
   */
  lines(metric) {
    const [dx, ...rest] = this.dims;
    const series = lineSeries(this.results, {
      xs: dx.values, dx: dx.of, metric, seqLen: (r) => this.seqLen(r),
      series: (r) => rest.map((d) => valueKey(d.of(r))).join("|"),
    });
    const order = (s) => rest.reduce((at, d) => at * (d.values.length + 1) + indexOf(d, s.sample), 0);
    series.sort((a, b) => order(a) - order(b));
    return {
      dx, rest,
      series: series.map((s) => ({
        key: s.key, points: s.points,
        labels: rest.map((d) => {
          const label = d.labels[indexOf(d, s.sample)] ?? valueKey(d.of(s.sample));
          return d.path === "model" ? label : `${d.short} = ${label}`;
        }),
        model: rest.some((d) => d.path === "model") ? modelKey(this.modelOf(s.sample)) : null,
      })),
    };
  }
}

/** Where a dimension's values go on a chart's axis: {coords, layout} — numbers at themselves on
 * a linear or log axis, names at 0, 1, … with their labels as the ticks. */
function dimAxis(dim) {
  if (dim.scale !== "category") return { coords: dim.values, layout: { type: dim.scale } };
  const coords = dim.values.map((_, k) => k);
  return { coords, layout: { type: "linear", tickvals: coords, ticktext: dim.labels, range: [-0.5, coords.length - 0.5] } };
}

/** A result's value on a dimension as its index among the dimension's values (-1: none). */
function indexOf(dim, result) {
  const key = valueKey(dim.of(result));
  return dim.values.findIndex((v) => valueKey(v) === key);
}
