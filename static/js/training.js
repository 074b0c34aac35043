// The Train tab's training, from Start to done, Stop or error: the controls' state streamed
// (POST /api/train/stream) into a TrainData and the charts, drawn once per animation frame
// within a time budget; the progress bar with steps/s and ETA; the status line and the message
// (the wait in the server's line; a busy server's answer retried by itself after its
// Retry-After). Only the stream of the last Start counts: one still arriving from before is
// dropped.

import { downloadBlob } from "./exports.js";
import { drawDirty } from "./frame-budget.js";
import { fmt } from "./format.js";
import { t } from "./i18n.js";
import { AutoRetry } from "./messages.js";
import { say, trainingDone } from "./sentences.js";
import { requestBody } from "./state.js";
import { ApiError, retryAfter, streamEvents } from "./stream-client.js";
import { activeTab } from "./tabs.js";
import { readTheme } from "./theme.js";
import { TrainData } from "./train-data.js";
import { announceTraining } from "./train-events.js";

const FRAME_BUDGET_MS = 12;
const root = document.documentElement;
const $ = (selector) => document.querySelector(selector);

/** Each task's short name. */
const TASK_NAME = {
  adding: () => t("train.task.adding.name"),
  copy: () => t("train.task.copy.name"),
  temporal_order: () => t("train.task.temporal_order.name"),
};

/** POST /api/train/stream: see streamEvents. */
function streamTrain(bodyText, { signal, onEvent, onQueued }) {
  return streamEvents("/api/train/stream", bodyText, {
    signal, onEvent, onQueued, noun: () => t("train.error.noun"), kept: () => t("train.error.kept"),
  });
}

export class Training {
  /**
   * @param views     {loss, maps, metric, cards}
   * @param controls  the TrainControls (their values, the URL)
   * @param message   the MessageBox, `status` the StatusLine
   */
  constructor({ views, controls, message, status }) {
    Object.assign(this, { views, controls, message, status });
    this.ui = {
      start: $("#train-start"), stop: $("#train-stop"), bar: $("#train-progress"), fill: $("#train-progress-fill"),
      progress: $("#train-progress-text"), metricSub: $("#metric-sub"),
    };
    this.theme = readTheme();
    this.data = null; // the TrainData on screen
    this.stream = null; // the AbortController of the stream in flight
    this.startedAt = 0;
    this.endedAt = 0;
    this.frame = 0; // the animation frame asked for
    this.queued = 0; // the request's place in the server's line while it waits (1: next)
    this.retry = new AutoRetry({ message, status, flag: "trainRetry", words: {
      countdown: (seconds) => t("train.status.retry", { seconds }),
      cancelled: () => t("train.status.retry.cancelled"),
      tryAgain: () => t("train.message.try_again"),
      cancel: () => t("train.message.cancel"),
    } });
    this.tick = this.tick.bind(this);
    this.ui.stop.addEventListener("click", () => this.stop());
    // the training on screen as JSON or CSV (TrainData.toJSON / toCSV)
    this.exports = { json: $("#train-export-json"), csv: $("#train-export-csv") };
    this.exports.json.addEventListener("click", () => this.download("json"));
    this.exports.csv.addEventListener("click", () => this.download("csv"));
    this.setState("idle");
  }

  /** Start is off while a training runs (a second Start would silently replace it; Stop ends it). */
  setState(state) {
    root.dataset.train = state;
    this.ui.start.disabled = state === "running";
    this.ui.stop.disabled = state !== "running";
  }

  async start() {
    if (this.busy) return; // Enter in a field while a training runs: Stop comes first
    const values = this.controls.read();
    this.controls.syncUrl();
    this.message.hide();
    if (!values.train_models.length) {
      this.message.show(() => t("train.message.no_models"), { tone: "info" });
      return;
    }
    this.stop({ quiet: true });
    this.retry.clear();
    const mine = new AbortController();
    this.stream = mine;
    this.setState("running");
    this.status.set(() => t("train.status.starting"));
    let begun = false;
    const { views } = this;
    try {
      await streamTrain(requestBody("train", values), {
        signal: mine.signal,
        onQueued: (position) => {
          if (mine !== this.stream) return;
          this.wait(position);
          this.kick();
        },
        onEvent: (name, ev) => {
          if (mine !== this.stream) return;
          if (name === "start") {
            begun = true;
            this.wait(0);
            this.begin(ev);
          } else if (name === "progress") {
            this.data.progress(ev);
            views.loss.progress(ev);
            views.maps.progress(ev);
          } else if (name === "eval") {
            this.data.eval(ev);
            views.metric.eval(ev);
          } else if (name === "done") {
            this.data.final = ev;
            views.cards.finish(ev);
            announceTraining(this.data, true);
          }
          this.kick();
        },
      });
      if (mine !== this.stream) return;
      this.stream = null;
      this.endedAt = performance.now();
      this.setState("done");
      const { data } = this;
      const seconds = ((this.endedAt - this.startedAt) / 1000).toFixed(1);
      const { status, chance } = trainingDone(data.final.models, { steps: data.steps, seconds, metric: data.metric,
        baseline: data.metricBaseline, seqLen: data.config.seq_len });
      this.status.set(() => say(status));
      // a model whose held-out metric ends at the task's chance level learnt nothing: say what to try
      if (chance) this.message.show(() => say(chance), { tone: "info" });
    } catch (e) {
      if (mine !== this.stream) return;
      this.stream = null;
      this.wait(0);
      this.endedAt = performance.now();
      if (e.name === "AbortError") return; // stop() has said so
      this.setState("error");
      const seconds = begun ? null : retryAfter(e);
      if (seconds != null) {
        this.retry.schedule(e, seconds, () => this.start());
        this.kick();
        return;
      }
      // an ApiError writes its message in the current language each time it is read
      this.message.show(e instanceof ApiError ? () => e.message : () => t("train.error.page", { reason: e.message }));
      const at = begun ? { step: this.data.step, steps: this.data.steps } : null;
      this.status.set(() => (at ? t("train.status.broken", at) : t("train.status.not_started")));
      if (begun) views.cards.interrupt("broken");
      if (!(e instanceof ApiError)) console.error(e);
    }
    this.kick();
  }

  /** The request waits in the server's line at `position` (0: no longer). */
  wait(position) {
    this.queued = position;
    if (position) {
      root.dataset.trainQueued = String(position);
      this.status.set(() => t("train.status.queued", { position }));
    } else {
      delete root.dataset.trainQueued;
    }
  }

  /** The training on screen as a file, named after its task, T and seed ("_partial" until done). */
  download(kind) {
    const { data } = this;
    if (!data) return;
    const c = data.config;
    const name = `gradient-flow-lab_train_${c.task}_T${c.seq_len}_seed${c.seed}${data.final ? "" : "_partial"}.${kind}`;
    const text = kind === "json" ? JSON.stringify(data.toJSON()) : data.toCSV();
    downloadBlob(new Blob([text], { type: kind === "json" ? "application/json" : "text/csv" }), name);
  }

  /** The `start` event: a new training on screen. */
  begin(ev) {
    const data = new TrainData(ev);
    this.data = data;
    for (const button of Object.values(this.exports)) button.disabled = false;
    this.startedAt = performance.now();
    this.endedAt = 0;
    for (const el of document.querySelectorAll("[data-train-empty]")) el.hidden = true;
    const { views } = this;
    views.loss.begin(data, this.theme);
    views.maps.begin(data, this.theme);
    views.metric.begin(data, this.theme);
    views.cards.begin(data);
    announceTraining(data, false);
    this.writeMetricSub();
    const { task, seq_len: seqLen } = data.config;
    const models = data.models.map((m) => m.label).join(", ");
    this.status.set(() => t("train.status.training", { models, task: TASK_NAME[task]?.() ?? task, seq_len: seqLen }));
  }

  /** Stop the training in flight: aborting the fetch disconnects, and the server stops. */
  stop({ quiet = false } = {}) {
    if (!this.stream) return;
    this.stream.abort();
    this.stream = null;
    const waiting = this.queued; // the charts still show the training before
    this.wait(0);
    this.endedAt = performance.now();
    if (quiet) return;
    this.setState("stopped");
    const { data } = this;
    if (data && !waiting) {
      const at = { step: data.step, steps: data.steps };
      this.status.set(() => t("train.status.stopped", at));
      this.views.cards.interrupt("stopped");
    } else {
      this.status.set(() => t("train.status.stopped.early"));
    }
    this.kick();
  }

  get busy() {
    return !!this.stream;
  }

  /** The metric card's sentence: which metric, on how many sequences, how often, the baseline;
   * the loss card's names the clip strip only when the training clips (there is none otherwise). */
  writeMetricSub() {
    const { data } = this;
    if (!data) return;
    const clips = data.config.clip !== null && data.config.clip !== undefined;
    $("#loss-sub").textContent = t(clips ? "train.loss.sub" : "train.loss.sub.noclip");
    const values = { size: data.config.eval_size, every: data.config.eval_every, baseline: fmt(data.metricBaseline) };
    this.ui.metricSub.textContent = data.metric === "mse" ? t("train.metric.sub.mse", values)
      : t("train.metric.sub.accuracy", values);
  }

  // ---------------------------------------------------------------- drawing (once per frame)

  panels() {
    return [this.views.loss, ...this.views.maps.panels, this.views.metric];
  }

  kick() {
    if (!this.frame) this.frame = requestAnimationFrame(this.tick);
  }

  tick() {
    this.frame = 0;
    const shown = activeTab() === "train";
    let more = false;
    if (shown) {
      more = drawDirty(this.panels(), FRAME_BUDGET_MS);
      this.views.cards.sync();
    }
    this.updateProgress();
    const pending = this.panels().some((panel) => panel.dirty);
    const running = root.dataset.train === "running";
    root.dataset.trainSettled = String(!pending && !running);
    if (more || running || (pending && shown)) this.kick();
  }

  updateProgress() {
    const { data, ui } = this;
    const step = data && !this.queued ? data.step : 0;
    const steps = data && !this.queued ? data.steps : 0;
    const percent = steps ? Math.min(100, (100 * step) / steps) : 0;
    ui.fill.style.width = `${percent}%`;
    ui.bar.setAttribute("aria-valuenow", String(Math.round(percent)));
    const state = root.dataset.train;
    let text = t("train.progress.ready");
    if (this.queued) text = t("train.progress.waiting");
    else if (data) {
      const seconds = ((this.endedAt || performance.now()) - this.startedAt) / 1000;
      const rate = seconds > 0 ? step / seconds : 0;
      const values = { step, steps, percent: Math.floor(percent), rate: rate >= 10 ? Math.round(rate) : rate.toFixed(1) };
      const eta = rate > 0 ? clock((steps - step) / rate) : "—";
      if (state === "running") text = t("train.progress.running", { ...values, eta });
      else if (state === "done") text = t("train.progress.done", { ...values, elapsed: clock(seconds) });
      else if (state === "stopped") text = t("train.progress.stopped", values);
      else text = t("train.progress.error", values);
    } else if (state === "running") text = t("train.progress.waiting");
    const out = ui.progress;
    if (out.textContent !== text) out.textContent = text;
    out.dataset.step = String(step);
    out.dataset.percent = String(Math.floor(percent));
  }

  setTheme(theme) {
    this.theme = theme;
    this.views.loss.setTheme(theme);
    this.views.maps.setTheme(theme);
    this.views.metric.setTheme(theme);
    this.kick();
  }

  /** Everything the training wrote, in the current language. */
  relabel() {
    this.writeMetricSub();
    this.views.loss.relabel();
    this.views.maps.relabel();
    this.views.metric.relabel();
    this.views.cards.render();
    this.updateProgress();
  }
}

/** A duration in words: "4.2 s", "1 min 05 s". */
function clock(seconds) {
  if (!Number.isFinite(seconds)) return "—";
  if (seconds < 10) return t("train.clock.seconds", { seconds: Math.max(0, seconds).toFixed(1) });
  const s = Math.round(seconds);
  return s >= 60 ? t("train.clock.minutes", { minutes: Math.floor(s / 60), seconds: String(s % 60).padStart(2, "0") })
    : t("train.clock.seconds", { seconds: s });
}
