// A point of a sweep opened in the Explore tab (a run) or the Train tab (a training): its
// request (the sweep's base, the point's grid values, its seed, its one model) turned into that
// tab's URL state (state.js's keys), and what of the request the tab has no control for.

import { modelKey } from "./catalogue.js";
import { defaults, toSearch } from "./state.js";

/** A number or name as the URL writes it. */
const text = (v) => (v === null || v === undefined ? undefined : String(v));

/** Each tab's keys from a request: [key, the request's dotted path, its conversion]. */
const KEYS = {
  explore: [
    ["seq_len", "seq_len"], ["hidden_size", "hidden_size"], ["input", "input.kind"], ["init", "init.scheme"],
    ["sigma_max", "init.sigma_max", (v) => (v === null ? "none" : String(v))], ["forget_bias", "init.forget_bias"],
    ["loss", "loss.at"], ["loss_kind", "loss.kind"], ["output_size", "output_size"], ["seed", "seed"],
    ["batch_size", "batch_size"], ["init_std", "init.std"], ["bias_std", "init.bias_std"],
  ],
  train: [
    ["train_task", "task"], ["train_seq_len", "seq_len"], ["train_hidden_size", "hidden_size"],
    ["train_batch_size", "batch_size"], ["train_optimizer", "optimizer.name"], ["train_lr", "optimizer.lr"],
    ["train_momentum", "optimizer.momentum"], ["train_clip", "clip", (v) => (v === null ? "none" : String(v))],
    ["train_steps", "steps"], ["train_eval_every", "eval_every"], ["train_eval_size", "eval_size"], ["train_seed", "seed"],
    ["train_init", "init.scheme"], ["train_sigma_max", "init.sigma_max", (v) => (v === null ? "none" : String(v))],
    ["train_forget_bias", "init.forget_bias"], ["train_init_std", "init.std"], ["train_bias_std", "init.bias_std"],
  ],
};

/** Fields a tab can leave out when they hold these values (the API's defaults, or what the tab
 * sends anyway). */
const NEUTRAL = {
  explore: { models: true, include: true },
  train: { models: true },
};

/** Every leaf of a request as [dotted path, value] (lists are leaves). */
function leaves(obj, prefix = "") {
  return Object.entries(obj).flatMap(([k, v]) => (v !== null && typeof v === "object" && !Array.isArray(v)
    ? leaves(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v]]));
}

/**
 * The URL (a query string, with "?") that opens `request` of `kind` ("run" | "train") in its tab,
 * and `missing`: [[path, value]] the tab has no control for (it runs with its default there).
 */
export function openLink(kind, request, lang = "") {
  const tab = kind === "train" ? "train" : "explore";
  const values = { tab, ...defaults(tab) };
  const used = new Set();
  for (const [key, path, to = text] of KEYS[tab]) {
    const v = path.split(".").reduce((at, part) => (at && typeof at === "object" ? at[part] : undefined), request);
    used.add(path);
    if (v !== undefined) values[key] = to(v);
  }
  const models = (request.models ?? []).filter((m) => !m.weights).map(modelKey);
  if (models.length) values[tab === "train" ? "train_models" : "models"] = models;
  const model = request.models?.[0] ?? {};
  if (tab === "explore") {
    if (model.num_layers) values.num_layers = String(model.num_layers);
    if (model.bidirectional) values.bidirectional = "1";
  }
  const neutral = NEUTRAL[tab];
  // a null is the API's default, which the tab's default is too
  const missing = leaves(request).filter(([path, v]) => v !== null && !used.has(path)
    && !(path in neutral && (neutral[path] === true || neutral[path] === v)));
  if (tab === "explore") delete values.tab; // the Explore tab is the page's default
  if (lang) values.lang = lang;
  return { search: `?${toSearch(values)}`, missing };
}
