// The Train tab's controls: their values (state.js binds each to its URL key), kept in the URL as
// they change while the tab is shown or the URL holds them; the fields that follow others (the
// clipping threshold, SGD's momentum, the task's sentence); the server's limits in the tooltips.

import { t } from "./i18n.js";
import { defaults, readControls, updateUrl, urlNames, writeControls } from "./state.js";
import { activeTab } from "./tabs.js";

const $ = (selector) => document.querySelector(selector);

/** Each task's sentence: what it is, its metric and its baseline. */
const TASK_TEXT = {
  adding: () => t("train.task.adding.text"),
  copy: () => t("train.task.copy.text"),
  temporal_order: () => t("train.task.temporal_order.text"),
};

/** Settings that succeed here in under two minutes (benchmarks/bench_presets.py), each
 * over the tab's defaults: the gated models solve the task, the tanh RNN (where it is) shows
 * what they are compared with. Copy at its defaults (T = 50, H = 32) learns too slowly for
 * that; its preset takes the shortest delay (T = 1: each symbol is recalled 11 steps after it
 * is seen, all 10 held at once), H = 128 for the 10 symbols and Adam at 0.015, at which the
 * tanh RNN stays at chance. */
export const PRESETS = {
  adding: { train_task: "adding", train_seq_len: "30", train_hidden_size: "32", train_models: ["rnn-tanh", "lstm", "gru"],
    train_steps: "800", train_eval_every: "200", train_eval_size: "500" },
  temporal_order: { train_task: "temporal_order", train_seq_len: "20", train_hidden_size: "32",
    train_models: ["lstm", "gru"], train_steps: "800", train_eval_every: "200", train_eval_size: "500" },
  copy: { train_task: "copy", train_seq_len: "1", train_hidden_size: "128", train_batch_size: "32", train_lr: "0.015",
    train_models: ["rnn-tanh", "lstm", "gru"], train_steps: "2000", train_eval_every: "200", train_eval_size: "500" },
};

/** The fields the API limits: [field, the limit's name in GET /api/meta, the field's title]. */
const LIMITED = [
  ["train_seq_len", "seq_len_max", () => t("train.seq_len.title")],
  ["train_hidden_size", "hidden_size_max", () => t("train.hidden_size.title")],
  ["train_batch_size", "batch_size_max", () => t("train.batch_size.title")],
  ["train_steps", "steps_max", () => t("train.steps.title")],
  ["train_eval_size", "eval_size_max", () => t("train.eval_size.title")],
];

export class TrainControls {
  constructor(form, { onStart }) {
    this.form = form;
    this.limits = {}; // GET /api/meta's limits, once known
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      onStart();
    });
    for (const type of ["input", "change"]) {
      form.addEventListener(type, () => {
        this.syncDependents();
        this.syncUrl();
      });
    }
    // a preset sets every field (over the defaults), then the menu goes back to its prompt
    $("#train_preset").addEventListener("change", (e) => {
      const preset = PRESETS[e.target.value];
      e.target.value = "";
      if (!preset) return;
      this.write({ ...defaults("train"), ...preset });
      this.syncUrl();
    });
    $("#train-defaults").addEventListener("click", () => {
      this.write(defaults("train"));
      this.syncUrl();
    });
  }

  read() {
    return readControls("train");
  }

  write(values) {
    writeControls("train", values);
    this.syncDependents();
  }

  /** The train_ keys go into the URL while the tab is shown, or once the URL holds them. */
  syncUrl() {
    if (activeTab() === "train" || urlNames("train")) updateUrl(this.read());
  }

  syncDependents() {
    const f = this.form.elements;
    f.train_clip.disabled = !f.train_clip_on.checked;
    f.train_sigma_max.disabled = !f.train_sigma_on.checked;
    const sgd = f.train_optimizer.value === "sgd";
    f.train_momentum.disabled = !sgd;
    $("#train-momentum-field").classList.toggle("is-off", !sgd);
    $("#train-task-text").textContent = TASK_TEXT[f.train_task.value]?.() || "";
  }

  setLimits(limits) {
    this.limits = limits;
    this.writeLimits();
  }

  /** Each limited field's max and its title with the limit ("… — at most 2000"). */
  writeLimits() {
    const f = this.form.elements;
    for (const [field, key, title] of LIMITED) {
      if (!this.limits[key]) continue;
      f[field].max = String(this.limits[key]);
      f[field].title = t("train.limit.title", { title: title(), max: this.limits[key] });
    }
  }

  relabel() {
    this.syncDependents();
    this.writeLimits();
  }
}
