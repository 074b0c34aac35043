// The page's three tabs, Explore, Train and Sweep: which one is shown (<html data-tab>, the URL's `tab`),
// the clicks and arrow keys between them, and the parts of the page that follow the switch.

import { updateUrl } from "./state.js";

const root = document.documentElement;
const NAMES = ["explore", "train", "sweep"];
const tabs = NAMES.map((name) => document.getElementById(`tab-${name}`));
const listeners = [];

/** "explore", "train" or "sweep". */
export function activeTab() {
  return NAMES.includes(root.dataset.tab) ? root.dataset.tab : "explore";
}

/** Call `callback(name)` after every switch of tab. */
export function onTab(callback) {
  listeners.push(callback);
}

export function selectTab(name, { focus = false } = {}) {
  root.dataset.tab = name;
  for (const tab of tabs) {
    const on = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
    if (on && focus) tab.focus();
  }
  updateUrl({ tab: name === "explore" ? null : name });
  for (const callback of listeners) callback(name);
  // charts drawn while their tab was hidden take their size now
  window.dispatchEvent(new Event("resize"));
}

/** Show the tab the URL names, and wire the tabs. */
export function startTabs(name) {
  if (name === "train" || name === "sweep") selectTab(name);
  else root.dataset.tab = "explore";
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab.id.replace("tab-", "")));
    tab.addEventListener("keydown", (e) => {
      const i = tabs.indexOf(tab);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      const target = tabs[(next + tabs.length) % tabs.length];
      selectTab(target.id.replace("tab-", ""), { focus: true });
    });
  }
}
