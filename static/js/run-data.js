// The run as received: every frame of the stream kept in memory, indexed by model and t, so
// playback, Step and the scrubber can show any point of it; and its exports (JSON, CSV).
//
// The playback timeline has 2T steps: forward t = 1..T (positions 1..T), then backward
// t = T..1 (positions T+1..2T). Position p means "the first p steps are shown".

export class RunData {
  /** @param start the data of the stream's `start` event */
  constructor(start) {
    this.config = start.config;
    this.models = start.models.map((m, i) => ({ ...m, index: i }));
    this.M = this.models.length;
    this.T = this.config.seq_len;
    this.H = this.config.hidden_size;
    const T = this.T;
    this.fwd = this.models.map((m) => ({
      hidden: new Array(T).fill(null),
      cell: m.cell === "lstm" ? new Array(T).fill(null) : null,
      gates: null, // name -> T arrays of H, created on the first frame
      pre: m.cell === "rnn" ? new Array(T).fill(null) : null,
    }));
    this.bwd = this.models.map((m) => ({
      gradNorm: new Array(T).fill(null),
      grads: new Array(T).fill(null),
      jac: new Array(T).fill(null),
      cellGradNorm: m.cell === "lstm" ? new Array(T).fill(null) : null, // ‖∂L/∂c_t‖
    }));
    this.summaries = new Array(this.M).fill(null);
    this.fwdCount = 0;
    this.bwdCount = 0;
    this.summaryCount = 0;
    this.done = false;
  }

  add(name, d) {
    if (name === "forward") {
      const f = this.fwd[d.model];
      const k = d.t - 1;
      f.hidden[k] = d.hidden ?? null;
      if (f.cell) f.cell[k] = d.cell_state ?? null;
      if (f.pre) f.pre[k] = d.preactivation ?? null;
      if (d.gates) {
        if (!f.gates) {
          f.gates = {};
          for (const g of Object.keys(d.gates)) f.gates[g] = new Array(this.T).fill(null);
        }
        for (const [g, v] of Object.entries(d.gates)) f.gates[g][k] = v;
      }
      this.fwdCount += 1;
    } else if (name === "backward") {
      const b = this.bwd[d.model];
      const k = d.t - 1;
      b.gradNorm[k] = d.grad_norm;
      b.grads[k] = d.grads ?? null;
      b.jac[k] = d.jacobian_norm ?? null;
      if (b.cellGradNorm && d.cell_grad_norm !== undefined) b.cellGradNorm[k] = d.cell_grad_norm;
      this.bwdCount += 1;
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

  /** The run in the shape of POST /api/runs (the fields this page asked for). */
  toJSON() {
    const include = new Set(this.config.include);
    return {
      config: this.config,
      models: this.models.map((m, i) => {
        const f = this.fwd[i];
        const b = this.bwd[i];
        const s = this.summaries[i];
        const out = { label: m.label, cell: m.cell, activation: m.activation };
        out.loss = s ? s.loss : null;
        out.grad_norm = s ? s.grad_norm : b.gradNorm;
        if (include.has("hidden")) out.hidden = f.hidden;
        if (include.has("cell_state") && f.cell) out.cell_state = f.cell;
        if (include.has("gates") && f.gates) out.gates = f.gates;
        if (include.has("preactivation") && f.pre) out.preactivation = f.pre;
        if (include.has("grads")) out.grads = b.grads;
        if (include.has("jacobian")) out.jacobian_norm = s?.jacobian_norm ?? b.jac;
        if (s?.bound) out.bound = s.bound;
        if (s?.zigzag) out.zigzag = s.zigzag;
        if (s?.cell_grad_norm || b.cellGradNorm) out.cell_grad_norm = s?.cell_grad_norm ?? b.cellGradNorm;
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
          "step", m.index, m.label, k + 1, b.gradNorm[k], this.hasJacobian ? b.jac[k] : null,
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
