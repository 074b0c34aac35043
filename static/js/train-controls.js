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
