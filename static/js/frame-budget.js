// Drawing within an animation frame's budget. Every Plotly redraw costs tens of milliseconds
// however little changed, so each frame draws dirty panels in the given order until the
// budget is spent (at least one per frame), and a panel that took c ms waits 1.5·c ms before
// its next draw, so slow panels cannot starve the rest.

/** Draw dirty panels of `order`; onDrawn(panel) after each. Returns whether some were left. */
export function drawDirty(order, budgetMs, onDrawn = () => {}) {
  const start = performance.now();
  let drawn = 0;
  let left = false;
  for (const panel of order) {
    if (!panel.dirty) continue;
    const now = performance.now();
    if (now < (panel.nextDrawAt || 0) || (drawn > 0 && now - start > budgetMs)) {
      left = true;
      continue;
    }
    panel.draw();
    const done = performance.now();
    panel.nextDrawAt = done + 1.5 * (done - now);
    drawn += 1;
    onDrawn(panel);
  }
  return left;
}
