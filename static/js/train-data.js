// What a training stream has told so far (the Train tab's run data): the start event's setup,
// each model's last progress and held-out evaluation, and the whole history of both (for the
// JSON and CSV exports: toJSON(), toCSV()).

import { modelKey } from "./catalogue.js";

export class TrainData {
  constructor(start) {
    this.config = start.config;
    this.steps = start.config.steps;
    this.models = start.models.map((m, i) => ({ ...m, key: modelKey(m), index: i }));
    this.baseline = start.baseline;
    this.metric = start.metric;
    this.metricBaseline = start.metric_baseline;
    this.profileT = start.profile_t;
    this.progressEvery = start.progress_every;
    this.last = this.models.map(() => ({ step: 0, loss: null, clipped: 0, evalStep: null, evalValue: null }));
    this.history = this.models.map(() => ({ progress: [], evals: [] }));
    this.final = null;
  }

  progress(e) {
    this.history[e.model].progress.push(e);
    const last = this.last[e.model];
    last.step = e.step;
    last.loss = e.loss;
    if (e.clipped || e.clipped_fraction > 0) last.clipped += 1;
  }

  eval(e) {
    this.history[e.model].evals.push({ step: e.step, value: e.value });
    Object.assign(this.last[e.model], { evalStep: e.step, evalValue: e.value });
  }

  /** The training as the stream told it: the setup, then per model every progress report
   * (loss, ‖∂L/∂θ‖ before clipping, the clipped fraction, ‖∂L/∂h_t‖ at profile_t) and every
   * held-out evaluation, and the outcome once done. */
  toJSON() {
    const keep = ["step", "loss", "grad_norm_total", "clipped_fraction", "grad_norm"];
    return {
      config: this.config, baseline: this.baseline, metric: this.metric, metric_baseline: this.metricBaseline,
      profile_t: this.profileT, complete: !!this.final,
      models: this.models.map((m, i) => ({
        label: m.label, cell: m.cell, activation: m.activation,
        progress: Object.fromEntries(keep.map((k) => [k, this.history[i].progress.map((e) => e[k] ?? null)])),
        evals: { step: this.history[i].evals.map((e) => e.step), value: this.history[i].evals.map((e) => e.value) },
        outcome: this.final?.models?.[i] ?? null,
      })),
    };
  }

  /** One row per model and progress report, with the held-out metric where one was measured. */
  toCSV() {
    const cell = (v) => (v === null || v === undefined || Number.isNaN(v) ? "" : String(v));
    const lines = [["model", "label", "step", "loss", "grad_norm_total", "clipped_fraction", this.metric].join(",")];
    this.models.forEach((m, i) => {
      const evals = new Map(this.history[i].evals.map((e) => [e.step, e.value]));
      for (const e of this.history[i].progress) {
        lines.push([i, `"${m.label.replace(/"/g, '""')}"`, e.step, cell(e.loss), cell(e.grad_norm_total),
          cell(e.clipped_fraction), cell(evals.get(e.step))].join(","));
      }
    });
    return `${lines.join("\n")}\n`;
  }

  /** Steps done by every model (they train in lockstep). */
  get step() {
    return this.final ? this.steps : Math.min(...this.last.map((l) => l.step));
  }
}
