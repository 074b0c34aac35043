// "Your network": the Explore tab's panel for a user's own network and data.
//
//   weights   a .safetensors or .npz file of a PyTorch state_dict, dropped or chosen, goes to
//             POST /api/weights; what the server found (cell, layers, directions, sizes, head,
//             parameters) is written in words and the network joins the models to compare as a
//             checkbox `input[name="weights"]` (state.js's `weights` key: its id in the URL), with
//             a nonlinearity menu for an RNN (PyTorch keeps it outside the file) and a button that
//             removes it. The API's refusals are shown in words next to the control.
//   sequence  a CSV or .npy file, rows = time steps ([T, D] or [T, B, D]), parsed here
//             (arrays.js): the input menu gains "your sequence" (input kind "values").
//   targets   a CSV or .npy file: values for the squared error, class indices for cross-entropy.
//
// The arrays never go into the URL: files() hands them to the request (state.js), and a link
// that names them says so (main.js). A link's networks are described again from the server
// (GET /api/weights/{id}); one it no longer keeps is said in words, with what to do.

import { depthLabel, networkName, networkOf, registerNetwork } from "./catalogue.js";
import { ArrayFileError, parseCsv, readArrayFile } from "./arrays.js";
import { t } from "./i18n.js";
import { WEIGHTS_VALUE } from "./state.js";
import { describeWeights, uploadWeights } from "./weights-client.js";

const $ = (selector) => document.querySelector(selector);

/** An error in words: a function of the current language. */
function say(e) {
  if (e instanceof ArrayFileError) return () => t(e.key, e.values);
  return () => e.message;
}

/** "LSTM · 2 layers · bidirectional · input 3 · hidden 8 · head: 2 outputs · 2,530 parameters",
 * and for a network the server trained, its training ("trained: adding problem, T = 30, 400 steps"). */
export function describe(info) {
  const parts = [info.cell === "rnn" ? "RNN" : info.cell.toUpperCase()];
  const depth = depthLabel(info);
  parts.push(depth || t("networks.one_layer"));
  parts.push(t("networks.sizes", { input: info.input_size, hidden: info.hidden_size }));
  parts.push(info.head ? t("networks.head", { n: info.head.output_size }) : t("networks.no_head"));
  parts.push(t("networks.parameters", { n: info.parameters.toLocaleString("en") }));
  const { trained } = info;
  if (trained) {
    parts.push(t("networks.trained.info", { task: t(`train.task.${trained.task}.option`), seq_len: trained.seq_len,
      steps: trained.steps.toLocaleString("en") }));
  }
  return parts.join(" · ");
}

export class NetworkPanel {
  /** @param root the panel's element; @param onChange () after what a run would use changed */
  constructor(root, { onChange }) {
    this.root = root;
    this.onChange = onChange;
    this.ui = {
      drop: $("#weights-drop"), file: $("#weights-file"), prefix: $("#weights-prefix"),
      headPrefix: $("#weights-head-prefix"), error: $("#weights-error"), list: $("#network-list"),
      sequenceFile: $("#sequence-file"), sequenceInfo: $("#sequence-info"), sequenceClear: $("#sequence-clear"),
      targetsFile: $("#targets-file"), targetsInfo: $("#targets-info"), targetsClear: $("#targets-clear"),
      targets: $("#targets"), dataError: $("#data-error"), input: $("#input"),
    };
    this.entries = new Map(); // id → {li, box, activation, info, state: "loading" | "ready" | "gone", error}
    this.sequence = null; // ArrayFile
    this.targets = null;
    this.errors = { weights: null, data: null }; // () => text
    this.busy = 0;

    const { ui } = this;
    ui.file.addEventListener("change", () => {
      for (const file of ui.file.files) this.upload(file);
      ui.file.value = "";
    });
    ui.drop.addEventListener("dragover", (e) => {
      e.preventDefault();
      ui.drop.classList.add("is-over");
    });
    ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("is-over"));
    ui.drop.addEventListener("drop", (e) => {
      e.preventDefault();
      ui.drop.classList.remove("is-over");
      for (const file of e.dataTransfer.files) this.upload(file);
    });
    ui.drop.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        ui.file.click();
      }
    });
    ui.sequenceFile.addEventListener("change", () => this.readData("sequence", ui.sequenceFile));
    ui.targetsFile.addEventListener("change", () => this.readData("targets", ui.targetsFile));
    // your own input values, pasted (the same CSV forms as a file: a row per step, a column per input)
    $("#sequence-paste-use").addEventListener("click", () => this.pasteSequence($("#sequence-paste-text").value));
    ui.sequenceClear.addEventListener("click", () => this.setSequence(null));
    ui.targetsClear.addEventListener("click", () => this.setTargets(null));
    ui.targets.addEventListener("change", () => this.onChange());
    this.writeData();
  }

  /** What a request needs and a URL cannot carry. */
  files() {
    const networks = new Map([...this.entries].map(([id, e]) => [id, e.info]));
    return { sequence: this.sequence, targets: this.targets, networks };
  }

  /** Make ready for `values` (a URL's, the defaults): an entry for each network it names,
   * described by the server (returned: a promise of the ids the server no longer has), and
   * the input menu's "your sequence" when it names one. */
  prepare(values) {
    this.ensureSequenceOption(values.input === "values");
    const ids = (values.weights || []).map((v) => v.match(WEIGHTS_VALUE));
    for (const [, id, activation] of ids.filter(Boolean)) {
      if (!this.entries.has(id)) this.addEntry(id, null, { activation });
      else if (activation) this.setActivation(id, activation);
    }
    return Promise.all(ids.filter(Boolean).map(([, id]) => this.describe(id))).then((gone) => gone.filter(Boolean));
  }

  /** GET /api/weights/{id} for an entry: its description, or "gone" (resolves to the id then). */
  async describe(id) {
    const entry = this.entries.get(id);
    if (!entry || entry.info) return null;
    try {
      const info = await describeWeights(id);
      if (!info) {
        entry.state = "gone";
        this.writeEntry(id);
        return id;
      }
      registerNetwork(id, { info });
      entry.info = info;
      entry.state = "ready";
    } catch (e) {
      entry.state = "error";
      entry.error = say(e);
    }
    this.writeEntry(id);
    return null;
  }

  /** POST a file; on success its entry is added (checked) or, for a file already here, checked. */
  async upload(file) {
    this.showError("weights", null);
    this.busy += 1;
    this.root.dataset.uploading = "true";
    this.ui.drop.classList.add("is-busy");
    try {
      const info = await uploadWeights(file, { prefix: this.ui.prefix.value, headPrefix: this.ui.headPrefix.value });
      registerNetwork(info.id, { info, name: file.name });
      if (!this.entries.has(info.id)) this.addEntry(info.id, info);
      const entry = this.entries.get(info.id);
      Object.assign(entry, { info, state: "ready", error: null });
      entry.box.checked = true;
      this.writeEntry(info.id);
      this.writeSwatches();
      this.onChange();
    } catch (e) {
      if (e.name === "AbortError") return;
      this.showError("weights", (() => {
        const text = say(e);
        return () => t("networks.error.file", { name: file.name, error: text() });
      })());
    } finally {
      this.busy -= 1;
      if (!this.busy) {
        delete this.root.dataset.uploading;
        this.ui.drop.classList.remove("is-busy");
      }
    }
  }

  addEntry(id, info, { activation = null } = {}) {
    const li = document.createElement("li");
    li.className = "network";
    li.dataset.id = id;
    const label = document.createElement("label");
    label.className = "check";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "weights";
    box.value = id;
    box.addEventListener("change", () => {
      this.writeSwatches();
      this.onChange();
    });
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    const name = document.createElement("span");
    name.className = "network-name";
    label.append(box, swatch, name);
    const menu = document.createElement("select");
    menu.className = "network-activation";
    for (const a of ["tanh", "relu"]) menu.append(new Option(a, a));
    menu.value = activation || "tanh";
    menu.addEventListener("change", () => {
      box.value = menu.value === "tanh" ? id : `${id}:${menu.value}`;
      this.onChange();
    });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "icon network-remove";
    remove.textContent = "×";
    remove.addEventListener("click", () => this.remove(id));
    const text = document.createElement("p");
    text.className = "network-info";
    li.append(label, menu, remove, text);
    this.ui.list.append(li);
    this.entries.set(id, { li, label, box, menu, remove, name, swatch, text, info, state: info ? "ready" : "loading", error: null });
    this.setActivation(id, activation || "tanh");
    if (info) registerNetwork(id, { info });
    this.writeEntry(id);
  }

  /** Each checked network's swatch in the colour a run gives it (its place among them). */
  writeSwatches() {
    let k = 0;
    for (const entry of this.entries.values()) {
      if (entry.box.checked) entry.swatch.dataset.yours = String(k++ % 3);
      else delete entry.swatch.dataset.yours;
    }
  }

  setActivation(id, activation) {
    const entry = this.entries.get(id);
    entry.menu.value = activation;
    entry.box.value = activation === "relu" ? `${id}:relu` : id;
  }

  remove(id) {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.li.remove();
    this.entries.delete(id);
    this.onChange();
  }

  /** An entry's words in the current language. */
  writeEntry(id) {
    const entry = this.entries.get(id);
    if (!entry) return;
    const { info, state } = entry;
    entry.li.dataset.state = state;
    entry.name.textContent = networkName(id);
    entry.label.title = t("networks.entry.title", { id });
    this.writeSwatches();
    entry.menu.hidden = !info || info.cell !== "rnn";
    entry.menu.setAttribute("aria-label", t("networks.activation.label", { name: networkName(id) }));
    entry.menu.title = t("networks.activation.title");
    entry.remove.setAttribute("aria-label", t("networks.remove.label", { name: networkName(id) }));
    entry.remove.title = t("networks.remove.title");
    let text;
    if (state === "gone") text = t("networks.gone", { id });
    else if (state === "error") text = entry.error();
    else if (!info) text = t("networks.loading");
    else text = describe(info);
    entry.text.textContent = text;
    entry.text.classList.toggle("is-error", state === "gone" || state === "error");
  }

  // ---------------------------------------------------------------- data

  async readData(kind, input) {
    const [file] = input.files;
    input.value = "";
    if (!file) return;
    this.showError("data", null);
    try {
      const array = await readArrayFile(file);
      if (kind === "sequence") this.setSequence(array);
      else this.setTargets(array);
    } catch (e) {
      if (!(e instanceof ArrayFileError)) console.error(e);
      this.showError("data", say(e));
    }
  }

  pasteSequence(text) {
    this.showError("data", null);
    try {
      this.setSequence(parseCsv(text, t("networks.pasted")));
    } catch (e) {
      if (!(e instanceof ArrayFileError)) console.error(e);
      this.showError("data", say(e));
    }
  }

  setSequence(array) {
    this.sequence = array;
    this.ensureSequenceOption(!!array);
    const { input } = this.ui;
    if (array) input.value = "values";
    else if (input.value === "values" || !input.value) input.value = "gaussian";
    this.writeData();
    this.onChange();
  }

  setTargets(array) {
    this.targets = array;
    this.ui.targets.value = array ? "file" : "drawn";
    this.writeData();
    this.onChange();
  }

  /** The input menu's "your sequence" (kind "values"), there while a sequence is loaded or a
   * link asks for one. */
  ensureSequenceOption(wanted) {
    const { input } = this.ui;
    let option = input.querySelector('option[value="values"]');
    if (wanted && !option) {
      option = new Option("", "values");
      input.append(option);
    } else if (!wanted && option && !this.sequence) {
      option.remove();
      option = null;
    }
    if (option) option.textContent = this.sequence ? t("networks.input.values", { name: this.sequence.name })
      : t("networks.input.values.missing");
  }

  writeData() {
    const { ui, sequence, targets } = this;
    const shape = (a) => a.shape.join(" × ");
    ui.sequenceInfo.textContent = sequence
      ? t(sequence.shape.length === 3 ? "networks.sequence.batched" : "networks.sequence.info",
        { name: sequence.name, shape: shape(sequence) })
      : t("networks.sequence.none");
    ui.sequenceClear.hidden = !sequence;
    ui.targetsInfo.textContent = targets
      ? t(targets.integer && targets.classes ? "networks.targets.classes" : "networks.targets.info",
        { name: targets.name, shape: shape(targets) })
      : t("networks.targets.none");
    ui.targetsClear.hidden = !targets;
    ui.targets.querySelector('option[value="file"]').disabled = !targets;
    this.ensureSequenceOption(ui.input.value === "values");
  }

  showError(which, text) {
    this.errors[which] = text;
    const el = which === "weights" ? this.ui.error : this.ui.dataError;
    el.hidden = !text;
    el.textContent = text ? text() : "";
  }

  /** Whether a network entry is checked or the run reads a file's arrays. */
  get inUse() {
    return [...this.entries.values()].some((e) => e.box.checked) || !!this.sequence || !!this.targets;
  }

  /** Everything this panel wrote, in the current language. */
  relabel() {
    for (const id of this.entries.keys()) this.writeEntry(id);
    this.writeData();
    for (const which of ["weights", "data"]) this.showError(which, this.errors[which]);
  }

  /** The networks of `values.weights` the server described: for the PyTorch export. */
  network(id) {
    return networkOf(id);
  }
}
