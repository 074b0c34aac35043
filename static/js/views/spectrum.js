// W_hh's singular values against 1/γ: the recurrent matrix's whole spectrum, largest first, with
// the critical values 1/γ of each RNN's activation dotted (4 for sigmoid, 1 for tanh and relu).
// The bound (γσ_max)^(T−t) uses only the largest; the others say how many directions also grow
// (above 1/γ) or shrink. The singular values come from outside (show()); the view only draws.
//
// Traces' meta: {kind: "singular", model}, {kind: "critical", activation}.

import { MODELS } from "../catalogue.js";
import { Panel } from "../frame-budget.js";
import { t } from "../i18n.js";
import { baseLayout, config } from "../plot-style.js";
import { say, spectrumNote } from "../sentences.js";
import { Plotly, axis } from "./common.js";

export class SpectrumChart extends Panel {
  constructor(el, note) {
    super(el);
    this.note = note;
    this.spectra = null; // [{key, label, values}]
  }

  get panels() {
    return [this];
  }

  begin(run, theme) {
    this.theme = theme;
    this.spectra = null;
    this.clear();
    this.note.textContent = t("explore.spectrum.waiting");
  }

  /** The singular values of each RNN's W_hh: [{key, label, values}] (largest first). */
  show(spectra) {
    this.spectra = spectra;
    this.invalidate();
    this.draw();
    this.note.textContent = say(spectrumNote(spectra[0]?.values ?? null));
  }

  build() {
    if (!this.spectra?.length) return;
    const th = this.theme;
    const traces = this.spectra.map((s) => ({
      type: "scatter", mode: "lines+markers", x: s.values.map((_, k) => k + 1), y: s.values, name: s.label,
      line: { color: th.models[s.key], width: 1.5 }, marker: { size: 5 },
      hovertemplate: `${s.label}<br>σ<sub>%{x}</sub> = %{y:.4f}<extra></extra>`, meta: { kind: "singular", model: s.key },
    }));
    const n = Math.max(...this.spectra.map((s) => s.values.length));
    for (const [activation, key] of [["sigmoid", "rnn-sigmoid"], ["tanh", "rnn-tanh"]]) {
      const g = MODELS[key].gamma;
      traces.push({
        type: "scatter", mode: "lines", x: [1, n], y: [1 / g, 1 / g],
        name: t("explore.spectrum.critical", { activation, value: 1 / g }),
        line: { color: th.models[key], width: 1.2, dash: "dot" }, hoverinfo: "skip", meta: { kind: "critical", activation },
      });
    }
    Plotly.react(this.el, traces, baseLayout(th, {
      margin: { l: 64, r: 18, t: 10, b: 46 },
      xaxis: axis(th, { title: { text: t("explore.spectrum.axis_x") }, zeroline: false }),
      yaxis: axis(th, { type: "log", title: { text: t("explore.spectrum.axis_y") }, exponentformat: "power" }),
    }), config("singular-values"));
  }

  update() {
    this.build();
  }

  setTheme(theme) {
    this.theme = theme;
    if (this.spectra) this.invalidate();
  }

  relabel() {
    if (this.spectra) this.show(this.spectra);
  }
}
