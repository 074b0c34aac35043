// The Sweep tab's composition root: builds its controls, its two views and the sweep, wires
// Start / Cancel, the metric chooser, a click on a cell or point (that run in the Explore tab,
// that training in the Train tab), the tab switch, the theme and the language; fetches the
// server's presets and limits; reopens the sweep the URL names (sweep=sha256:…).

import { language, onLanguage, t } from "./i18n.js";
import { MessageBox, StatusLine } from "./messages.js";
import { parseUrl } from "./state.js";
import { fetchMeta } from "./stream-client.js";
import { fetchCriticalLine, planSweep } from "./sweep-client.js";
import { SweepControls } from "./sweep-controls.js";
import { openLink } from "./sweep-open.js";
import { pointRequest, range } from "./sweep-plan.js";
import { SweepRun } from "./sweep-run.js";
import { activeTab, onTab } from "./tabs.js";
import { onThemeChange } from "./theme.js";
import { SweepHeatmap } from "./views/sweep-heatmap.js";
import { SweepLines } from "./views/sweep-lines.js";

const $ = (selector) => document.querySelector(selector);

let tasks = []; // GET /api/meta's tasks, with their metric
let bare = false; // the URL names a sweep and none of the controls: they show that sweep's settings
let presetsKnown = Promise.resolve(); // /api/meta's presets in the menu
const theories = new Map(); // the critical lines asked for: their parameters (JSON) → lines

const message = new MessageBox($("#sweep-message"));
const controls = new SweepControls($("#sweep-controls"), {
  onStart: () => sweep.start(),
  onMetric: (metric) => sweep.setMetric(metric),
  estimate: estimateTime,
});
const sweep = new SweepRun({
  views: {
    heat: new SweepHeatmap($("#chart-sweep-heat"), { onOpen: open }),
    lines: new SweepLines($("#chart-sweep-lines"), { onOpen: open }),
  },
  controls, message, status: new StatusLine($("#sweep-status")), theory,
  tasks: () => Object.fromEntries(tasks.map((task) => [task.name, task.metric])),
  onShow: (request) => {
    if (!bare) return;
    bare = false;
    presetsKnown.then(() => {
      controls.adopt(request);
      sweep.reorder();
    });
  },
});

/**
 * The theory's lines over a sweep's heatmap: the mean-field critical line χ₁ = 1 where the sweep
 * varies a random RNN's σ_w and σ_b — init scheme "normal", whose init.std is σ_w/√H and
 * init.bias_std σ_b — for one bounded activation (GET /api/theory/critical-line, at σ_b through
 * the grid's range). Fetched once; the views are drawn again when it arrives.
 */
function theory(request) {
  const { grid = {}, base = {} } = request;
  if (request.kind !== "run" || !grid["init.std"] || !grid["init.bias_std"] || grid["init.scheme"] || grid.hidden_size
      || (base.init?.scheme ?? "xavier") !== "normal") return [];
  const activations = new Set((grid.models ? grid.models.flat() : base.models ?? [])
    .map((m) => (m.cell === "rnn" ? m.activation ?? "tanh" : null)));
  const [activation] = activations;
  if (activations.size !== 1 || !["tanh", "sigmoid"].includes(activation)) return [];
  const b = grid["init.bias_std"];
  const query = { sigma_b: range(Math.min(...b), Math.max(...b), 25).map((v) => Number(v.toPrecision(6))),
    hidden_size: base.hidden_size ?? 16, activation };
  const key = JSON.stringify(query);
  if (!theories.has(key)) {
    theories.set(key, []);
    fetchCriticalLine(query).then(({ points }) => {
      const on = points.filter((p) => p.init_std !== null);
      theories.set(key, [{ name: "critical", x: { path: "init.std", values: on.map((p) => p.init_std) },
        y: { path: "init.bias_std", values: on.map((p) => p.bias_std) } }]);
      sweep.refresh();
    }).catch((e) => message.show(() => e.message));
  }
  return theories.get(key);
}

/** The time of a sweep: for runs, one run of its costliest corner timed here (× the points);
 * for trainings, which take too long to try, the server's estimate (POST /api/sweeps/plan). */
async function estimateTime(request, size) {
  if (activeTab() !== "sweep") return null;
  if (request.kind === "train") {
    const plan = await planSweep(request);
    return { total: plan.compute_seconds, one: plan.longest_point_seconds, measured: false };
  }
  const corner = Object.fromEntries(Object.entries(request.grid).map(([path, values]) => [path,
    values.every((v) => typeof v === "number") ? Math.max(...values) : values[0]]));
  const body = pointRequest(request.base, corner, request.seeds[0]);
  const begun = performance.now();
  const res = await fetch("/api/runs", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body) });
  if (!res.ok) return null;
  await res.arrayBuffer();
  const one = (performance.now() - begun) / 1000;
  return { total: one * size.points, one, measured: true };
}

/** A click on a cell or point: its run in the Explore tab, its training in the Train tab — after
 * saying what of its request that tab cannot set, if anything. */
function open(result) {
  const { data } = sweep;
  const { search, missing } = openLink(data.kind, data.requestOf(result), language() === "en" ? "" : language());
  if (!missing.length) {
    location.assign(search);
    return;
  }
  const fields = missing.map(([path, v]) => `${path} = ${JSON.stringify(v)}`).join(", ");
  message.show(() => t(data.kind === "train" ? "sweep.open.missing.train" : "sweep.open.missing.run", { fields }), {
    tone: "info", actions: [{ label: () => t("sweep.open.anyway"), onClick: () => location.assign(search) }],
  });
}

onTab((name) => {
  if (name !== "sweep") return;
  controls.sync();
  sweep.kick();
});

onLanguage(() => {
  controls.relabel();
  message.relabel();
  sweep.relabel();
});

onThemeChange((theme) => sweep.setTheme(theme));

function start() {
  const { values, problems } = parseUrl(location.search);
  const ownAxes = new URLSearchParams(location.search).has("sweep_x"); // before the controls write the URL
  controls.write(values);
  if (problems.sweep.length) {
    message.show(() => t("sweep.url.problems", { problems: problems.sweep.map((p) => p()).join("; ") }), { tone: "info" });
  }
  bare = !!values.sweep && !ownAxes;
  presetsKnown = fetchMeta().then((meta) => {
    tasks = meta.tasks ?? [];
    controls.setLimits(meta.limits ?? {});
    controls.setPresets(meta.sweeps?.presets ?? {});
    // a URL that names a preset and not its axes: the preset as it is
    if (controls.preset(values.sweep_preset) && !ownAxes) {
      controls.applyPreset(values.sweep_preset);
    }
    sweep.refresh();
  }).catch(() => {}); // the explorer reports an unreachable server
  if (/^sha256:[0-9a-f]{64}$/.test(values.sweep)) {
    // on a phone the charts of a stored sweep come first: its settings folded away
    if (window.matchMedia("(max-width: 760px)").matches) $("#sweep-settings").open = false;
    sweep.open(values.sweep);
  }
  else if (values.sweep) message.show(() => t("sweep.url.bad_id", { value: values.sweep }), { tone: "info" });
}

start();
