// What a sweep can vary and measure, in one table per kind: the settings offered as axes (the
// request's dotted paths, their type, their words), the metrics of the results (API-2.md §5), and
// how a value or a model is named on the page.

import { MODELS, modelKey } from "./catalogue.js";
import { has, t } from "./i18n.js";

const INPUTS = ["gaussian", "sine", "impulse", "adding"];
const SCHEMES = ["xavier", "orthogonal", "normal", "identity"];
const TASKS = ["adding", "copy", "temporal_order"];

/** The settings a point can vary: [path, type] ("number", "integer" or the names allowed). */
export const AXES = {
  run: [
    ["init.sigma_max", "number"], ["seq_len", "integer"], ["hidden_size", "integer"], ["init.std", "number"],
    ["init.bias_std", "number"], ["init.scheme", SCHEMES], ["init.forget_bias", "number"], ["input.kind", INPUTS],
    ["batch_size", "integer"],
  ],
  train: [
    ["seq_len", "integer"], ["hidden_size", "integer"], ["task", TASKS], ["optimizer.lr", "number"], ["clip", "number"],
    ["steps", "integer"], ["batch_size", "integer"], ["init.sigma_max", "number"], ["init.forget_bias", "number"],
  ],
};

/** The metrics of a result, by kind, in the chooser's order (`success_rate`: the share of the
 * seeds whose training solved the task, from `solved`). */
export const METRICS = {
  run: ["decay_rate", "memory_horizon", "log10_grad_ratio", "loss", "sigma_max", "overflow_step"],
  train: ["success_rate", "final_loss", "final_metric", "steps_to_solve"],
};

/** The type of a path's values ("number" for a path the page does not offer). */
export function axisType(kind, path) {
  return AXES[kind]?.find(([p]) => p === path)?.[1] ?? "number";
}

/** A path's name: "σ_max (largest singular value of W_hh)"; the path itself when unknown. */
export function axisLabel(path) {
  if (path === "model") return t("sweep.dim.model");
  const key = `sweep.path.${path}`;
  return has(key) ? t(key) : path;
}

/** A short name of a path for axis titles: "σ_max", "T". */
export function axisShort(path) {
  if (path === "model") return t("sweep.dim.model");
  const key = `sweep.path.${path}.short`;
  return has(key) ? t(key) : path;
}

/** A metric's name ("decay rate per step"). */
export function metricLabel(metric) {
  const key = `sweep.metric.${metric}`;
  return has(key) ? t(key) : metric;
}

/** A model entry ({cell, activation}) in words: the catalogue's label. */
export function modelName(entry) {
  return MODELS[modelKey(entry)]?.label ?? String(entry.cell).toUpperCase();
}

/** A grid value in words: a number or name as itself, a list of models by their labels. */
export function valueLabel(value) {
  if (Array.isArray(value)) return value.map((m) => (typeof m === "object" ? modelName(m) : String(m))).join(" + ");
  if (value !== null && typeof value === "object") return modelName(value);
  return String(value);
}
