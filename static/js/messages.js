// A tab's message box and status line, and the automatic retry of a busy server's answer that
// uses both. What they say is kept as a way to write it (a function that writes it in the
// current language), so that relabel() writes it again after a switch of language.

/** The message box (.message-text, and buttons in .message-actions where there are any). */
export class MessageBox {
  constructor(el) {
    this.el = el;
    this.shown = null; // {text: () => string, actions: [{label: () => string, onClick}], tone}
  }

  show(text, { actions = [], tone = "error" } = {}) {
    this.shown = { text, actions, tone };
    this.relabel();
  }

  hide() {
    this.shown = null;
    this.el.hidden = true;
  }

  relabel() {
    if (!this.shown) return;
    const { text, actions, tone } = this.shown;
    this.el.hidden = false;
    this.el.dataset.tone = tone;
    this.el.querySelector(".message-text").textContent = text();
    let box = this.el.querySelector(".message-actions");
    if (!box && actions.length) {
      box = document.createElement("div");
      box.className = "message-actions";
      this.el.append(box);
    }
    box?.replaceChildren(...actions.map(({ label, onClick }) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label();
      button.addEventListener("click", onClick);
      return button;
    }));
  }
}

/** The status line; with `html`, its texts may hold the page's own markup (<strong>, <kbd>). */
export class StatusLine {
  constructor(el, { html = false, write = null } = {}) {
    this.el = el;
    this.html = html;
    this.write = write;
    this.shown = null;
  }

  set(write) {
    this.write = write;
    this.relabel();
  }

  relabel() {
    if (!this.write) return;
    const text = this.write();
    if (text === this.shown) return;
    this.shown = text;
    if (!this.html) {
      this.el.textContent = text;
      return;
    }
    const tpl = document.createElement("template");
    tpl.innerHTML = text;
    this.el.replaceChildren(tpl.content);
  }
}

/**
 * A busy server's answer retried by itself: the message says why (as any error), the status
 * line counts down the seconds of its Retry-After, and the message offers to try again now or
 * to cancel. `flag` names the root element's data attribute that holds the seconds left while
 * a retry is pending (for styles and tests); `words` writes {countdown(seconds), cancelled(),
 * tryAgain(), cancel()} in the current language.
 */
export class AutoRetry {
  constructor({ message, status, flag, words }) {
    Object.assign(this, { message, status, flag, words });
    this.timer = 0;
  }

  /** Show `error`, then call `again()` in `seconds` — unless cancelled or cleared first. */
  schedule(error, seconds, again) {
    this.clear();
    const { message, status, words } = this;
    const due = performance.now() + 1000 * seconds;
    const now = () => {
      this.clear();
      again();
    };
    const tick = () => {
      const left = Math.ceil((due - performance.now()) / 1000);
      if (left <= 0) {
        now();
        return;
      }
      document.documentElement.dataset[this.flag] = String(left);
      status.set(() => words.countdown(left));
      this.timer = setTimeout(tick, due - performance.now() - 1000 * (left - 1));
    };
    message.show(() => error.message, {
      actions: [
        { label: words.tryAgain, onClick: now },
        { label: words.cancel, onClick: () => this.cancel(error, again) },
      ],
    });
    tick();
  }

  /** Stop the countdown: the error stays, with Try again. */
  cancel(error, again) {
    this.clear();
    this.message.show(() => error.message, { actions: [{ label: this.words.tryAgain, onClick: again }] });
    this.status.set(() => this.words.cancelled());
  }

  /** Forget a pending retry (a new request, or Reset, replaces it). */
  clear() {
    clearTimeout(this.timer);
    this.timer = 0;
    delete document.documentElement.dataset[this.flag];
  }
}
