// The page's start and the Explore tab's composition root: builds the views, the controls and the
// run's parts, wires the stream and the playback clock to them, follows the theme and the
// language, and starts the page from its URL. A URL that names any of the explorer's state keys
// runs at once (autorun); a bare "/" waits for Run.
//
//   state.js            the URL's keys ↔ the controls, the request body
//   explore-controls.js the form, σ_max, the limits, the layer chooser; networks.js "Your network"
//                                                             run-controller.js  Run … done / error / Reset
//   explore-views.js    the views as a group                 render-loop.js     frames and draw passes
//   transport.js        Pause, Step, Reset, the scrubber     player.js          the playback clock
//   messages.js         the message box and the status line  exports.js / shortcuts.js / tabs.js

import { MODEL_KEYS, modelKey } from "./catalogue.js";
import { ExploreCompare } from "./compare.js";
import { ExploreControls } from "./explore-controls.js";
import { ExploreViews } from "./explore-views.js";
import { Exports } from "./exports.js";
import { bindLanguageSelect, onLanguage, t } from "./i18n.js";
import { MessageBox, StatusLine } from "./messages.js";
import { Player } from "./player.js";
import { RenderLoop } from "./render-loop.js";
import { RunController } from "./run-controller.js";
import { bindShortcuts } from "./shortcuts.js";
import { parseUrl, updateUrl, writeControls } from "./state.js";
import { fetchMeta } from "./stream-client.js";
import { selectTab, startTabs } from "./tabs.js";
import { onThemeChange } from "./theme.js";
import { Transport } from "./transport.js";
import { FlowChart } from "./views/flow.js";
import { GatesCharts } from "./views/gates.js";
import { HeatmapChart } from "./views/heatmap.js";
import { DepthView } from "./views/layers.js";
import { SummaryCards } from "./views/summary.js";
import { SpectrumChart } from "./views/spectrum.js";
import { WhyChart } from "./views/why.js";
import { singularValues } from "./spectrum-math.js";
import { fetchRun } from "./weights-client.js";

const $ = (selector) => document.querySelector(selector);

const player = new Player((p, info) => loop.frame(p, info));
/** The untrained line's link: the Train tab, set to train the run's models (those it can train). */
function trainThese(run) {
  const keys = run.models.map(modelKey).filter((key) => MODEL_KEYS.includes(key));
  if (keys.length) writeControls("train", { train_models: [...new Set(keys)] });
  selectTab("train", { focus: true });
}

const views = new ExploreViews({
  flow: new FlowChart($("#chart-flow"), $("#flow-note"), () => player.kick()),
  depth: new DepthView($("#chart-depth"), $("#chart-depth-lines"), $("#depth-note")),
  hidden: new HeatmapChart($("#chart-hidden"), "hidden"),
  grads: new HeatmapChart($("#chart-grads"), "grads"),
  gates: new GatesCharts($("#gates-charts"), $("#chart-path"), $("#gates-empty")),
  why: new WhyChart($("#chart-why"), $("#why-stats")),
  summary: new SummaryCards($("#model-cards"), $("#headline"), { onTrain: trainThese }),
}, { cards: $("#model-cards") });
const message = new MessageBox($("#message"));
const urlNote = new MessageBox($("#url-note")); // what the URL did not understand
const status = new StatusLine($("#status"), { html: true, write: () => t("explore.status.ready") });
const controls = new ExploreControls($("#controls"), {
  onRun: () => {
    runs.start();
    // on a phone the charts are below the controls: Run brings them into view
    if (window.matchMedia("(max-width: 760px)").matches) $("#status").scrollIntoView({ block: "start" });
  },
  onSpeed: (speed) => player.setSpeed(speed),
  onBounds: (on) => {
    views.flow.setBounds(on);
    player.kick();
  },
  onMode: (view, x) => {
    views.setMode(view, x);
    player.kick();
  },
  // the same run, its views showing another (layer, direction)
  onUnit: () => {
    if (!runs.run) return;
    views.begin(runs.run, controls.read());
    player.kick();
  },
});
const downloads = new Exports({
  json: $("#export-json"), csv: $("#export-csv"), torch: $("#export-torch"), png: $("#export-png"),
  curl: $("#export-curl"), python: $("#export-python"),
}, { current: () => runs.run, networks: controls.networks, message, values: () => controls.read(), chart: $("#chart-flow") });
// W_hh's singular values, on demand: the run's parameters (POST /api/runs with include "params")
const spectrum = { chart: new SpectrumChart($("#chart-spectrum"), $("#spectrum-note")), run: null };
$("#spectrum-show").addEventListener("click", async () => {
  const { run } = runs;
  if (!run) return;
  $("#spectrum-show").disabled = true;
  try {
    const result = await fetchRun({ ...run.config, include: ["params"] });
    // every RNN of a run shares W_hh: one spectrum, named after the RNNs
    const rnns = result.models.filter((m) => m.cell === "rnn" && m.params?.W_hh);
    const label = rnns.map((m) => m.label).join(", ");
    spectrum.chart.show(rnns.length ? [{ key: `rnn-${rnns[0].activation}`, label, values: singularValues(rnns[0].params.W_hh) }] : []);
  } catch (e) {
    message.show(() => e.message);
  } finally {
    $("#spectrum-show").disabled = !runs.run?.complete;
  }
});
const runs = new RunController({ controls, views, player, message, status, onChange: () => {
  if (runs.run !== spectrum.run) {
    spectrum.run = runs.run;
    spectrum.chart.begin(runs.run, views.theme);
  }
  $("#spectrum-show").disabled = !runs.run?.complete;
  downloads.update();
  controls.showUnits(runs.run);
  controls.showRun(runs.run);
} });
const transport = new Transport({ runs, player });
const loop = new RenderLoop({
  views, player, current: () => runs.run,
  onFrame: (p, playing) => {
    transport.show(p, playing);
    runs.frame(p, playing);
  },
  onDrawn: () => runs.drawn(),
});
bindShortcuts({ runs, player });
// pinned runs drawn under the run, and the run over several seeds (compare.js)
new ExploreCompare({ flow: views.flow, summary: views.summary, values: () => controls.read(), message });

onThemeChange((theme) => {
  views.setTheme(theme);
  player.kick();
});

// i18n.js has just written every [data-i18n] element; what this tab wrote is written again
onLanguage((lang) => {
  updateUrl({ lang });
  controls.relabel();
  message.relabel();
  urlNote.relabel();
  status.relabel();
  transport.relabel();
  views.relabel();
  player.kick();
});

/**
 * Run a URL's state, unless it cannot be run as it is: a sequence or targets from a file (a
 * link does not carry the arrays), or a network the server no longer keeps (GET
 * /api/weights/{id}: 404) — each said in words with what to do.
 */
async function autorun(values, gone) {
  const files = [values.input === "values" && "sequence", values.targets === "file" && "targets"].filter(Boolean);
  if (files.length) {
    message.show(() => t(files.length === 2 ? "networks.message.files" : `networks.message.${files[0]}`), { tone: "info" });
    return false;
  }
  const missing = await gone;
  if (missing.length) {
    message.show(() => t("networks.message.gone", { ids: missing.join(", ") }));
    return false;
  }
  runs.start();
  return true;
}

/** Presentation mode (URL key `present`): the page in large type for a projector. */
function present(on) {
  document.documentElement.dataset.present = on ? "1" : "0";
  $("#present").setAttribute("aria-pressed", String(on));
  updateUrl({ present: on ? "1" : null });
  window.dispatchEvent(new Event("resize")); // the charts take their new size
}

async function start() {
  bindLanguageSelect($("#lang"));
  const { values, named, problems } = parseUrl(location.search);
  if (values.present === "1") present(true);
  $("#present").addEventListener("click", () => present(document.documentElement.dataset.present !== "1"));
  startTabs(values.tab);
  const gone = controls.write(values);
  views.start();
  player.kick();
  fetchMeta().then((meta) => controls.setLimits(meta.limits || {}))
    .catch((e) => message.show(() => e.message || t("explore.message.no_limits")));
  const narrow = window.matchMedia("(max-width: 760px)").matches;
  if (narrow && !values.weights.length) $("#network").open = false;
  if (named.has("explore") && values.tab === "explore") {
    if (narrow) {
      $("#settings").open = false;
      $("#network").open = false;
    }
    await autorun(values, gone);
  }
  // in a note of its own, which stays until closed (the run's messages come and go below it)
  if (problems.explore.length) {
    const list = () => problems.explore.map((problem) => problem()).join(t("explore.message.url.join"));
    urlNote.show(() => t("explore.message.url", { problems: list() }),
      { tone: "info", actions: [{ label: () => t("page.url_note.close"), onClick: () => urlNote.hide() }] });
  }
}

start();
