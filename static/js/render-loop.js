// The explorer's rendering. Each animation frame of the playback clock brings the views' data to
// the playback position (sync: plain JavaScript, cheap) and writes the transport; the Plotly
// redraws that this leaves to do run after the frame, in tasks of their own (draw passes, one
// heavy redraw each, queued one after the other while panels are due). A redraw and the
// browser's rendering of the frame around it were one task, the longest of the page; as two,
// each is shorter, and input and the stream's data get their turn between them.

import { drawDirty, due, queueTask } from "./frame-budget.js";

const PASS_BUDGET_MS = 12; // light panels share a pass (and a frame); a heavy one has its own
const root = document.documentElement;

export class RenderLoop {
  /**
   * @param views     the ExploreViews
   * @param player    the playback clock (kick() asks it for another frame)
   * @param current   () => the RunData on screen, or null
   * @param onFrame   (p, playing) after the views have come to position p: the transport
   * @param onDrawn   (run) after a pass that left a complete run fully drawn at its end
   */
  constructor({ views, player, current, onFrame, onDrawn }) {
    Object.assign(this, { views, player, current, onFrame, onDrawn });
    this.turn = 0; // round robin over the panels, so that every chart gets its turn under load
    this.shown = { p: 0, playing: false }; // the position of the last frame
    this.queued = false;
    this.pass = this.pass.bind(this);
  }

  /** The playback clock's frame: every view at position p, the transport, then a draw pass. */
  frame(p, { playing }) {
    this.shown = { p, playing };
    if (this.current()) this.views.sync(p);
    this.onFrame(p, playing);
    setSettled(false); // until the draw pass has drawn what this frame changed
    this.queuePass();
  }

  queuePass() {
    if (this.queued) return;
    this.queued = true;
    queueTask(this.pass);
  }

  /**
   * Draw dirty panels within the budget (at least one per pass, never two heavy ones): the
   * headline chart first, then the others in turn. A panel that took c ms to draw waits a
   * multiple of c before its next draw, so a slow machine gets fewer, larger updates instead of
   * long tasks — except at the end of a complete run (`settle`), when what is left is drawn
   * without waiting. Returns whether panels are left (`more`), and whether some of them could be
   * drawn at once (`now`: the budget left them, not their spacing).
   */
  drawPanels(settle) {
    const { flow, otherPanels: others } = this.views;
    const k = this.turn % (others.length || 1);
    const order = [flow, ...others.slice(k), ...others.slice(0, k)];
    const left = drawDirty(order, PASS_BUDGET_MS, (panel) => {
      if (panel !== flow) this.turn = (others.indexOf(panel) + 1) % others.length;
    }, { settle });
    return { more: left || order.some((panel) => panel.dirty), now: order.some((panel) => due(panel, { settle })) };
  }

  pass() {
    this.queued = false;
    const { p, playing } = this.shown;
    const run = this.current();
    const complete = !!run && run.complete && p >= run.total;
    const { more, now } = this.drawPanels(complete);
    setSettled(!more && !playing);
    if (complete && !more) this.onDrawn(run);
    if (now) this.queuePass(); // due panels left by the budget: the next pass, without waiting for a frame
    else if (more) this.player.kick(); // panels waiting their turn: tried again on the next frame
  }
}

/** <html data-settled="true">: every panel shows the position, and playback has stopped. */
function setSettled(settled) {
  if (root.dataset.settled !== String(settled)) root.dataset.settled = String(settled);
}
