// The Train tab's composition root: builds its charts, its controls and the training, and wires
// Start / Stop / Esc, the tab switch, the theme and the language to them. Every word comes from
// static/i18n (train.*): what the tab writes is kept as a function of the current language and
// written again when the language changes.

import { TrainCompare } from "./compare.js";
import { onLanguage, t } from "./i18n.js";
import { MessageBox, StatusLine } from "./messages.js";
import { parseUrl } from "./state.js";
import { fetchMeta } from "./stream-client.js";
import { activeTab, onTab } from "./tabs.js";
import { onThemeChange } from "./theme.js";
import { TrainControls } from "./train-controls.js";
import { Training } from "./training.js";
import { TrainCards } from "./views/train-cards.js";
import { FlowMaps } from "./views/train-flow.js";
import { LossChart } from "./views/train-loss.js";
import { MetricChart } from "./views/train-metric.js";

const $ = (selector) => document.querySelector(selector);

const message = new MessageBox($("#train-message"));
const urlNote = new MessageBox($("#train-url-note")); // what the URL did not understand
const controls = new TrainControls($("#train-controls"), { onStart: () => training.start() });
const training = new Training({
  views: {
    loss: new LossChart($("#chart-loss")),
    maps: new FlowMaps($("#chart-flowmaps")),
    metric: new MetricChart($("#chart-metric")),
    cards: new TrainCards($("#train-cards")),
  },
  controls, message, status: new StatusLine($("#train-status")),
});

// pinned trainings drawn under the training, their cards after the training's (compare.js)
new TrainCompare({ loss: training.views.loss, values: () => controls.read(), after: $("#train-stop"),
  list: $("#train-cards"), kick: () => training.kick() });

document.addEventListener("keydown", (e) => {
  if (activeTab() !== "train" || e.key !== "Escape" || e.defaultPrevented || document.querySelector("dialog[open]")) return;
  if (training.busy) {
    e.preventDefault();
    training.stop();
  }
});

onTab(() => {
  controls.syncUrl();
  training.kick();
});

onLanguage(() => {
  // i18n.js has just written every [data-i18n] element; what this tab wrote is written again
  controls.relabel();
  training.status.relabel();
  message.relabel();
  urlNote.relabel();
  training.relabel();
});

onThemeChange((theme) => training.setTheme(theme));

function start() {
  const { values, problems } = parseUrl(location.search);
  controls.write(values);
  if (problems.train.length) { // a note of its own, which stays until closed
    urlNote.show(() => t("train.url.problems", { problems: problems.train.map((problem) => problem()).join("; ") }),
      { tone: "info", actions: [{ label: () => t("page.url_note.close"), onClick: () => urlNote.hide() }] });
  }
  if (activeTab() === "train") controls.syncUrl(); // main.js has shown the tab the URL names
  fetchMeta().then((meta) => controls.setLimits(meta.limits || {}))
    .catch(() => {}); // the explorer reports an unreachable server
  training.updateProgress();
}

start();
