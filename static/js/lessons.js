// Lessons: one-click presets, each a URL state (so a teacher can share any of them, or any state
// at all, by its link) with a short text of what to look at. The Lessons dialog lists them; the
// banner under the top bar shows the open lesson (URL key `lesson`), its variants ("now try
// forget bias 3"), the previous / next lesson and "Copy link".

import { LESSONS, claimHolds, isLessonRun, isLessonTraining, runModels, trainMetrics } from "./claims.js";
import { fmt, pow10, steps } from "./format.js";
import { language, onLanguage, t } from "./i18n.js";
import { onRun } from "./run-events.js";
import { defaults, parseUrl, toSearch, updateUrl } from "./state.js";
import { onTraining } from "./train-events.js";
import { modelName } from "./views/summary.js";

const $ = (selector) => document.querySelector(selector);

// Each lesson (core/teaching.py LESSONS, embedded in the page): its states — the first is the
// lesson's own, the others its "now try" variants — each with its tab, its settings (the
// state's keys, in the URL's words) and its claims; and the part of the page to look at.
// Texts: lessons.<id>.title / .text / .look; each claim's sentence comes from its kind.
export { LESSONS };

/** A state's values: its tab's defaults with the lesson's settings (a Train-tab state names the tab). */
function stateValues(state) {
  const values = { ...defaults(state.tab), ...state.settings };
  return state.tab === "train" ? { tab: "train", ...values } : values;
}

/** The page's URL of a lesson state, in the current language. */
export function lessonUrl(lesson, stateKey = "main") {
  const state = lesson.states.find((s) => s.key === stateKey) || lesson.states[0];
  const variant = state.key === "main" ? null : state.key;
  const pins = parseUrl(location.search).values.pins || null; // the pinned references go along
  return `${location.pathname}?${toSearch({ ...stateValues(state), lesson: lesson.id, variant, pins, lang: language() })}`;
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

/** A model's name in a claim's sentence ("the tanh RNN"; `start`: at the start of one). */
const claimName = (key, start = false) => {
  const [cell, activation] = key.split("-");
  return modelName({ cell, activation, weights: null }, { start });
};

/** The words of a claim's sentence: its model, the model it is compared with, its threshold. */
function claimWords(claim) {
  const { kind, value } = claim;
  let v = value;
  if (kind.startsWith("ratio_") || kind.startsWith("cell_ratio_")) v = pow10(value);
  else if (kind.startsWith("metric_")) v = value >= 1e4 ? pow10(Math.log10(value)) : fmt(value);
  return { name: claimName(claim.model), Name: claimName(claim.model, true),
    other: claim.other ? claimName(claim.other) : "", value: v };
}

/** The number a claim was judged on, for people. */
function measuredText(claim, result, shown) {
  const r = (x) => (x === -Infinity ? "0" : Number.isFinite(x) ? pow10(x, 1) : t("explore.not_finite"));
  switch (claim.kind) {
    case "horizon_all":
    case "horizon_max":
      return result.measured === null ? t("lessons.claim.all_steps", { n: shown.T - 1 }) : steps(result.measured);
    case "keeps_more":
      return t("lessons.claim.against", { a: r(result.measured), b: r(result.other) });
    case "sign_uniform_mean_max":
      return fmt(result.measured, 2);
    case "metric_max":
    case "metric_min":
      return fmt(result.measured);
    default:
      return r(result.measured);
  }
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
    this.run = null; // the explorer's run once its stream has ended
    this.training = null; // the Train tab's training once it is done
    onLanguage(() => {
      this.renderList();
      this.renderBanner();
    });
    this.renderList();
    this.renderBanner();
    document.addEventListener("gfl:pins", () => { // the links carry the pins (compare.js)
      this.renderList();
      this.renderBanner();
    });
    onRun((run, complete) => {
      this.run = complete ? run : null;
      this.renderClaims();
    });
    onTraining((data, complete) => {
      this.training = complete ? data : null;
      this.renderClaims();
    });
  }

  /** The open lesson's state (its variant's). */
  state() {
    const lesson = this.current;
    return lesson && (lesson.states.find((s) => s.key === this.variant) || lesson.states[0]);
  }

  /** The state's claims, each checked on the run (or training) on screen when it is the state's:
   * ✓ or ✗ with the number it was judged on; a claim that depends on the seed says on which of
   * 0–9 it holds. <div class="lesson-claims" data-state="waiting | checked | other">. */
  renderClaims() {
    const box = this.claimsBox;
    const state = this.state();
    if (!box || !state) return;
    const train = state.tab === "train";
    const shown = train ? this.training : this.run;
    const mine = shown && (train ? isLessonTraining(state.settings, shown) : isLessonRun(state.settings, shown));
    let checked = null;
    if (mine) {
      const models = train ? {} : runModels(shown);
      const metric = train ? trainMetrics(shown) : {};
      checked = state.claims.map((claim) => claimHolds(claim, models, metric));
    }
    box.dataset.state = mine ? "checked" : shown ? "other" : "waiting";
    const el = (tag, props = {}) => Object.assign(document.createElement(tag), props);
    const head = el("p", { className: "lesson-claims-head" });
    head.append(el("strong", { textContent: t("lessons.claims") }));
    const list = el("ul", { className: "lesson-claim-list" });
    state.claims.forEach((claim, k) => {
      const result = checked?.[k];
      const li = el("li", { className: "lesson-claim" });
      Object.assign(li.dataset, { kind: claim.kind, model: claim.model, holds: result ? String(result.holds) : "pending" });
      const mark = el("span", { className: "lesson-claim-mark", textContent: result ? (result.holds ? "✓" : "✗") : "…" });
      mark.setAttribute("aria-hidden", "true");
      li.append(mark);
      if (result) {
        li.append(el("span", { className: "visually-hidden",
          textContent: `${t(result.holds ? "lessons.claim.holds" : "lessons.claim.fails")}: ` }));
      }
      li.append(lessonText(`lessons.claim.${claim.kind}`, claimWords(claim, shown)));
      if (result && claim.kind !== "under_bound") {
        li.append(el("span", { className: "lesson-claim-measured",
          textContent: ` (${t("lessons.claim.measured", { measured: measuredText(claim, result, shown) })})` }));
      }
      if (claim.seeds) {
        li.append(el("span", { className: "lesson-claim-seeds",
          textContent: ` — ${t("lessons.claim.varies", { seeds: claim.seeds.join(", ") })}` }));
      }
      list.append(li);
    });
    const note = el("p", { className: "lesson-claims-note" });
    note.textContent = mine ? t("lessons.claims.tested")
      : shown ? t("lessons.claims.other") : t(train ? "lessons.claims.waiting.train" : "lessons.claims.waiting");
    box.replaceChildren(head, list, note);
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
    this.claimsBox = el("div", { className: "lesson-claims" });
    body.append(this.claimsBox);
    this.renderClaims();

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
      // a jump, not a glide, when the system asks for less motion
      const behavior = matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
      show.addEventListener("click", () => target.scrollIntoView({ behavior, block: "start" }));
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
    this.banner.dataset.tab = this.state()?.tab === "train" ? "train" : "explore"; // page.css hides it on other tabs
    this.banner.hidden = false;
  }

  /** Leave the lesson: its banner goes, and `lesson` / `variant` leave the URL (the state stays). */
  closeBanner() {
    this.current = null;
    this.claimsBox = null;
    updateUrl({ lesson: null, variant: null });
    this.renderBanner();
  }
}

export const lessons = new Lessons();
