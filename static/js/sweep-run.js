// The Sweep tab's sweep, from Start (or a URL's sweep=…) to done, cancelled or failed: the
// request sent (POST /api/sweeps) or the stored sweep fetched (GET /api/sweeps/{id}), then its
// events followed while it computes (GET /api/sweeps/{id}/events) into a SweepData and the views;
// Cancel (DELETE); the progress bar with points/s and ETA; the status line and the message. Only
// the last sweep shown counts: events still arriving for an earlier one are dropped.

import { drawDirty } from "./frame-budget.js";
import { fmt } from "./format.js";
import { t } from "./i18n.js";
import { AutoRetry } from "./messages.js";
import { cancelSweep, fetchSweep, submitSweep, sweepEvents } from "./sweep-client.js";
import { duration } from "./sweep-controls.js";
import { SweepData } from "./sweep-data.js";
import { pace } from "./sweep-plan.js";
import { updateUrl } from "./state.js";
import { retryAfter } from "./stream-client.js";
import { activeTab } from "./tabs.js";
import { readTheme } from "./theme.js";

const FRAME_BUDGET_MS = 12;
const FINISHED = new Set(["done", "cancelled", "failed"]);
const root = document.documentElement;
const $ = (selector) => document.querySelector(selector);

export class SweepRun {
  /**
   * @param views     {heat, lines}: the SweepHeatmap and the SweepLines
   * @param controls  the SweepControls (the plan, the metric)
   * @param message   the MessageBox, `status` the StatusLine
   * @param theory    theory(request) → the theory's lines for a sweep ([] where none applies)
   * @param tasks     tasks() → each task's held-out metric by name ("mse", "accuracy")
   * @param onShow    onShow(request): a stored sweep is about to be shown
   */
  constructor({ views, controls, message, status, theory, tasks, onShow = () => {} }) {
    Object.assign(this, { views, controls, message, status, theory, tasks, onShow });
    this.ui = {
      start: $("#sweep-start"), cancel: $("#sweep-cancel"), fill: $("#sweep-progress-fill"), bar: $("#sweep-progress"),
      progress: $("#sweep-progress-text"), heatEmpty: $("#sweep-heat-empty"), heatEmptyText: $("#sweep-heat-empty-text"),
      linesEmpty: $("#sweep-lines-empty"), heatSub: $("#sweep-heat-sub"),
    };
    this.theme = readTheme();
    this.data = null; // the SweepData on screen
    this.stream = null; // the AbortController of the events followed
    this.clock = null; // {at, done}: when the page began to follow the sweep, and how far it was
    this.frame = 0;
    this.tick = this.tick.bind(this);
    this.ui.cancel.addEventListener("click", () => this.cancel());
    // a busy server (503: its sweeps at their limit) is asked again after its Retry-After
    this.retry = new AutoRetry({ message, status, flag: "sweepRetry", words: {
      countdown: (seconds) => t("sweep.status.retry", { seconds }),
      cancelled: () => t("sweep.status.retry.cancelled"),
      tryAgain: () => t("explore.message.try_again"),
      cancel: () => t("explore.message.cancel"),
    } });
    this.setState("idle");
  }

  setState(state) {
    root.dataset.sweep = state;
    this.ui.start.disabled = state === "starting"; // one request at a time
    this.ui.cancel.disabled = state !== "running";
  }

  /** Start the sweep the controls describe (a known one is answered from the store), then
   * show it as a stored one. */
  async start() {
    this.message.hide();
    const plan = this.controls.plan();
    if (plan.problems.length) {
      this.message.show(() => plan.problems.map((p) => p()).join(" "), { tone: "info" });
      return;
    }
    this.detach();
    this.setState("starting");
    this.status.set(() => t("sweep.status.starting"));
    let info;
    try {
      info = await submitSweep(plan.request);
    } catch (e) {
      const seconds = retryAfter(e);
      if (seconds != null) {
        this.setState("idle");
        this.retry.schedule(e, seconds, () => this.start());
        return;
      }
      this.fail(e);
      return;
    }
    updateUrl({ sweep: info.id });
    await this.open(info.id);
  }

  /** Show a stored sweep (the URL's sweep=…, or one just submitted): what is finished at once
   * (GET /api/sweeps/{id}), then its events while it computes. */
  async open(id) {
    this.detach();
    const mine = new AbortController();
    this.stream = mine;
    this.setState("starting");
    this.status.set(() => t("sweep.status.opening"));
    let info;
    try {
      info = await fetchSweep(id, mine.signal);
    } catch (e) {
      if (mine !== this.stream || e.name === "AbortError") return;
      this.stream = null;
      if (e.status === 404) {
        this.setState("error");
        this.message.show(() => t("sweep.message.gone", { id }), { tone: "info" });
        this.status.set(() => t("sweep.status.ready"));
        updateUrl({ sweep: null });
        return;
      }
      this.fail(e);
      return;
    }
    if (mine !== this.stream) return;
    this.show(info);
    if (FINISHED.has(info.status)) {
      this.stream = null;
      this.finish();
      return;
    }
    await this.follow(mine);
  }

  /** A sweep on screen: its data (what GET answered), its views and its words. */
  show(info) {
    this.onShow(info.request);
    const { sweep_x: x, sweep_y: y } = this.controls.read();
    const data = new SweepData(info, info.request, [x, y], this.tasks());
    for (const r of info.results ?? []) data.add(r);
    for (const p of info.point_errors ?? []) data.addPoint(p);
    this.data = data;
    this.clock = { at: performance.now(), done: data.done };
    const metric = this.metric(data.kind);
    this.views.heat.begin(data, this.theme, { metric, theory: this.theory(data.request) });
    this.views.lines.begin(data, this.theme, { metric });
    this.writeNotes();
    this.kick();
  }

  /** The metric chosen, if it is one of the sweep's kind. */
  metric(kind) {
    const chosen = this.controls.ui.metric.value;
    return [...this.controls.ui.metric.options].some((o) => o.value === chosen) && this.controls.read().sweep_kind === kind
      ? chosen : (kind === "train" ? "success_rate" : "decay_rate");
  }

  /** Follow the sweep's events until it is done, cancelled or failed. */
  async follow(mine) {
    const { data } = this;
    this.setState("running");
    this.writeRunning();
    try {
      await sweepEvents(data.id, {
        signal: mine.signal,
        onEvent: (name, ev) => {
          if (mine !== this.stream) return;
          if (name === "result" && data.addPoint(ev)) {
            this.views.heat.changed();
            this.views.lines.changed();
          } else if (name !== "result") {
            data.update(ev);
          }
          this.kick();
        },
      });
      if (mine !== this.stream) return;
      this.stream = null;
      this.finish();
    } catch (e) {
      if (mine !== this.stream || e.name === "AbortError") return;
      this.stream = null;
      this.fail(e);
    }
  }

  /** The sweep has ended (done, cancelled or failed): the status line says how. */
  finish() {
    const { data } = this;
    const status = FINISHED.has(data.status) ? data.status : "done";
    this.setState(status);
    const words = { done: data.done, total: data.total, results: data.results.length };
    this.status.set(() => {
      const main = t(`sweep.status.${status}`, words);
      return data.failed.length ? `${main} ${this.failedText()}` : main;
    });
    this.kick();
  }

  /** "2 points could not be computed, the first: <its reason>" */
  failedText() {
    const { failed } = this.data;
    const reason = failed[0].error;
    return failed.length === 1 ? t("sweep.status.failed_points.one", { reason })
      : t("sweep.status.failed_points.many", { n: failed.length, reason });
  }

  fail(e) {
    this.setState("error");
    this.message.show(() => e.message);
    this.status.set(() => (this.data ? t("sweep.status.broken", { done: this.data.done, total: this.data.total })
      : t("sweep.status.not_started")));
    if (e.name !== "ApiError") console.error(e);
    this.kick();
  }

  writeRunning() {
    this.status.set(() => {
      const { data } = this;
      return t(data.kind === "train" ? "sweep.status.running.train" : "sweep.status.running.run",
        { total: data.total, id: data.id.replace(/^sha256:/, "").slice(0, 10) });
    });
  }

  /** Cancel: the server stops the unfinished points; its stream ends with the sweep cancelled. */
  async cancel() {
    if (!this.data || root.dataset.sweep !== "running") return;
    this.ui.cancel.disabled = true;
    this.status.set(() => t("sweep.status.cancelling"));
    try {
      await cancelSweep(this.data.id);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Stop following the sweep on screen (it goes on on the server). */
  detach() {
    this.retry.clear();
    this.stream?.abort();
    this.stream = null;
  }

  /** The metric chooser changed. */
  setMetric(metric) {
    if (!this.data) return;
    this.views.heat.setMetric(metric);
    this.views.lines.setMetric(metric);
    this.writeNotes();
    this.kick();
  }

  /** The heatmap's sentence and the charts' empty notes. */
  writeNotes() {
    const { data } = this;
    const heat = this.views.heat.drawable;
    this.ui.heatEmpty.hidden = !!data && heat;
    this.ui.heatEmptyText.textContent = data && !heat ? t("sweep.heat.one_axis") : t("sweep.heat.empty");
    this.ui.linesEmpty.hidden = !!data;
    const sub = this.views.heat.data && this.views.heat.theory.length ? "sweep.heat.sub.theory" : "sweep.heat.sub";
    // what the colours of a diverging metric mean
    const metric = this.views.heat.metric;
    const key = ["decay_rate", "log10_grad_ratio"].includes(metric) ? ` ${t(`sweep.heat.key.${metric}`)}` : "";
    this.ui.heatSub.textContent = t(sub) + (data ? key : "");
  }

  // ---------------------------------------------------------------- drawing (once per frame)

  panels() {
    return [this.views.heat, this.views.lines];
  }

  kick() {
    // unsettled from now on, not from the next frame: what waits for the charts waits for this change
    if (this.panels().some((p) => p.dirty)) root.dataset.sweepSettled = "false";
    if (!this.frame) this.frame = requestAnimationFrame(this.tick);
  }

  tick() {
    this.frame = 0;
    let more = false;
    if (activeTab() === "sweep") more = drawDirty(this.panels().filter((p) => p.data), FRAME_BUDGET_MS);
    this.updateProgress();
    const pending = this.panels().some((p) => p.dirty);
    const running = root.dataset.sweep === "running";
    root.dataset.sweepSettled = String(!pending && !running);
    root.dataset.sweepResults = String(this.data?.results.length ?? 0);
    if (more || running || (pending && activeTab() === "sweep")) this.kick();
  }

  updateProgress() {
    const { data, ui } = this;
    const done = data?.done ?? 0;
    const total = data?.total ?? 0;
    const percent = total ? Math.min(100, (100 * done) / total) : 0;
    ui.fill.style.width = `${percent}%`;
    ui.bar.setAttribute("aria-valuenow", String(Math.round(percent)));
    const state = root.dataset.sweep;
    let text = t("sweep.progress.ready");
    if (data) {
      // the server's pace (it knows when the sweep began computing), else the page's since it looked
      const seconds = (performance.now() - this.clock.at) / 1000;
      const { rate, eta } = data.pace ?? pace(done - this.clock.done, total - this.clock.done, seconds);
      const values = { done, total, percent: Math.floor(percent), rate: rate == null ? "—" : fmt(rate, 2) };
      if (state === "running") text = t("sweep.progress.running", { ...values, eta: eta == null ? "—" : duration(eta) });
      else if (state === "starting") text = t("sweep.progress.starting");
      else text = t("sweep.progress.finished", values);
    } else if (state === "starting") text = t("sweep.progress.starting");
    if (ui.progress.textContent !== text) ui.progress.textContent = text;
    ui.progress.dataset.done = String(done);
    ui.progress.dataset.total = String(total);
  }

  setTheme(theme) {
    this.theme = theme;
    this.views.heat.setTheme(theme);
    this.views.lines.setTheme(theme);
    this.kick();
  }

  /** The dimensions in the order of the controls' axes again (they have just been written). */
  reorder() {
    if (!this.data) return;
    const { sweep_x: x, sweep_y: y } = this.controls.read();
    this.data.order = [x, y];
    this.data.dims = this.data.dimensions();
    this.refresh();
  }

  /** The theory's lines and the baselines again (the presets and limits arrived after the sweep). */
  refresh() {
    if (!this.data) return;
    const { data } = this;
    const metric = this.views.heat.metric;
    this.views.heat.begin(data, this.theme, { metric, theory: this.theory(data.request) });
    this.views.lines.begin(data, this.theme, { metric });
    this.writeNotes();
    this.kick();
  }

  relabel() {
    if (this.data) this.data.dims = this.data.dimensions(); // the dimensions' names
    this.views.heat.relabel();
    this.views.lines.relabel();
    this.writeNotes();
    this.status.relabel();
    this.updateProgress();
    this.kick();
  }
}
