// Lessons: one-click presets, each a URL state (so a teacher can share any of them, or any state
// at all, by its link) with a short text of what to look at. The Lessons dialog lists them; the
// banner under the top bar shows the open lesson (URL key `lesson`), its variants ("now try
// forget bias 3"), the previous / next lesson and "Copy link".

import { language, onLanguage, t } from "./i18n.js";
import { defaults, parseUrl, toSearch, updateUrl } from "./state.js";

const $ = (selector) => document.querySelector(selector);

/** An explorer state: its defaults with `changes`. */
const explore = (changes) => ({ ...defaults("explore"), ...changes });

/** A Train-tab state: the tab, and its defaults with `changes`. */
const train = (changes) => ({ tab: "train", ...defaults("train"), ...changes });

/** Each lesson: its states (the first is the lesson's own; the others are its "now try"
 * variants) and the part of the page to look at. Texts: lessons.<id>.title / .text / .look. */
export const LESSONS = [
  { id: "sigmoid-tanh", look: "#chart-flow",
    states: [{ key: "main", values: explore({ models: ["rnn-sigmoid", "rnn-tanh"], sigma_max: "1" }) }] },
  { id: "crossing", look: "#explain-bound",
    states: [
      { key: "main", values: explore({ models: ["rnn-sigmoid", "rnn-tanh"], seq_len: "100", input: "impulse",
        init: "orthogonal", sigma_max: "1.5" }) },
      { key: "below", values: explore({ models: ["rnn-sigmoid", "rnn-tanh"], seq_len: "100", input: "impulse",
        init: "orthogonal", sigma_max: "0.9" }) },
    ] },
  { id: "impulse", look: "#chart-flow",
    states: [{ key: "main", values: explore({ models: ["rnn-sigmoid", "rnn-tanh", "lstm", "gru"], seq_len: "100",
      input: "impulse" }) }] },
  { id: "forget-bias", look: "#explain-highway",
    states: [
      { key: "main", values: explore({ models: ["rnn-tanh", "lstm"], seq_len: "100", input: "impulse", forget_bias: "0" }) },
      { key: "bias3", values: explore({ models: ["rnn-tanh", "lstm"], seq_len: "100", input: "impulse", forget_bias: "3" }) },
    ] },
  { id: "zigzag", look: "#explain-zigzag",
    states: [{ key: "main", values: explore({ models: ["rnn-sigmoid", "rnn-tanh"], seq_len: "30" }) }] },
  { id: "irnn", look: "#chart-flow",
    states: [
      { key: "main", values: explore({ models: ["rnn-relu", "rnn-tanh"], seq_len: "100", init: "identity" }) },
      { key: "xavier", values: explore({ models: ["rnn-relu", "rnn-tanh"], seq_len: "100", init: "xavier" }) },
    ] },
  { id: "clipping", look: "#panel-train",
    states: [
      { key: "main", values: train({ train_models: ["rnn-tanh", "lstm"], train_steps: "600", train_clip: "1" }) },
      { key: "off", values: train({ train_models: ["rnn-tanh", "lstm"], train_steps: "600", train_clip: "none" }) },
    ] },
];

/** The page's URL of a lesson state, in the current language. */
export function lessonUrl(lesson, stateKey = "main") {
  const state = lesson.states.find((s) => s.key === stateKey) || lesson.states[0];
  const variant = state.key === "main" ? null : state.key;
  return `${location.pathname}?${toSearch({ ...state.values, lesson: lesson.id, variant, lang: language() })}`;
}

/** Copy `text` to the clipboard; where that is refused, show it selected in `fallback`. */
async function copyLink(text, status, fallback) {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = t("lessons.copied");
    fallback.hidden = true;
  } catch {
    fallback.hidden = false;
    fallback.value = text;
    fallback.select();
    status.textContent = t("lessons.copy_manual");
  }
}

function lessonText(key, values) {
  const span = document.createElement("span");
  span.innerHTML = t(key, values); // our own texts (static/i18n), with <strong>, <em>, <sub>
  return span;
}

class Lessons {
  constructor() {
    this.dialog = $("#lessons");
    this.list = $("#lesson-list");
    this.banner = $("#lesson-banner");
    const { values } = parseUrl(location.search);
    this.current = LESSONS.find((l) => l.id === values.lesson) || null;
    this.variant = values.variant || "main";
    $("#lessons-open").addEventListener("click", () => {
      this.renderList();
      this.dialog.showModal();
    });
    onLanguage(() => {
      this.renderList();
      this.renderBanner();
    });
    this.renderList();
    this.renderBanner();
  }

  renderList() {
    this.list.replaceChildren(...LESSONS.map((lesson, k) => {
      const li = document.createElement("li");
      li.className = "lesson-item";
      li.dataset.lesson = lesson.id;
      const link = Object.assign(document.createElement("a"), { href: lessonUrl(lesson), className: "lesson-link" });
      const title = Object.assign(document.createElement("strong"), { textContent: `${k + 1}. ` });
      title.append(lessonText(`lessons.${lesson.id}.title`));
      link.append(title);
      const summary = Object.assign(document.createElement("span"), { className: "lesson-summary" });
      summary.append(lessonText(`lessons.${lesson.id}.summary`));
      link.append(summary);
      li.append(link);
      return li;
    }));
  }

  renderBanner() {
    const lesson = this.current;
    if (!lesson) {
      this.banner.hidden = true;
      return;
    }
    const k = LESSONS.indexOf(lesson);
    const el = (tag, props = {}) => Object.assign(document.createElement(tag), props);
    const head = el("div", { className: "lesson-head" });
    head.append(el("span", { className: "lesson-count", textContent: t("lessons.count", { n: k + 1, total: LESSONS.length }) }),
      el("h2", { className: "lesson-title", id: "lesson-title" }));
    head.lastChild.append(lessonText(`lessons.${lesson.id}.title`));
    const body = el("div", { className: "lesson-body" });
    const text = el("p", { className: "lesson-text" });
    text.append(lessonText(`lessons.${lesson.id}.text`));
    const look = el("p", { className: "lesson-look" });
    look.append(el("strong", { textContent: t("lessons.look") + " " }), lessonText(`lessons.${lesson.id}.look`));
    body.append(text, look);
    if (this.variant !== "main") {
      const note = el("p", { className: "lesson-variant" });
      note.append(lessonText(`lessons.${lesson.id}.variant.${this.variant}.note`));
      body.append(note);
    }

    const actions = el("div", { className: "lesson-actions" });
    for (const state of lesson.states) {
      if (state.key === this.variant) continue;
      const link = el("a", { className: "button ghost", href: lessonUrl(lesson, state.key) });
      link.append(lessonText(`lessons.${lesson.id}.variant.${state.key}`));
      actions.append(link);
    }
    const target = document.querySelector(lesson.look);
    if (target) {
      const show = el("button", { type: "button", className: "ghost", textContent: t("lessons.show") });
      show.addEventListener("click", () => target.scrollIntoView({ behavior: "smooth", block: "start" }));
      actions.append(show);
    }
    const status = el("span", { className: "lesson-status", role: "status" });
    const fallback = el("input", { type: "text", readOnly: true, className: "lesson-url", hidden: true });
    fallback.setAttribute("aria-label", t("lessons.link"));
    const copy = el("button", { type: "button", className: "ghost", id: "lesson-copy", textContent: t("lessons.copy") });
    copy.title = t("lessons.copy.title");
    copy.addEventListener("click", () => copyLink(location.href, status, fallback));
    actions.append(copy);
    const nav = el("span", { className: "lesson-nav" });
    if (k > 0) nav.append(el("a", { className: "button ghost", href: lessonUrl(LESSONS[k - 1]), textContent: t("lessons.prev") }));
    if (k < LESSONS.length - 1) nav.append(el("a", { className: "button ghost", href: lessonUrl(LESSONS[k + 1]), textContent: t("lessons.next") }));
    const close = el("button", { type: "button", className: "ghost lesson-close", textContent: "×" });
    close.title = t("lessons.close_banner");
    close.setAttribute("aria-label", t("lessons.close_banner"));
    close.addEventListener("click", () => this.closeBanner());
    actions.append(nav, status, fallback);
    this.banner.replaceChildren(close, head, body, actions);
    this.banner.setAttribute("aria-labelledby", "lesson-title");
    this.banner.hidden = false;
  }

  /** Leave the lesson: its banner goes, and `lesson` / `variant` leave the URL (the state stays). */
  closeBanner() {
    this.current = null;
    updateUrl({ lesson: null, variant: null });
    this.renderBanner();
  }
}

export const lessons = new Lessons();
