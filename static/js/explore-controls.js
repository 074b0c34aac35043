// The Explore tab's controls: their values (state.js binds each to its URL key), kept in the URL
// as they change; the σ_max number, its slider and the slider's 1/γ marks (from the catalogue);
// the server's limits in the fields' tooltips; the speed menu's and the flow chart's words in
// the current language.

import { MODELS } from "./catalogue.js";
import { nodes, t } from "./i18n.js";
import { defaults, readControls, updateUrl, writeControls } from "./state.js";

const $ = (selector) => document.querySelector(selector);

export class ExploreControls {
  /**
   * @param form      the settings' <form> (the speed menu and the chart's view toggles are
   *                  outside it, bound here as well)
   * @param onRun     Run (the form's submit)
   * @param onSpeed   the playback speed changed: onSpeed(speed)
   * @param onMode    the flow chart's y (grad | jac) or x (t | back) changed: onMode(view, x)
   */
  constructor(form, { onRun, onSpeed, onMode }) {
    this.form = form;
    this.onSpeed = onSpeed;
    this.sigma = { on: $("#sigma_on"), range: $("#sigma_max"), number: $("#sigma_value") };
    this.speed = $("#speed");
    this.limits = {}; // GET /api/meta's limits, named in two tooltips

    form.addEventListener("submit", (e) => {
      e.preventDefault();
      onRun();
    });
    form.addEventListener("input", (e) => {
      const { on, range, number } = this.sigma;
      if (e.target === range) number.value = range.value;
      if (e.target === number && Number.isFinite(Number(number.value))) range.value = number.value;
      if (e.target === on) this.syncSigmaEnabled();
      this.syncUrl();
    });
    form.addEventListener("change", () => this.syncUrl());
    this.speed.addEventListener("change", () => {
      onSpeed(this.speed.value);
      this.syncUrl();
    });
    for (const radio of document.querySelectorAll('input[name="view"], input[name="x"]')) {
      radio.addEventListener("change", () => {
        const { view, x } = this.read();
        this.writeFlowSubtitle(view);
        onMode(view, x);
        this.syncUrl();
      });
    }
    this.placeSigmaMarks();
    $("#seed-random").addEventListener("click", () => {
      form.elements.seed.value = String(crypto.getRandomValues(new Uint32Array(1))[0]);
      this.syncUrl();
    });
    $("#defaults").addEventListener("click", () => {
      this.write(defaults("explore"));
      this.syncUrl();
    });
  }

  read() {
    return readControls("explore");
  }

  /** Set every control to `values` (the defaults, a URL's state). */
  write(values) {
    writeControls("explore", values);
    const { on, range, number } = this.sigma;
    range.value = on.checked && Number.isFinite(Number(number.value)) ? number.value : "1";
    this.syncSigmaEnabled();
    this.onSpeed(values.speed);
    this.writeFlowSubtitle(values.view);
  }

  /** Set the controls `changes` names, and nothing else. */
  set(changes) {
    writeControls("explore", changes);
  }

  syncUrl() {
    updateUrl(this.read());
  }

  syncSigmaEnabled() {
    const { on, range, number } = this.sigma;
    range.disabled = !on.checked;
    number.disabled = !on.checked;
    range.closest(".sigma").classList.toggle("is-off", !on.checked);
    if (on.checked && !number.value) number.value = range.value;
  }

  /** GET /api/meta's limits: the fields' maxima, named in their tooltips. */
  setLimits(limits) {
    const f = this.form.elements;
    if (limits.seq_len_max) f.seq_len.max = String(limits.seq_len_max);
    if (limits.hidden_size_max) f.hidden_size.max = String(limits.hidden_size_max);
    this.limits = limits;
    this.writeLimits();
  }

  writeLimits() {
    const f = this.form.elements;
    const { seq_len_max: seqMax, hidden_size_max: hiddenMax } = this.limits;
    if (seqMax) f.seq_len.title = t("explore.seq_len.title.max", { max: seqMax });
    if (hiddenMax) f.hidden_size.title = t("explore.hidden_size.title.max", { max: hiddenMax });
  }

  /** The slider's marks at 1/γ of sigmoid and tanh (where their bound turns over). */
  placeSigmaMarks() {
    const { range } = this.sigma;
    const min = Number(range.min);
    const max = Number(range.max);
    const marks = [MODELS["rnn-sigmoid"], MODELS["rnn-tanh"]].filter((m) => m?.gamma > 0)
      .map((m) => ({ value: 1 / m.gamma, name: m.activation }));
    $("#sigma-mark-labels").replaceChildren(...marks.map(({ value, name }) => {
      const span = document.createElement("span");
      span.className = `mark c-${name}`;
      span.style.setProperty("--at", String((value - min) / (max - min)));
      span.textContent = `${Number(value.toPrecision(3))} · ${name}`;
      span.title = t("explore.sigma.mark.title", { name });
      return span;
    }));
    $("#sigma-marks").replaceChildren(...marks.map(({ value, name }) => {
      const option = document.createElement("option");
      option.value = String(value);
      option.label = `1/γ ${name}`;
      return option;
    }));
  }

  writeFlowSubtitle(view) {
    $("#flow-sub").replaceChildren(...nodes(view === "jac" ? "explore.flow.sub.jac" : "explore.flow.sub.grad"));
  }

  /** Everything these controls wrote, in the current language. */
  relabel() {
    for (const option of this.speed.options) {
      const n = Number(option.value);
      if (Number.isFinite(n)) option.textContent = n === 1 ? t("explore.speed.one", { n }) : t("explore.speed.many", { n });
    }
    this.writeLimits();
    this.placeSigmaMarks();
    this.writeFlowSubtitle(this.read().view);
  }
}
