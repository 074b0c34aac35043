// The explorer's transport: Pause / Resume / Replay, Step, Reset, the scrubber (what has been
// played and what has arrived) and the position line ("forward, t = 12 of 50").

import { t } from "./i18n.js";

const $ = (selector) => document.querySelector(selector);

export class Transport {
  /** `runs`: the RunController (the run on screen, a stream in flight); `player`: the clock. */
  constructor({ runs, player }) {
    this.runs = runs;
    this.ui = {
      run: $("#run"), pause: $("#pause"), step: $("#step"), reset: $("#reset"),
      scrubber: $("#scrubber"), scrubWrap: $(".scrubber-wrap"), position: $("#position"),
    };
    const { ui } = this;
    ui.pause.addEventListener("click", () => {
      if (runs.run) player.toggle();
    });
    ui.step.addEventListener("click", () => {
      if (!runs.run && !runs.busy) runs.start({ paused: true });
      else player.step(1);
    });
    ui.reset.addEventListener("click", () => runs.reset());
    ui.scrubber.addEventListener("input", () => player.seek(Number(ui.scrubber.value)));
    // The buttons keep the focus where it was when clicked with a pointer, so that Space and the
    // arrows go on controlling playback (a keyboard user still tabs to them as usual).
    for (const b of [ui.run, ui.pause, ui.step, ui.reset]) b.addEventListener("mousedown", (e) => e.preventDefault());
  }

  /** The transport at position p. */
  show(p, playing) {
    const { ui } = this;
    const { run } = this.runs;
    const total = run ? run.total : 0;
    const available = run ? run.available : 0;
    ui.scrubber.max = String(total);
    ui.scrubber.value = String(p);
    ui.scrubber.disabled = !run;
    ui.scrubWrap.style.setProperty("--buffered", total ? `${(100 * available) / total}%` : "0%");
    ui.scrubWrap.style.setProperty("--played", total ? `${(100 * p) / total}%` : "0%");
    ui.pause.disabled = !run;
    ui.reset.disabled = !run && !this.runs.busy;
    const ended = run && p >= total && (run.complete || this.runs.streamEnded);
    ui.pause.classList.toggle("is-paused", !!run && !playing);
    const label = !run || playing ? t("explore.pause") : ended ? t("explore.replay") : t("explore.resume");
    const pauseLabel = ui.pause.querySelector(".label");
    if (pauseLabel.textContent !== label) pauseLabel.textContent = label;
    ui.pause.setAttribute("aria-pressed", String(!playing && !!run));

    const where = run ? run.where(p) : { phase: "ready", t: 0 };
    const pos = ui.position;
    if (pos.dataset.p === String(p) && pos.dataset.phase === where.phase) return;
    pos.dataset.p = String(p);
    pos.dataset.phase = where.phase;
    pos.dataset.t = String(where.t);
    const v = { t: where.t, T: run?.T };
    pos.textContent = !run ? t("explore.position.ready")
      : where.phase === "forward" ? t("explore.position.forward", v)
        : where.phase === "backward" ? t("explore.position.backward", v)
          : where.phase === "summary" ? t("explore.position.done") : t("explore.position.start", v);
  }

  /** After a switch of language: the position line is written again on the next frame. */
  relabel() {
    this.ui.position.dataset.p = "";
  }
}
