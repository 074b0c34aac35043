// The Sweep tab's lines over the sweep's first dimension, one per combination of the others (a
// model, a second axis's value): the metric's median over the seeds (a success rate: their mean)
// with the seeds' 10–90 % band around it, filled as results arrive; on a training sweep's charts
// of the task's metric, loss or success rate, the task's chance level dashed (the sweep's
// baseline(metric)). A click on a point opens its typical run (the seed nearest the point's
// number).
//
// Traces' meta: {kind: "median", series}, {kind: "band", series}, {kind: "baseline"}. A median
// point's customdata is the index of its typical result in the sweep's results (−1: none yet).

import { fmt } from "../format.js";
import { t } from "../i18n.js";
import { baseLayout, config } from "../plot-style.js";
import { Plotly, SweepPanel, axis, hover, withAlpha } from "./common.js";

/** Metrics whose values span decades: a log axis. */
const LOG_METRICS = new Set(["loss", "final_loss"]);



export class SweepLines extends SweepPanel {
  /** A sweep on screen (a SweepData), `metric` the results' metric shown. */
  begin(data, theme, { metric }) {
    Object.assign(this, { data, theme, metric });
    this.invalidate();
  }

  build() {
    const { data, theme, metric } = this;
    const { dx, series } = data.lines(metric);
    const x = dx.axis;
    const index = new Map(data.results.map((r, k) => [r, k]));
    const name = t(`sweep.metric.${metric}`);
    const traces = [];
    series.forEach((s, k) => {
      // a line per model: its colour; lines of other settings: the palette's colours in turn (the
      // models' then the uploaded networks', each 3:1 on the chart in both themes)
      const others = [...Object.values(theme.models), ...theme.yours];
      const colour = s.model && series.every((o) => o.labels.length === 1) ? theme.models[s.model]
        : others[k % others.length];
      const label = s.labels.join(" · ") || name;
      const band = s.points.filter((p) => p.n > 1 && p.lo !== null);
      traces.push({
        type: "scatter", mode: "lines", x: [...band.map((p) => x.coords[dx.values.indexOf(p.x)]),
          ...band.map((p) => x.coords[dx.values.indexOf(p.x)]).reverse()],
        y: [...band.map((p) => p.hi), ...band.map((p) => p.lo).reverse()],
        fill: "toself", fillcolor: withAlpha(colour, theme.dark ? 0.22 : 0.16), line: { width: 0 },
        hoverinfo: "skip", showlegend: false, meta: { kind: "band", series: s.key },
      });
      const text = s.points.map((p) => {
        if (!p.n) return t("sweep.heat.hover.none");
        const value = p.value === null ? t("sweep.hover.not_finite") : fmt(p.value);
        const seeds = p.n === 1 ? t("sweep.hover.seeds.one", { n: p.n }) : t("sweep.hover.seeds.many", { n: p.n });
        const band10 = p.n > 1 && p.lo !== null ? `<br>${t("sweep.lines.hover.band", { lo: fmt(p.lo), hi: fmt(p.hi) })}` : "";
        const censored = p.censored ? `<br>${t("sweep.hover.censored", { n: p.censored })}` : "";
        return `${label}<br>${dx.short} = ${dx.labels[dx.values.indexOf(p.x)]}<br>${name} = ${value} (${seeds})${band10}${censored}`;
      });
      traces.push({
        type: "scatter", mode: "lines+markers", name: label, x: x.coords, y: s.points.map((p) => p.value),
        customdata: s.points.map((p) => (p.pick ? index.get(p.pick) : -1)), text,
        line: { color: colour, width: 2 }, marker: { size: 7, color: colour }, connectgaps: false,
        hovertemplate: hover("%{text}"), meta: { kind: "median", series: s.key },
      });
    });
    const baseline = data.baseline(metric);
    if (baseline) {
      const chance = baseline.chance !== undefined ? fmt(baseline.chance) : null;
      const at = baseline.values.map((v) => (v === null ? "" : fmt(v)));
      traces.push({
        type: "scatter", mode: "lines", x: x.coords, y: baseline.values, connectgaps: true,
        name: chance !== null ? t("sweep.lines.chance.success", { value: chance }) : t("sweep.lines.chance"),
        customdata: at, line: { color: theme.muted, width: 1.5, dash: "dash" },
        hovertemplate: hover(chance !== null ? t("sweep.lines.chance.success.hover", { value: chance })
          : t("sweep.lines.chance.hover", { value: "%{customdata}" })),
        meta: { kind: "baseline" },
      });
    }
    const yLog = LOG_METRICS.has(metric) || (metric === "final_metric" && data.taskMetric === "mse");
    const yRange = metric === "success_rate" ? { range: [-0.03, 1.03], tickformat: ".0%" } : { autorange: true };
    Plotly.react(this.el, traces, baseLayout(theme, {
      margin: { l: 64, r: 18, t: 10, b: 50 },
      xaxis: axis(theme, { ...x.layout, zeroline: false, automargin: true, title: { text: dx.label } }),
      yaxis: axis(theme, { type: yLog ? "log" : "linear", exponentformat: "power", ...yRange,
        title: { text: yLog ? t("sweep.lines.axis.log", { metric: name }) : name } }),
    }), config(`sweep-lines-${metric}`));
    if (!this.bound) {
      this.bound = true;
      this.el.on("plotly_click", (ev) => {
        const point = ev.points?.find((p) => p.data.meta?.kind === "median");
        const k = point?.customdata;
        if (typeof k === "number" && k >= 0 && this.data?.results[k]) this.onOpen(this.data.results[k]);
      });
    }
  }

  update() {
    this.build();
  }
}
