// Views: the page's charts and cards, one module each (flow.js, heatmap.js, gates.js, why.js,
// summary.js for the explorer; train-loss.js, train-flow.js, train-metric.js, train-cards.js for
// the Train tab), and what their charts share (this module).
//
// Every view has the same small face:
//
//   new View(container, …)   create it in its container(s) (elements the page hands it)
//   begin(run, theme, …)     take a new run (a RunData, or the Train tab's TrainData)
//   sync(p)                  bring its data to playback position p (plain JavaScript, cheap);
//                            the Train tab's views take their events instead (progress, eval)
//   panels                   its Plotly panels (frame-budget.js's Panel): the page calls
//                            panel.draw() on the dirty ones, within a time budget, to redraw
//   setTheme(theme)          the light/dark colours changed
//   relabel()                the language changed: write its words again
//   clear()                  dispose of the run: empty its container
//
// A view knows nothing of other views or of the URL; what it draws comes from the run, the
// catalogue (../catalogue.js) and the numbers of ../gradient-math.js. Every trace carries its
// identity in Plotly's `meta` ({kind, model}), which tests read through the public `gd.data`.
//
// A view is made of panels — one Plotly div each (the heatmaps have one per model row) — and
// has two halves: sync(p) brings its data to p, and each panel's draw() hands the change to
// Plotly: the first draw of a run creates the chart (Plotly.react), later ones append with
// Plotly.extendTraces (lines), redraw the columns filled so far (heatmaps, Plotly.react) or
// restyle what changed in place (histograms). The page calls draw() on dirty panels in tasks of
// their own with a time budget (render-loop.js, frame-budget.js), so frames are batched and no task
// grows long however fast frames arrive. Going back in time (the scrubber) rebuilds a panel up
// to p.
//
// Positions: p in 0..2T; the forward sweep shows t = 1..min(p, T), the backward sweep the
// b = max(0, p − T) steps t = T, T−1, …, T−b+1.
//
// Words (titles, legends, hover texts, notes) come from static/i18n/<lang>.json; relabel()
// writes them again in the current language: it rebuilds the panels from the data they hold
// (Plotly.react on the same divs), as a change of theme does, without touching the run.

import { fmt } from "../format.js";
import { Panel } from "../frame-budget.js";
import { axis as styledAxis } from "../plot-style.js";

export const Plotly = window.Plotly;

/** Plotly.react for a chart of a fixed height (`layout.height`), giving its div that height too.
 * The page's charts are responsive (plot-style.js's config): on a resize Plotly sizes a chart to
 * its div, and a div whose height came only from the chart inside was left 0 px high after a
 * redraw (a change of language or theme, then a resize: a phone turned) — every such chart
 * drawn over the next. */
export function react(el, data, layout, config) {
  if (layout.height) el.style.height = `${layout.height}px`;
  return Plotly.react(el, data, layout, config);
}

// Keep a padded log-axis autorange inside float64, so that its tick labels stay numbers.
export const LOG_CLIP = { clipmin: 1e-320, clipmax: 1e305 };

// Tick labels may overflow nothing here (the margins hold them). Plotly's default, "hide past
// div", measures every label once per label drawn — O(labels²) forced layouts on each redraw,
// the largest single cost of redrawing a chart during a run.
export const NO_OVERFLOW_CHECK = { ticklabeloverflow: "allow" };

/** An axis in the theme's colours, its tick labels unchecked for overflow. */
export const axis = (theme, extra) => styledAxis(theme, { ...NO_OVERFLOW_CHECK, ...extra });

/** Put `children` into `container`, touching the DOM only when they differ: re-inserting the
 * same chart restyles every node of its SVG, and the first frame of each run paid for that. */
export function place(container, children) {
  const now = container.children;
  if (now.length !== children.length || children.some((c, k) => now[k] !== c)) container.replaceChildren(...children);
}

export function seq(n, f) {
  const out = new Array(n);
  for (let k = 0; k < n; k++) out[k] = f(k);
  return out;
}

/** A Plotly hover template from a text (Plotly's %{…} fields passed in as its values). */
export const hover = (text) => `${text}<extra></extra>`;

/** A #rrggbb colour with alpha (other forms as they are): bands and pinned lines. */
export function withAlpha(colour, alpha) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour || "");
  return m ? `rgba(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)}, ${alpha})` : colour;
}

/** The Sweep tab's views' face: a sweep's results (`data`, a SweepData) shown in one metric,
 * redrawn whole when the metric, the theme or the language changes, updated as results arrive.
 * `onOpen(result)`: a click on a cell or point with results. */
export class SweepPanel extends Panel {
  constructor(el, { onOpen }) {
    super(el);
    this.onOpen = onOpen;
    this.bound = false;
    this.data = null;
  }

  setMetric(metric) {
    this.metric = metric;
    if (this.data) this.invalidate();
  }

  /** Results arrived. */
  changed() {
    if (this.data) this.dirty = true;
  }

  setTheme(theme) {
    this.theme = theme;
    if (this.data) this.invalidate();
  }

  relabel() {
    if (this.data) this.invalidate();
  }

  clear() {
    super.clear();
    this.data = null;
  }
}

/** Points waiting to be appended: trace index → {x, y}, and customdata when the points carry
 * one; for the traces `marked`, whose markers differ point by point, text, marker colour and
 * symbol too. The other traces keep those arrays empty: Plotly validates per-point arrays on
 * every redraw, so lines that never show markers must not carry them. */
export class Pending {
  constructor(marked = []) {
    this.marked = new Set(marked);
    this.map = new Map();
  }

  push(trace, x, y, c, mark) {
    if (trace === undefined) return;
    let d = this.map.get(trace);
    if (!d) {
      d = { x: [], y: [], customdata: [], text: [], color: [], symbol: [] };
      this.map.set(trace, d);
    }
    d.x.push(x);
    d.y.push(y);
    if (c !== undefined) d.customdata.push(c);
    if (this.marked.has(trace)) {
      d.text.push(mark?.text ?? "");
      d.color.push(mark?.color ?? "transparent");
      d.symbol.push(mark?.symbol ?? "circle");
    }
  }

  get size() {
    return this.map.size;
  }

  /** Copy into traces (a rebuild). */
  into(traces) {
    for (const [k, d] of this.map) {
      Object.assign(traces[k], { x: d.x, y: d.y, customdata: d.customdata });
      if (this.marked.has(k)) {
        traces[k].text = d.text;
        traces[k].marker = { ...traces[k].marker, color: d.color, symbol: d.symbol };
      }
    }
  }

  /** Append to a live chart with one extendTraces call (one redraw). */
  extend(el) {
    if (!this.map.size) return;
    const keys = [...this.map.keys()];
    const d = keys.map((k) => this.map.get(k));
    const update = { x: d.map((v) => v.x), y: d.map((v) => v.y) };
    if (d.some((v) => v.customdata.length)) update.customdata = d.map((v) => v.customdata);
    if (keys.some((k) => this.marked.has(k))) {
      // extendTraces appends the same attributes to every trace it touches: empty for the lines
      update.text = d.map((v) => v.text);
      update["marker.color"] = d.map((v) => v.color);
      update["marker.symbol"] = d.map((v) => v.symbol);
    }
    Plotly.extendTraces(el, update, keys);
    this.map.clear();
  }

  /** Forget what is waiting (the next draw rebuilds from the view's own data). */
  drop() {
    this.map.clear();
  }
}

/** A finite number, else null (a gap in a line). */
export const finiteOrNull = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** Put `texts` ({traces: [{name, hovertemplate}], axes: {xaxis: title, …}}) on a drawn plot
 * without touching its data. */
export function relabelPlot(el, { traces = [], axes = {} }) {
  if (!el.data) return;
  const update = {};
  for (const field of ["name", "hovertemplate"]) {
    if (traces.some((tr) => field in tr)) update[field] = traces.map((tr) => tr[field]);
  }
  if (traces.length) Plotly.restyle(el, update, traces.map((_, i) => i));
  const layout = Object.fromEntries(Object.entries(axes).map(([name, text]) => [`${name}.title.text`, text]));
  if (Object.keys(layout).length) Plotly.relayout(el, layout);
}

// ------------------------------------------------------------------ the charts' numbers as a table
// A screen reader cannot read a Plotly chart; the page's "Show as table" toggle (../a11y.js) shows
// its plotted numbers instead, read here from the chart's public figure (gd.data, gd.layout), so
// the table is what was drawn, whatever view drew it.

const plain = (html) => {
  const tpl = document.createElement("template");
  tpl.innerHTML = String(html ?? "");
  return tpl.content.textContent.trim();
};

const cell = (v) => (typeof v === "number" ? fmt(v, 4) : v === null || v === undefined ? "—" : plain(v));

/** A trace that shows something (not hidden, not a legend-only entry) and has points. */
const shown = (d) => d.visible !== false && d.visible !== "legendonly";

/** The plotted numbers of a chart as {head: [column names], rows: [[cells]]}: for a heatmap, a
 * row per x (time or step) and a column per y (unit); for lines, bars and markers, a row per x
 * value and a column per trace. Non-finite values read "not finite", gaps "—". */
export function plottedTable(gd) {
  const data = (gd.data || []).filter(shown);
  const xTitle = plain(gd.layout?.xaxis?.title?.text) || "x";
  const heat = data.find((d) => d.type === "heatmap" && Array.isArray(d.z) && d.z.length);
  if (heat) {
    const ys = heat.y ? Array.from(heat.y) : heat.z.map((_, u) => u + 1);
    const cols = heat.z[0].length;
    const xs = heat.x ? Array.from(heat.x) : seq(cols, (k) => k + 1);
    const yTitle = plain(gd.layout?.yaxis?.title?.text);
    const head = [xTitle, ...ys.map((y) => (yTitle ? `${yTitle} ${cell(y)}` : cell(y)))];
    return { head, rows: seq(cols, (k) => [cell(xs[k]), ...heat.z.map((row) => cell(row[k]))]) };
  }
  const lines = data.filter((d) => d.x && d.y && d.x.length && typeof d.y !== "string");
  const index = new Map(); // x → {x, row}
  lines.forEach((d, j) => {
    for (let k = 0; k < d.x.length; k++) {
      const key = String(d.x[k]);
      if (!index.has(key)) index.set(key, { x: d.x[k], row: [cell(d.x[k]), ...lines.map(() => "")] });
      index.get(key).row[j + 1] = cell(d.y[k]);
    }
  });
  const entries = [...index.values()];
  // in the order of x when x is a number (a backward sweep draws t = T first)
  if (entries.every((e) => typeof e.x === "number")) entries.sort((a, b) => a.x - b.x);
  return { head: [xTitle, ...lines.map((d, j) => plain(d.name) || String(j + 1))], rows: entries.map((e) => e.row) };
}

/** A <table> of plottedTable(gd), with its caption. */
export function tableElement({ head, rows }, caption) {
  const table = document.createElement("table");
  table.className = "plotted";
  const cap = document.createElement("caption");
  cap.textContent = caption;
  const thead = document.createElement("thead");
  const tr = document.createElement("tr");
  for (const name of head) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = name;
    tr.append(th);
  }
  thead.append(tr);
  const tbody = document.createElement("tbody");
  for (const row of rows) {
    const r = document.createElement("tr");
    row.forEach((v, k) => {
      const c = document.createElement(k === 0 ? "th" : "td");
      if (k === 0) c.scope = "row";
      c.textContent = v;
      r.append(c);
    });
    tbody.append(r);
  }
  table.append(cap, thead, tbody);
  return table;
}
