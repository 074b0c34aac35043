// Playback clock: plays the frames received so far at a chosen speed (steps per second, or
// "max"), with pause, single steps and seeking. One requestAnimationFrame loop; each tick hands
// the integer position p (0..total) to `render(p, {playing})`. The loop runs while playback
// moves; a renderer with work left for a later frame asks for one with kick().
//
// At "max" the position still advances at most MAX_STEPS_PER_FRAME per frame: the views'
// sync work grows with the steps crossed (for a heatmap, H values a step), and one frame that
// crosses a whole sweep of a long run would be one long task.
//
// When the system asks for less motion (prefers-reduced-motion: reduce), playing does not
// animate: each frame jumps to the last step received, so a run shows its end state as soon as
// it has arrived (and step, seek and the scrubber move as always).

const MAX_STEPS_PER_FRAME = 200;
const lessMotion = window.matchMedia?.("(prefers-reduced-motion: reduce)");

export class Player {
  constructor(render) {
    this.render = render;
    this.total = 0; // 2T
    this.available = 0; // steps whose frames have all arrived
    this.target = 0; // fractional position the clock is heading to
    this.p = 0; // integer position shown
    this.playing = false;
    this.final = false; // no more frames will arrive (done, error or abort)
    this.speed = 250; // steps per second; Infinity = max
    this.raf = 0;
    this.last = 0;
    this.tick = this.tick.bind(this);
  }

  load(total, { playing }) {
    this.total = total;
    this.available = 0;
    this.target = 0;
    this.p = 0;
    this.playing = playing;
    this.final = false;
    this.last = performance.now();
    this.kick();
  }

  /** No more frames will arrive: playback stops at the last one instead of waiting. */
  finish() {
    this.final = true;
    this.kick();
  }

  clear() {
    this.total = 0;
    this.available = 0;
    this.target = 0;
    this.p = 0;
    this.playing = false;
    this.kick();
  }

  setAvailable(n) {
    if (n === this.available) return;
    this.available = n;
    this.kick();
  }

  setSpeed(speed) {
    this.speed = speed === "max" ? Infinity : Number(speed);
  }

  get ended() {
    return this.total > 0 && this.p >= this.total;
  }

  play() {
    if (this.ended) this.target = 0; // play again from the start
    this.playing = true;
    this.last = performance.now();
    this.kick();
  }

  pause() {
    this.playing = false;
    this.target = this.p;
    this.kick();
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  /** Exactly one time step forwards (+1) or backwards (−1); pauses playback. A step beyond the
   * frames received so far is kept and shown as soon as they arrive; a step forwards from the
   * end of a run starts it again at its first step. */
  step(delta = 1) {
    this.playing = false;
    if (delta > 0 && this.ended) {
      this.target = 0;
      this.p = 0;
    }
    const from = Math.max(Math.floor(this.target), this.p);
    this.target = Math.min(this.total, Math.max(0, (delta > 0 ? from : this.p) + delta));
    this.kick();
  }

  seek(position) {
    this.playing = false;
    this.target = Math.max(0, Math.min(this.available, Math.round(position)));
    this.kick();
  }

  kick() {
    if (!this.raf) this.raf = requestAnimationFrame(this.tick);
  }

  tick(now) {
    this.raf = 0;
    const dt = Math.min(250, Math.max(0, now - this.last)); // a hidden tab does not jump ahead
    this.last = now;
    if (this.playing) {
      const advance = lessMotion?.matches ? Infinity : this.speed === Infinity ? MAX_STEPS_PER_FRAME
        : Math.min(MAX_STEPS_PER_FRAME, (dt / 1000) * this.speed);
      this.target = Math.min(this.available, this.target + advance);
      if (this.target >= this.available && (this.available >= this.total || this.final)) this.playing = false;
    }
    this.p = Math.min(Math.floor(this.target), this.available);
    this.render(this.p, { playing: this.playing });
    if (this.playing && this.p < this.total) this.kick();
  }
}
