// The explorer's run, from Run to done, error or Reset: the controls' state streamed
// (POST /api/runs/stream) into a RunData that the views and the playback clock follow, the
// status line and the messages that go with it (errors in words, with the way out where there
// is one; the wait in the server's line; a busy server's answer retried by itself after its
// Retry-After), and the performance marks gfl:run / gfl:streamed / gfl:rendered. Only the stream
// of the last Run counts: one still arriving from before is dropped.

import { t } from "./i18n.js";
import { RunData } from "./run-data.js";
import { announce } from "./run-events.js";
import { AutoRetry } from "./messages.js";
import { requestBody } from "./state.js";
import { ApiError, retryAfter, streamRun } from "./stream-client.js";

const root = document.documentElement;

/** What the page leaves out, in this order, when the server says a run's answer would be too
 * large (a 422 on `include`): the Jacobian norms (their checkbox turns off), then the per-step
 * arrays that no control names, lightest view first. The gradient flow never goes. */
const FIT_ORDER = ["jacobian", "preactivation", "gates", "cell_state", "hidden", "grads"];

export class RunController {
  /**
   * @param controls  the ExploreControls (their values, the URL)
   * @param views     the ExploreViews
   * @param player    the playback clock
   * @param message   the MessageBox, `status` the StatusLine
   * @param onChange  () after the run on screen or its state changed (the exports follow it)
   */
  constructor({ controls, views, player, message, status, onChange }) {
    Object.assign(this, { controls, views, player, message, status, onChange });
    this.run = null; // the RunData on screen
    this.stream = null; // the AbortController of the stream in flight
    this.streamEnded = false;
    this.events = 0;
    this.startedAt = 0;
    this.finishedAt = 0;
    this.rendered = false; // the run on screen has been drawn complete (gfl:rendered)
    this.queued = 0; // the request's place in the server's line while it waits (1: next)
    this.retry = new AutoRetry({ message, status, flag: "retry", words: {
      countdown: (seconds) => t("explore.status.retry", { seconds }),
      cancelled: () => t("explore.status.retry.cancelled"),
      tryAgain: () => t("explore.message.try_again"),
      cancel: () => t("explore.message.cancel"),
    } });
  }

  /** A stream is in flight. */
  get busy() {
    return !!this.stream;
  }

  /** Start a run of the current controls; `paused` shows t = 1 and waits (Step from idle).
   * `drop`: the arrays left out of `include` so that the answer fits the server's limits
   * (`fitted`: every one left out since Run, said in words once the run is done). */
  async start({ paused = false, drop = [], fitted = [] } = {}) {
    const values = { ...this.controls.read(), drop };
    this.controls.syncUrl();
    this.message.hide();
    delete root.dataset.fitted;
    if (!values.models.length) {
      this.message.show(() => t("explore.message.no_model"), { tone: "info" });
      return;
    }
    this.stop();
    this.retry.clear();
    const mine = new AbortController();
    this.stream = mine;
    // the run on screen stays until the new one starts (a refused request does not lose it)
    this.unmark();
    let started = false; // did this request get as far as its `start` event?
    setRunState("streaming");
    this.status.set(() => t("explore.status.starting"));
    for (const mark of ["gfl:run", "gfl:streamed", "gfl:rendered"]) performance.clearMarks(mark);
    performance.mark("gfl:run");
    this.startedAt = performance.now();
    try {
      await streamRun(requestBody("explore", values), {
        signal: mine.signal,
        onQueued: (position) => {
          if (mine !== this.stream) return;
          this.wait(position);
        },
        onEvent: (name, data) => {
          if (mine !== this.stream) return;
          if (name === "start") {
            started = true;
            this.wait(0);
            this.begin(data, paused);
            return;
          }
          this.events += 1;
          this.run.add(name, data);
          this.player.setAvailable(this.run.available);
        },
      });
      if (mine !== this.stream) return;
      this.finishedAt = performance.now();
      performance.mark("gfl:streamed");
      this.end("done");
      announce(this.run, true);
      if (fitted.length) this.showFitted(fitted);
    } catch (e) {
      if (e.name === "AbortError" || mine !== this.stream) return;
      this.end("error");
      const left = started ? null : this.fit(e, values);
      if (left) {
        this.start({ paused, drop: left.filter((name) => name !== "jacobian"), fitted: [...fitted, left.at(-1)] });
        return;
      }
      const seconds = started ? null : retryAfter(e);
      if (seconds != null) {
        this.retry.schedule(e, seconds, () => this.start({ paused }));
        return;
      }
      this.showError(e);
      const n = this.events;
      const kept = !!this.run;
      if (started) this.status.set(() => (n === 1 ? t("explore.status.stopped.one", { n }) : t("explore.status.stopped.many", { n })));
      else this.status.set(() => (kept ? t("explore.status.not_started.kept") : t("explore.status.not_started")));
      if (!(e instanceof ApiError)) console.error(e); // a bug of the page itself
    }
  }

  /** The request waits in the server's line at `position` (0: no longer). */
  wait(position) {
    this.queued = position;
    if (position) {
      root.dataset.queued = String(position);
      this.status.set(() => t("explore.status.queued", { position }));
    } else {
      delete root.dataset.queued;
    }
  }

  /** The `start` event: a new run on screen. */
  begin(data, paused) {
    this.run = new RunData(data);
    announce(this.run, false);
    this.events = 1;
    this.streamEnded = false;
    this.onChange();
    this.views.begin(this.run, this.controls.read());
    this.player.load(this.run.total, { playing: !paused });
    if (paused) this.player.step(1);
  }

  /** The stream has ended (`done` or an error): playback stops at the last frame received. */
  end(state) {
    this.wait(0);
    this.streamEnded = true;
    this.stream = null;
    setRunState(state);
    this.player.finish();
    this.onChange();
  }

  /** Abort the stream in flight, if any. */
  stop() {
    if (this.stream) this.stream.abort();
    this.stream = null;
    this.wait(0);
  }

  reset() {
    this.stop();
    this.retry.clear();
    this.run = null;
    this.player.clear();
    this.views.clear();
    this.player.kick();
    this.message.hide();
    this.onChange();
    setRunState("idle");
    this.unmark();
    this.status.set(() => t("explore.status.reset"));
  }

  /** The render loop has drawn the run complete, at its end. */
  drawn() {
    if (this.rendered || !this.run) return;
    this.rendered = true;
    performance.mark("gfl:rendered");
    root.dataset.rendered = "true";
  }

  unmark() {
    this.rendered = false;
    delete root.dataset.rendered;
  }

  /** The status line at playback position p, while streaming and once done: playing back,
   * paused, or at the end (`playing`: the clock moves). */
  frame(p, playing) {
    if (!this.run || this.queued) return; // the status line says where the new run waits
    const { available, total } = this.run;
    if (root.dataset.run === "streaming") {
      this.status.set(() => (available >= total ? t("explore.status.streaming.all")
        : t("explore.status.streaming", { n: available, total })));
    } else if (root.dataset.run === "done") {
      const v = { s: ((this.finishedAt - this.startedAt) / 1000).toFixed(2) };
      const key = p >= total ? "explore.status.done" : playing ? "explore.status.done.playing" : "explore.status.done.paused";
      this.status.set(() => t(key, v));
    }
  }

  /** After a 422 on `include` (the answer would be too large): the arrays to leave out next,
   * the newly dropped one last; null when nothing is left to drop (or another error). The
   * Jacobian norms go through their checkbox, so the URL says so. */
  fit(e, values) {
    if (!(e instanceof ApiError) || e.status !== 422 || !e.errors.some((x) => (x.loc || []).includes("include"))) {
      return null;
    }
    const next = FIT_ORDER.find((name) => (name === "jacobian" ? values.jacobian === "1" : !values.drop.includes(name)));
    if (!next) return null;
    if (next === "jacobian") {
      this.controls.set({ jacobian: "0" });
      this.controls.syncUrl();
    }
    return [...values.drop, next];
  }

  /** What was left out of the run on screen so that it fits, in words. */
  showFitted(fitted) {
    const what = () => fitted.map((name) => t(`explore.fit.${name}`)).join(t("explore.fit.join"));
    root.dataset.fitted = fitted.join(" ");
    this.message.show(() => t("explore.fit.note", { what: what() }), { tone: "info" });
  }

  /** An error in words, with the way out where there is one. */
  showError(e) {
    const actions = []; // (a refusal on `include` never comes here: fit() leaves arrays out instead)
    if (e instanceof ApiError && (e.status === 503 || e.kind === "broken" || e.kind === "network")) {
      actions.push({ label: () => t("explore.message.try_again"), onClick: () => this.start() });
    }
    // an ApiError writes its message in the current language each time it is read
    this.message.show(e instanceof ApiError ? () => e.message : () => t("explore.message.bug", { error: e.message }), { actions });
  }
}

function setRunState(state) {
  root.dataset.run = state;
}
