// The run as received: every frame of the stream kept in memory, indexed by model and t, so
// playback, Step and the scrubber can show any point of it; and its exports (JSON, CSV).
//
// The playback timeline has 2T steps: forward t = 1..T (positions 1..T), then backward
// t = T..1 (positions T+1..2T). Position p means "the first p steps are shown".
//
// Every array keeps the API's name (the catalogue's FIELDS): fwd[i].hidden, .cell_state,
// .gates (gate name → T arrays), .preactivation; bwd[i].grad_norm, .grads, .jacobian_norm,
// .cell_grad_norm — index t − 1, null until its frame has arrived (or where it was not finite).

import { FIELDS } from "./catalogue.js";

/** The fields of a stream event ("forward" / "backward") that a cell has. */
const stepFields = (event, cell) => FIELDS.filter((f) => f.event === event && (!f.cells || f.cells.includes(cell)));

/** The field that holds one array per gate ({name: H values} per step). */
const PER_GATE = "gates";

/** Arrays of T nulls for the step fields of `event`; the gates' (gate name → T arrays) are
 * made with the first frame that has them. */
function stepArrays(event, cell, T) {
  const out = {};
  for (const f of stepFields(event, cell)) out[f.name] = f.name === PER_GATE ? null : new Array(T).fill(null);
  return out;
}

export class RunData {
  /** @param start the data of the stream's `start` event */
  constructor(start) {
    this.config = start.config;
    this.models = start.models.map((m, i) => ({ ...m, index: i }));
    this.M = this.models.length;
    this.T = this.config.seq_len;
    this.H = this.config.hidden_size;
    this.fwd = this.models.map((m) => stepArrays("forward", m.cell, this.T));
    this.bwd = this.models.map((m) => stepArrays("backward", m.cell, this.T));
    this.summaries = new Array(this.M).fill(null);
    this.fwdCount = 0;
    this.bwdCount = 0;
    this.summaryCount = 0;
    this.done = false;
  }

  add(name, d) {
    if (name === "forward" || name === "backward") {
      const m = this.models[d.model];
      const store = (name === "forward" ? this.fwd : this.bwd)[d.model];
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
      if (name === "forward") this.fwdCount += 1;
      else this.bwdCount += 1;
    } else if (name === "summary") {
      this.summaries[d.model] = d;
      this.summaryCount += 1;
    } else if (name === "done") {
      this.done = true;
    }
  }

  get total() {
    return 2 * this.T;
  }

  /** Steps that can be shown: all models' frames of a step have arrived. */
  get available() {
    const f = Math.floor(this.fwdCount / this.M);
    return f < this.T ? f : this.T + Math.floor(this.bwdCount / this.M);
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

  /** The run in the shape of POST /api/runs (the fields this page asked for): each field of
   * the catalogue that the model's cell has and `include` asks for, the summary's array once it
   * has arrived, else the frames' so far. */
  toJSON() {
    const include = new Set(this.config.include);
    return {
      config: this.config,
      models: this.models.map((m, i) => {
        const s = this.summaries[i];
        const streamed = { ...this.fwd[i], ...this.bwd[i] };
        const out = { label: m.label, cell: m.cell, activation: m.activation, loss: s ? s.loss : null };
        for (const f of FIELDS) {
          if (f.cells && !f.cells.includes(m.cell)) continue;
          if (f.include !== null && !include.has(f.include)) continue;
          const value = s?.[f.name] ?? streamed[f.name];
          if (value !== null && value !== undefined) out[f.name] = value;
        }
        out.param_grad_norm = s ? s.param_grad_norm : null;
        out.summary = s ? s.summary : null;
        return out;
      }),
    };
  }

  /** One row per (model, t) with grad_norm, jacobian_norm, bound; then one summary row per
   * model. Empty cells are nulls (not finite) or not applicable. */
  toCSV() {
    const cols = ["row", "model", "label", "t", "grad_norm", "jacobian_norm", "bound", "loss",
      "log10_grad_ratio", "memory_horizon", "sigma_max", "overflow_step", "overflow_phase"];
    const cell = (v) => {
      if (v === null || v === undefined) return "";
      const s = String(v);
      return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const lines = [cols.join(",")];
    for (const m of this.models) {
      const b = this.bwd[m.index];
      const s = this.summaries[m.index];
      for (let k = 0; k < this.T; k++) {
        lines.push([
          "step", m.index, m.label, k + 1, b.grad_norm[k], this.hasJacobian ? b.jacobian_norm[k] : null,
          s?.bound ? s.bound[k] : null, null, null, null, null, null, null,
        ].map(cell).join(","));
      }
    }
    for (const m of this.models) {
      const s = this.summaries[m.index];
      if (!s) continue;
      const u = s.summary;
      lines.push([
        "summary", m.index, m.label, null, null, null, null, s.loss, u.log10_grad_ratio,
        u.memory_horizon, u.sigma_max, u.overflow_step, u.overflow_phase,
      ].map(cell).join(","));
    }
    return lines.join("\n") + "\n";
  }
}
