// Drawing within a time budget per task. Every Plotly redraw costs tens of milliseconds however
// little changed, so each pass draws dirty panels in the given order while the budget lasts (at
// least one per pass). A panel is expected to cost what its last draw cost (a panel never drawn
// counts as a whole budget): a pass that has drawn one panel does not start another that would
// overrun the budget, so one task never holds two heavy redraws — the page's longest task is
// its single heaviest redraw, not the sum of a few. While data is still coming, a panel that
// took c ms waits SPACING·c ms before its next draw, so slow panels cannot starve the rest and
// the heavy redraws (a 64 × 1000 heatmap, a chart of thousands of points) stay few. Once the
// run is complete (`settle`), dirty panels are drawn without waiting: the last picture is not
// held back. (The Train tab draws its passes in animation frames, the explorer after them.)

const SPACING = 2.5;

/** Whether a panel has something to draw that may be drawn now. */
export function due(panel, { settle = false } = {}) {
  return panel.dirty && (settle || performance.now() >= (panel.nextDrawAt || 0));
}

/** Draw dirty panels of `order`; onDrawn(panel) after each. Returns whether some were left. */
export function drawDirty(order, budgetMs, onDrawn = () => {}, { settle = false } = {}) {
  const start = performance.now();
  let drawn = 0;
  let left = false;
  for (const panel of order) {
    if (!panel.dirty) continue;
    const now = performance.now();
    const over = now - start + (panel.cost ?? budgetMs) > budgetMs;
    if (!due(panel, { settle }) || (drawn > 0 && over)) {
      left = true;
      continue;
    }
    panel.draw();
    const done = performance.now();
    panel.cost = done - now;
    panel.nextDrawAt = done + SPACING * panel.cost;
    drawn += 1;
    onDrawn(panel);
  }
  return left;
}

/** Run fn in a task of its own, queued behind what is waiting now (a frame's rendering among
 * them): a redraw there is not part of the frame that asked for it. */
export function queueTask(fn) {
  if (globalThis.scheduler?.postTask) globalThis.scheduler.postTask(fn);
  else setTimeout(fn, 0);
}

/**
 * A Plotly div that the scheduler draws: rebuilt (Plotly.react, via build()) on its first draw
 * and after invalidate() (a new run, a theme change), else updated in place (update()).
 */
export class Panel {
  constructor(el) {
    this.el = el;
    this.dirty = false;
    this.rebuild = true;
    this.cost = undefined; // ms of the last draw (frame budgets)
  }

  invalidate() {
    this.rebuild = true;
    this.dirty = true;
  }

  draw() {
    this.dirty = false;
    if (this.rebuild) {
      this.rebuild = false;
      this.build();
    } else {
      this.update();
    }
  }

  purge() {
    window.Plotly.purge(this.el);
  }

  /** Empty the div; the next draw rebuilds it. */
  clear() {
    this.purge();
    this.dirty = false;
    this.rebuild = true;
  }
}
