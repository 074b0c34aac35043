// What a training stream has told so far (the Train tab's run data): the start event's setup,
// and each model's last progress and held-out evaluation.

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
    this.final = null;
  }

  progress(e) {
    const last = this.last[e.model];
    last.step = e.step;
    last.loss = e.loss;
    if (e.clipped || e.clipped_fraction > 0) last.clipped += 1;
  }

  eval(e) {
    Object.assign(this.last[e.model], { evalStep: e.step, evalValue: e.value });
  }

  /** Steps done by every model (they train in lockstep). */
  get step() {
    return this.final ? this.steps : Math.min(...this.last.map((l) => l.step));
  }
}
