// What the page offers those who do not see its charts or do not use a mouse:
//
// - one polite live region (#announcer) that says when a run, a training or a sweep starts, ends
//   (with the cards' sentences) or fails — not every frame: the status lines and the progress
//   texts that follow the stream are not live regions;
// - every chart a figure with a name (its aria-label) and a text alternative saying what it shows
//   for this run, made of the sentences the page already writes about the run (the headline and
//   the model cards of the Explore tab, the explainers' own readings, the Train tab's verdicts —
//   no new claims), and a "Show as table" toggle with the numbers it plots
//   (views/common.js plottedTable, read from the chart's figure);
// - a formula too wide for its box reachable by Tab, so that a keyboard can scroll it.
//
// It follows the page through <html>'s data attributes (data-run, data-rendered, data-train,
// data-explained, lang), which the tabs' controllers set, so it knows nothing of their modules.

import { onLanguage, t } from "./i18n.js";
import { plottedTable, tableElement } from "./views/common.js";

const root = document.documentElement;
const $ = (selector) => document.querySelector(selector);
const text = (el) => (el?.textContent || "").replace(/\s+/g, " ").trim();

// ------------------------------------------------------------------ the live region

class Announcer {
  constructor(el) {
    this.el = el;
    this.timer = 0;
  }

  /** Say `message` once, politely (the region is emptied first, so that a repeated message is
   * said again). */
  say(message) {
    if (!this.el || !message) return;
    clearTimeout(this.timer);
    this.el.textContent = "";
    this.timer = setTimeout(() => {
      this.el.textContent = message;
    }, 60);
  }
}

const announcer = new Announcer($("#announcer"));

/** What a change of <html>'s attributes says, if anything. */
function announcement(name, now, before) {
  if (name === "data-run") {
    if (now === "streaming") return t("a11y.run.start");
    if (now === "error") return t("a11y.run.error", { message: text($("#message .message-text")) || text($("#status")) });
  }
  // a run drawn to its end (not the last one drawn again after a refused run)
  if (name === "data-rendered" && now === "true" && root.dataset.run === "done") {
    return t("a11y.run.done", { status: text($("#status")), headline: text($("#headline")) });
  }
  if (name === "data-train" && now !== before) {
    if (now === "running") return t("a11y.train.start");
    if (now === "error") {
      return t("a11y.train.error", { message: text($("#train-message .message-text")) || text($("#train-status")) });
    }
    if (now === "done" || now === "stopped") {
      const verdicts = [...document.querySelectorAll("#train-cards .verdict")].map(text).filter(Boolean);
      return t("a11y.train.done", { status: text($("#train-status")), verdicts: verdicts.join(" ") });
    }
  }
  if (name === "data-sweep" && now !== before) {
    if (now === "running") return t("a11y.sweep.start");
    if (now === "error") return text($("#sweep-message .message-text")) || text($("#sweep-status"));
    if (["done", "cancelled", "failed"].includes(now)) return text($("#sweep-status"));
  }
  return "";
}

// ------------------------------------------------------------------ the charts' words and tables

let serial = 0;

/** The sentences the page has written about what `chart` shows for the run on screen. */
function sentences(chart) {
  const modelEl = chart.closest("[data-model]");
  const same = (card) => card.dataset.model === modelEl.dataset.model
    && (card.dataset.yours ?? "") === (modelEl.dataset.yours ?? "");
  if (chart.closest("#panel-train")) {
    const cards = [...document.querySelectorAll("#train-cards .train-card")];
    const mine = modelEl ? cards.filter(same) : cards;
    return mine.map((card) => text(card.querySelector(".verdict"))).filter(Boolean).join(" ");
  }
  const explainer = chart.closest(".explainer-body");
  if (explainer) return [...explainer.querySelectorAll(".explainer-live")].map(text).filter(Boolean).join(" ");
  if (!chart.closest("#panel-explore")) {
    // another tab's chart (the sweep's): its status line, the tab's own sentence about its result
    return text(chart.closest('[role="tabpanel"]')?.querySelector(".status"));
  }
  if (modelEl) {
    const card = [...document.querySelectorAll("#model-cards .model-card")].find(same);
    const reading = text(card?.querySelector(".reading"));
    if (reading) return reading;
  }
  return text($("#headline"));
}

/** The chart's name: its aria-label, else its card's heading. */
function chartName(chart) {
  return chart.getAttribute("aria-label") || text(chart.closest(".card, .explainer")?.querySelector("h2, h3"));
}

/** Where a chart's block goes: after the chart, or — for charts that a view keeps as the only
 * children of a container (the gates' panels) — in a list after that container. */
function place(chart, block) {
  const parent = chart.parentElement;
  if (parent?.id !== "gates-charts") {
    if (chart.nextElementSibling !== block) chart.after(block);
    return;
  }
  let list = parent.nextElementSibling;
  if (!list?.classList.contains("chart-a11y-list")) {
    list = Object.assign(document.createElement("div"), { className: "chart-a11y-list" });
    parent.after(list);
  }
  if (block.parentElement !== list) list.append(block);
}

class ChartAccess {
  constructor(chart) {
    this.chart = chart;
    const id = `chart-alt-${++serial}`;
    this.block = Object.assign(document.createElement("div"), { className: "chart-a11y" });
    this.block.chartAccess = this;
    this.alt = Object.assign(document.createElement("p"), { className: "visually-hidden chart-alt", id });
    this.toggle = Object.assign(document.createElement("button"), { type: "button", className: "link table-toggle" });
    this.holder = Object.assign(document.createElement("div"), { className: "chart-table", id: `${id}-table`, hidden: true });
    this.holder.tabIndex = 0; // a scrolling region: reachable by keyboard
    this.holder.setAttribute("role", "region");
    this.toggle.setAttribute("aria-controls", this.holder.id);
    this.toggle.addEventListener("click", () => {
      this.holder.hidden = !this.holder.hidden;
      this.update();
    });
    this.block.append(this.alt, this.toggle, this.holder);
    chart.setAttribute("aria-describedby", id);
  }

  update() {
    const { chart, holder } = this;
    const name = chartName(chart);
    const said = sentences(chart);
    this.alt.textContent = said ? t("a11y.chart.text", { name, text: said }) : t("a11y.chart.pending", { name });
    const open = !holder.hidden;
    this.toggle.textContent = open ? t("a11y.table.hide") : t("a11y.table.show");
    this.toggle.setAttribute("aria-expanded", String(open));
    this.toggle.title = t("a11y.table.title");
    holder.setAttribute("aria-label", t("a11y.table.label", { name }));
    this.block.hidden = !!chart.closest("[hidden]");
    if (open) holder.replaceChildren(tableElement(plottedTable(chart), t("a11y.table.caption", { name })));
    else holder.replaceChildren();
  }
}

/** Give every drawn chart its text alternative and table toggle, and drop those of charts gone. */
export function describeCharts() {
  for (const block of document.querySelectorAll(".chart-a11y")) {
    if (!block.chartAccess?.chart.isConnected) block.remove();
  }
  for (const chart of document.querySelectorAll(".js-plotly-plot")) {
    let access = chart.chartAccess;
    if (!access) {
      access = new ChartAccess(chart);
      chart.chartAccess = access;
    }
    place(chart, access.block);
    access.update();
  }
}

/** A formula wider than its box scrolls sideways: it is then a named group reachable by Tab
 * (a keyboard can scroll only what it can focus), and an ordinary block again when it fits. */
function scrollingFormulas() {
  for (const el of document.querySelectorAll(".formula")) {
    if (el.scrollWidth > el.clientWidth + 1) {
      el.tabIndex = 0;
      el.setAttribute("role", "group");
      el.setAttribute("aria-label", t("a11y.formula"));
    } else if (el.hasAttribute("tabindex")) {
      for (const name of ["tabindex", "role", "aria-label"]) el.removeAttribute(name);
    }
  }
}

// ------------------------------------------------------------------ following the page

let pending = 0;
function soon() {
  if (!pending) pending = setTimeout(() => {
    pending = 0;
    describeCharts();
    scrollingFormulas();
  }, 50);
}

// data-settled: the charts have drawn what changed (a new language's axis titles among it)
const WATCHED = ["data-run", "data-rendered", "data-settled", "data-train", "data-train-settled", "data-explained",
  "data-sweep", "data-tab", "lang"];
const before = Object.fromEntries(WATCHED.map((name) => [name, root.getAttribute(name)]));
new MutationObserver((records) => {
  for (const { attributeName: name } of records) {
    const now = root.getAttribute(name);
    if (now === before[name]) continue;
    const said = announcement(name, now, before[name]);
    before[name] = now;
    if (said) announcer.say(said);
  }
  soon();
}).observe(root, { attributes: true, attributeFilter: WATCHED });
onLanguage(soon);
window.addEventListener("load", soon);
window.addEventListener("resize", soon);
