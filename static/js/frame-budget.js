// Drawing within an animation frame's budget. Every Plotly redraw costs tens of milliseconds
// however little changed, so each frame draws dirty panels in the given order until the
// budget is spent (at least one per frame), and a panel that took c ms waits SPACING·c ms
// before its next draw while data is still coming, so slow panels cannot starve the rest and
// the heavy redraws (a 64 × 1000 heatmap, a chart of thousands of points) stay few. Once the
// run is complete (`settle`), dirty panels are drawn without waiting: the last picture is not
// held back.

const SPACING = 2.5;

/** Draw dirty panels of `order`; onDrawn(panel) after each. Returns whether some were left. */
export function drawDirty(order, budgetMs, onDrawn = () => {}, { settle = false } = {}) {
  const start = performance.now();
  let drawn = 0;
  let left = false;
  for (const panel of order) {
    if (!panel.dirty) continue;
    const now = performance.now();
    if ((!settle && now < (panel.nextDrawAt || 0)) || (drawn > 0 && now - start > budgetMs)) {
      left = true;
      continue;
    }
    panel.draw();
    const done = performance.now();
    panel.nextDrawAt = done + SPACING * (done - now);
    drawn += 1;
    onDrawn(panel);
  }
  return left;
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
