// A tab's message box and status line. What they say is kept as a way to write it (a function
// that writes it in the current language), so that relabel() writes it again after a switch of
// language.

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
    this.el.querySelector(".message-actions")?.replaceChildren(...actions.map(({ label, onClick }) => {
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
