// The Explore tab's controls: their values (state.js binds each to its URL key), kept in the URL
// as they change; the σ_max number, its slider and the slider's 1/γ marks (from the catalogue);
// the "Your network" panel (networks.js); the layer chooser over the charts; the server's limits
// in the fields' tooltips; the speed menu's and the flow chart's words in the current language.

import { MODELS } from "./catalogue.js";
import { nodes, t } from "./i18n.js";
import { NetworkPanel } from "./networks.js";
import { defaults, readControls, updateUrl, writeControls } from "./state.js";

const $ = (selector) => document.querySelector(selector);

export class ExploreControls {
  /**
   * @param form      the settings' <form> (the speed menu and the chart's view toggles are
   *                  outside it, bound here as well)
   * @param onRun     Run (the form's submit)
   * @param onSpeed   the playback speed changed: onSpeed(speed)
   * @param onMode    the flow chart's y (grad | jac) or x (t | back) changed: onMode(view, x)
   * @param onUnit    the layer chooser changed: onUnit({layer, direction})
   */
  constructor(form, { onRun, onSpeed, onMode, onUnit = () => {}, onBounds = () => {} }) {
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
    form.addEventListener("change", () => {
      this.syncSequence();
      this.syncUrl();
    });
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
    // the flow chart's dashed bounds, shown or hidden (outside the form, like the view toggles)
    this.onBounds = onBounds;
    $("#show_bounds").addEventListener("change", (e) => {
      onBounds(e.target.checked);
      this.syncUrl();
    });
    this.unit = { chooser: $("#unit-chooser"), layer: $("#layer"), direction: $("#direction") };
    for (const menu of [this.unit.layer, this.unit.direction]) {
      menu.addEventListener("change", () => {
        const { layer, direction } = this.read();
        onUnit({ layer, direction });
        this.syncUrl();
      });
    }
    this.networks = new NetworkPanel($("#network"), { onChange: () => {
      this.syncSequence();
      this.syncUrl();
    } });
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

  /** The values of a run: every key's, with `models` naming every model of the run (the
   * uploaded networks' ids after the catalogue's keys) and `files` what the URL cannot carry
   * (the arrays of the data files, the networks' descriptions; see state.js). */
  read() {
    const values = readControls("explore");
    return { ...values, models: [...values.models, ...values.weights], files: this.networks.files() };
  }

  /** Set every control to `values` (the defaults, a URL's state). Returns a promise of the
   * networks it names that the server no longer keeps. */
  write(values) {
    const gone = this.networks.prepare(values);
    writeControls("explore", values);
    this.networks.writeSwatches();
    const { on, range, number } = this.sigma;
    range.value = on.checked && Number.isFinite(Number(number.value)) ? number.value : "1";
    this.syncSigmaEnabled();
    this.syncSequence();
    this.onSpeed(values.speed);
    this.onBounds(values.bounds !== "0");
    this.writeFlowSubtitle(values.view);
    return gone;
  }

  /** Set the controls `changes` names, and nothing else. */
  set(changes) {
    writeControls("explore", changes);
  }

  syncUrl() {
    updateUrl(readControls("explore"));
  }

  /** The layer chooser for `run` (null: none): shown when a model has several layers or two
   * directions, with the layers and directions the run has. */
  showUnits(run) {
    const { chooser, layer, direction } = this.unit;
    chooser.hidden = !run?.stacked;
    if (!run) return;
    const depth = Math.max(...run.models.map((m) => m.num_layers));
    for (const option of layer.options) option.hidden = option.value !== "top" && Number(option.value) > depth;
    direction.disabled = !run.models.some((m) => m.bidirectional);
  }

  /** With a sequence from a file (input kind "values"), its length is T: shown, not typed. */
  syncSequence() {
    const { seq_len: seqLen, input } = this.form.elements;
    const sequence = this.networks.sequence;
    seqLen.disabled = input.value === "values";
    if (input.value === "values" && sequence) seqLen.value = String(sequence.T);
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
    if (limits.layers_max) f.num_layers.max = String(limits.layers_max);
    this.limits = limits;
    this.writeLimits();
  }

  writeLimits() {
    const f = this.form.elements;
    const { seq_len_max: seqMax, hidden_size_max: hiddenMax } = this.limits;
    if (seqMax) f.seq_len.title = t("explore.seq_len.title.max", { max: seqMax });
    if (hiddenMax) f.hidden_size.title = t("explore.hidden_size.title.max", { max: hiddenMax });
    if (this.limits.layers_max) f.num_layers.title = t("explore.num_layers.title.max", { max: this.limits.layers_max });
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

  /** The flow chart's sentence for its y (`view`) and the run on screen's loss (`lossAt`): with
   * a loss at every step no bound is drawn, and the ratio is no memory horizon. */
  writeFlowSubtitle(view) {
    const grad = this.lossAt === "all" ? "explore.flow.sub.grad.all" : "explore.flow.sub.grad";
    $("#flow-sub").replaceChildren(...nodes(view === "jac" ? "explore.flow.sub.jac" : grad));
  }

  /** The run on screen (null: none) changed: the words that depend on it. */
  showRun(run) {
    this.lossAt = run?.config.loss?.at ?? "last";
    this.writeFlowSubtitle(this.read().view);
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
    this.networks.relabel();
  }
}
