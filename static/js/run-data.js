// The run as received: every frame of the stream kept in memory, indexed by model, unit and t,
// so playback, Step and the scrubber can show any point of it; and its exports (JSON, CSV).
//
// A model is a stack of layers of one or two directions; one (layer, direction) is a unit
// (`units[i]`, in PyTorch's order l0, l0_reverse, l1, …; `layer` from 1). The stream sends a
// frame per unit and step: the forward pass layer by layer from the bottom, the backward pass
// from the top layer down (core/run.py). The views show one unit per model — the top layer's
// forward direction unless select() chose another — through `fwd[i]`, `bwd[i]` and
// `summaries[i]`, which point at that unit's arrays; the depth view reads every unit.
//
// The playback timeline has 2T steps: forward t = 1..T (positions 1..T), then backward
// t = T..1 (positions T+1..2T). Position p means "the first p steps are shown". A step can be
// shown once every unit of every model has its frames up to it in that order (`available`).
//
// Every array keeps the API's name (the catalogue's FIELDS): fwd[i].hidden, .cell_state,
// .gates (gate name → T arrays), .preactivation; bwd[i].grad_norm, .grads, .jacobian_norm,
// .cell_grad_norm — index t − 1, null until its frame has arrived (or where it was not finite).

import { FIELDS, modelLabel } from "./catalogue.js";

/** The fields of a stream event ("forward" / "backward") that a cell has. */
const stepFields = (event, cell) => FIELDS.filter((f) => f.event === event && (!f.cells || f.cells.includes(cell)));

/** The field that holds one array per gate ({name: H values} per step). */
const PER_GATE = "gates";

export const DIRECTIONS = ["forward", "backward"];

/** Arrays of T nulls for the step fields of `event`; the gates' (gate name → T arrays) are
 * made with the first frame that has them. */
function stepArrays(event, cell, T) {
  const out = {};
  for (const f of stepFields(event, cell)) out[f.name] = f.name === PER_GATE ? null : new Array(T).fill(null);
  return out;
}

/** (layer, direction) of every unit of a model, in PyTorch's order. */
export function unitKeys(m) {
  const out = [];
  for (let layer = 1; layer <= (m.num_layers ?? 1); layer++) {
    for (const direction of DIRECTIONS.slice(0, m.bidirectional ? 2 : 1)) out.push({ layer, direction });
  }
  return out;
}

export class RunData {
  /** @param start the data of the stream's `start` event */
  constructor(start) {
    this.config = start.config;
    this.inputs = start.inputs ?? null; // with include "params": the run's inputs and targets
    this.targets = start.targets ?? null;
    this.T = this.config.seq_len;
    this.H = this.config.hidden_size;
    const T = this.T;
    let uploaded = 0;
    this.models = start.models.map((m, i) => {
      const weights = this.config.models?.[i]?.weights ?? null;
      const model = {
        ...m, index: i, num_layers: m.num_layers ?? 1, bidirectional: !!m.bidirectional,
        hidden_size: m.hidden_size ?? this.H, weights, apiLabel: m.label,
        yours: weights ? uploaded++ : null, // its place among the run's uploaded networks (its colour)
      };
      // the label in the current language, naming the unit on screen (catalogue.js's modelLabel)
      Object.defineProperty(model, "label", { get: () => modelLabel(model, this.shownUnit(i)), enumerable: true });
      return model;
    });
    this.M = this.models.length;
    this.units = this.models.map((m) => unitKeys(m).map(({ layer, direction }) => ({
      layer, direction,
      fwd: stepArrays("forward", m.cell, T),
      bwd: stepArrays("backward", m.cell, T),
      series: null, // its entry of the summary's `layers`
      fwdSeen: new Uint8Array(T),
      bwdSeen: new Uint8Array(T),
      fwdReady: 0, // forward steps t = 1..fwdReady have arrived
      bwdReady: 0, // backward steps t = T..T − bwdReady + 1 have arrived
    })));
    this.summaryEvents = new Array(this.M).fill(null);
    this.summaries = new Array(this.M).fill(null);
    this.fwd = [];
    this.bwd = [];
    this.fwdCount = 0;
    this.bwdCount = 0;
    this.summaryCount = 0;
    this.done = false;
    this.select({ layer: "top", direction: "forward" });
  }

  /** The unit of model i at (layer, direction). */
  unit(i, layer, direction) {
    const m = this.models[i];
    return this.units[i][(m.bidirectional ? 2 : 1) * (layer - 1) + (direction === "backward" ? 1 : 0)];
  }

  /** The (layer, direction) of model i on screen: the chosen layer ("top" or a number, each
   * model's own top when it has fewer) and direction (forward for a one-way model). */
  shownUnit(i) {
    const m = this.models[i];
    const { layer, direction } = this.selection;
    const L = layer === "top" ? m.num_layers : Math.min(Number(layer), m.num_layers);
    const d = m.bidirectional ? direction : "forward";
    return { layer: L, direction: d, top: L === m.num_layers && d === "forward" };
  }

  /** Show `layer` ("top", or 1…) and `direction` ("forward" | "backward") of every model. */
  select({ layer, direction }) {
    this.selection = { layer: layer || "top", direction: direction || "forward" };
    this.models.forEach((m, i) => {
      const { layer: L, direction: d } = this.shownUnit(i);
      const u = this.unit(i, L, d);
      this.fwd[i] = u.fwd;
      this.bwd[i] = u.bwd;
      this.summaries[i] = this.summaryOf(i, u);
    });
  }

  /** The summary of model i as the views read it: the model's (loss, parameters), with unit
   * u's series (grad_norm, bound, …) and summary. */
  summaryOf(i, u) {
    const s = this.summaryEvents[i];
    if (!s || !u.series) return s;
    const { layer, direction, ...series } = u.series;
    return { ...s, ...series };
  }

  /** Whether some model has more than one unit (the layer chooser has a choice). */
  get stacked() {
    return this.models.some((m) => m.num_layers > 1 || m.bidirectional);
  }

  add(name, d) {
    if (name === "forward" || name === "backward") {
      const m = this.models[d.model];
      const u = this.unit(d.model, d.layer ?? 1, d.direction ?? "forward");
      const store = name === "forward" ? u.fwd : u.bwd;
      const k = d.t - 1;
      for (const f of stepFields(name, m.cell)) {
        const v = d[f.name];
        if (v === undefined) continue; // not asked for
        if (f.name === PER_GATE) {
          if (!v) continue;
          store[f.name] ??= {};
          for (const [g, gv] of Object.entries(v)) (store[f.name][g] ??= new Array(this.T).fill(null))[k] = gv;
        } else {
          store[f.name][k] = v;
        }
      }
      const T = this.T;
      if (name === "forward") {
        this.fwdCount += 1;
        u.fwdSeen[k] = 1;
        while (u.fwdReady < T && u.fwdSeen[u.fwdReady]) u.fwdReady += 1;
      } else {
        this.bwdCount += 1;
        u.bwdSeen[k] = 1;
        while (u.bwdReady < T && u.bwdSeen[T - 1 - u.bwdReady]) u.bwdReady += 1;
      }
    } else if (name === "summary") {
      const i = d.model;
      this.summaryEvents[i] = d;
      for (const series of d.layers || []) {
        const u = this.unit(i, series.layer, series.direction);
        if (u) u.series = series;
      }
      const { layer, direction } = this.shownUnit(i);
      this.summaries[i] = this.summaryOf(i, this.unit(i, layer, direction));
      this.summaryCount += 1;
    } else if (name === "done") {
      this.done = true;
    }
  }

  get total() {
    return 2 * this.T;
  }

  /** Steps that can be shown: every unit's frames of a step (in playback order) have arrived. */
  get available() {
    let f = this.T;
    let b = this.T;
    for (const units of this.units) {
      for (const u of units) {
        if (u.fwdReady < f) f = u.fwdReady;
        if (u.bwdReady < b) b = u.bwdReady;
      }
    }
    return f < this.T ? f : this.T + b;
  }

  get hasJacobian() {
    return this.config.include.includes("jacobian");
  }

  /** (phase, t) of position p: the last step shown. */
  where(p) {
    if (p <= 0) return { phase: "ready", t: 0 };
    if (p <= this.T) return { phase: "forward", t: p };
    if (p < this.total || !this.complete) return { phase: "backward", t: this.total - p + 1 };
    return { phase: "summary", t: 1 };
  }

  get complete() {
    return this.done && this.summaryCount === this.M;
  }

  /** The arrays of one unit as the API names them: each field of the catalogue that the
   * model's cell has and `include` asks for; `series` (the summary's) over the frames'. */
  fieldsOf(m, u, series, include) {
    const out = {};
    const streamed = { ...u.fwd, ...u.bwd };
    for (const f of FIELDS) {
      if (f.cells && !f.cells.includes(m.cell)) continue;
      if (f.include !== null && !include.has(f.include)) continue;
      const value = series?.[f.name] ?? streamed[f.name];
      if (value !== null && value !== undefined) out[f.name] = value;
    }
    return out;
  }

  /** The run in the shape of POST /api/runs (the fields this page asked for): the top-level
   * arrays are the top layer's forward direction's, `layers` every unit's; the summary's arrays
   * once it has arrived, else the frames' so far. */
  toJSON() {
    const include = new Set(this.config.include);
    const data = this.inputs ? { inputs: this.inputs, targets: this.targets } : {};
    return {
      config: this.config,
      ...data,
      models: this.models.map((m, i) => {
        const s = this.summaryEvents[i];
        const top = this.unit(i, m.num_layers, "forward");
        const out = {
          label: m.apiLabel, cell: m.cell, activation: m.activation, num_layers: m.num_layers,
          bidirectional: m.bidirectional, hidden_size: m.hidden_size, loss: s ? s.loss : null,
          ...this.fieldsOf(m, top, s, include),
        };
        if (s?.params) out.params = s.params;
        out.param_grad_norm = s ? s.param_grad_norm : null;
        out.summary = s ? s.summary : null;
        out.layers = this.units[i].map((u) => ({
          layer: u.layer, direction: u.direction, ...this.fieldsOf(m, u, u.series, include),
          summary: u.series ? u.series.summary : null,
        }));
        return out;
      }),
    };
  }

  /** One row per (model, layer, direction, t) with grad_norm, jacobian_norm, bound; then one
   * summary row per model. Empty cells are nulls (not finite) or not applicable. */
  toCSV() {
    const cols = ["row", "model", "label", "layer", "direction", "t", "grad_norm", "jacobian_norm", "bound", "loss",
      "log10_grad_ratio", "memory_horizon", "sigma_max", "overflow_step", "overflow_phase"];
    const cell = (v) => {
      if (v === null || v === undefined) return "";
      const s = String(v);
      return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const lines = [cols.join(",")];
    for (const m of this.models) {
      const s = this.summaryEvents[m.index];
      for (const u of this.units[m.index]) {
        const b = u.bwd;
        const series = u.series ?? (u.layer === m.num_layers && u.direction === "forward" ? s : null);
        for (let k = 0; k < this.T; k++) {
          lines.push([
            "step", m.index, m.apiLabel, u.layer, u.direction, k + 1, b.grad_norm[k],
            this.hasJacobian ? b.jacobian_norm[k] : null, series?.bound ? series.bound[k] : null,
            null, null, null, null, null, null,
          ].map(cell).join(","));
        }
      }
    }
    for (const m of this.models) {
      const s = this.summaryEvents[m.index];
      if (!s) continue;
      const u = s.summary;
      lines.push([
        "summary", m.index, m.apiLabel, null, null, null, null, null, null, s.loss, u.log10_grad_ratio,
        u.memory_horizon, u.sigma_max, u.overflow_step, u.overflow_phase,
      ].map(cell).join(","));
    }
    return lines.join("\n") + "\n";
  }
}
