// The Explore tab's views as one group: begun on a run together, brought to a position together,
// cleared, themed and relabelled together. Each view knows only its own container; this group
// knows the theme they are drawn in and the "no run yet" notes around them.

import { t } from "./i18n.js";
import { readTheme } from "./theme.js";

export class ExploreViews {
  /**
   * @param views   {flow, depth, hidden, grads, gates, why} (the charts, flow first) and `summary`
   * @param cards   the summary cards' container (which holds a note while there is no run)
   */
  constructor({ summary, ...charts }, { cards }) {
    this.charts = charts;
    this.summary = summary;
    this.cards = cards;
    this.theme = readTheme();
  }

  get flow() {
    return this.charts.flow;
  }

  /** The Plotly panels of every chart but the flow chart (drawn first, on its own). */
  get otherPanels() {
    const { flow, ...others } = this.charts;
    return Object.values(others).flatMap((view) => view.panels);
  }

  /** Before the first run: only the "why" chart has something to show. */
  start() {
    this.charts.why.begin(null, this.theme);
  }

  /** A run on screen, showing the (layer, direction) the controls name (the top layer's forward
   * direction by default); again with the same run when the layer chooser changes. */
  begin(run, { view, x, layer, direction }) {
    run.select({ layer, direction });
    showEmpty(false);
    const { flow, ...others } = this.charts;
    flow.begin(run, this.theme, view, x);
    for (const chart of Object.values(others)) chart.begin(run, this.theme);
    this.summary.begin(run);
  }

  /** Bring every view to position p of the run. */
  sync(p) {
    for (const chart of Object.values(this.charts)) chart.sync(p);
    this.summary.sync(p);
  }

  setMode(view, x) {
    this.charts.flow.setMode(view, x);
  }

  /** No run: empty charts and their notes; the "why" chart shows what it shows without one. */
  clear() {
    const { why, ...others } = this.charts;
    for (const view of [...Object.values(others), this.summary]) view.clear();
    why.begin(null, this.theme);
    this.cards.replaceChildren(emptyCardsNote());
    showEmpty(true);
  }

  setTheme(theme) {
    this.theme = theme;
    for (const chart of Object.values(this.charts)) chart.setTheme(theme);
  }

  relabel() {
    for (const view of [...Object.values(this.charts), this.summary]) view.relabel();
  }
}

function showEmpty(empty) {
  for (const el of document.querySelectorAll("[data-empty]")) {
    if (el.id !== "gates-empty") el.hidden = !empty;
  }
}

/** The summary's note while there is no run. */
function emptyCardsNote() {
  const p = document.createElement("p");
  p.className = "chart-empty";
  p.dataset.empty = "";
  const span = document.createElement("span");
  span.dataset.i18n = "explore.summary.empty";
  span.textContent = t("explore.summary.empty");
  p.append(span);
  return p;
}
