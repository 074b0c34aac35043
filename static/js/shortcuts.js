// The explorer's keyboard shortcuts (listed in the help dialog, which "?" opens). A focused
// control keeps its own keys, and none of them acts while the Train tab is shown.

import { activeTab } from "./tabs.js";

const $ = (selector) => document.querySelector(selector);

/** `runs`: the RunController; `player`: the playback clock. */
export function bindShortcuts({ runs, player }) {
  const help = $("#help");
  const step = $("#step");
  const playOrRun = () => (runs.run ? player.toggle() : runs.start());
  const toggleView = () => {
    const next = $('input[name="view"]:checked')?.value === "jac" ? "grad" : "jac";
    const radio = $(`input[name="view"][value="${next}"]`);
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
  };
  const keys = {
    " ": playOrRun,
    k: () => runs.run && player.toggle(),
    ArrowRight: () => step.click(),
    l: () => step.click(),
    ArrowLeft: () => runs.run && player.step(-1),
    j: () => runs.run && player.step(-1),
    Home: () => runs.run && player.seek(0),
    End: () => runs.run && player.seek(runs.run.available),
    Enter: () => runs.start(),
    r: () => runs.start(),
    Escape: () => runs.reset(),
    v: toggleView,
    "?": () => help.showModal(),
  };

  for (const id of ["#help-open", "#help-open-2"]) $(id).addEventListener("click", () => help.showModal());

  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || help.open) return;
    if (activeTab() !== "explore") return; // the explorer is hidden
    const { target } = e;
    // a focused control keeps its own keys: typing, toggling, choosing, Enter submits the form;
    // the timeline keeps only its arrows, Home and End (Space, Esc and the letters still act
    // after a drag of it, without a click elsewhere first)
    const timelineKey = target?.id === "scrubber" && !e.key.startsWith("Arrow") && !["Home", "End"].includes(e.key);
    if (target instanceof HTMLElement && !timelineKey && (target.isContentEditable ||
        target.matches("input, select, textarea, button, summary, a[href], .js-plotly-plot *"))) return;
    const action = keys[e.key.length === 1 ? e.key.toLowerCase() : e.key] || keys[e.key];
    if (!action) return;
    e.preventDefault();
    action();
  });
}
