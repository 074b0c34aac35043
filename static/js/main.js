// Page wiring: controls ↔ URL state, Run / Pause / Step / Reset, the stream into a RunData,
// the playback clock into the charts (one render per animation frame), errors in words,
// keyboard shortcuts, exports, the light/dark theme and the language.
//
// A URL that names any state key runs at once (autorun); a bare "/" waits for Run.
//
// Every text this module shows is kept as a way to write it (a key and its values, or a
// function), so that a switch of language writes the status, the message, the position line
// and every view again — the run on screen, its position and a stream in flight stay as they are.

import { FlowChart, GatesCharts, HeatmapChart, WhyChart } from "./charts.js";
import { Player } from "./player.js";
import { RunData } from "./run-data.js";
import { announce } from "./run-events.js";
import { ApiError, fetchMeta, streamRun } from "./stream-client.js";
import { SummaryCards } from "./summary.js";
import { onThemeChange, readTheme } from "./theme.js";
import { DEFAULTS, parseState, requestBody, toSearch } from "./url-state.js";
import { drawDirty, due, queueTask } from "./frame-budget.js";
import { bindLanguageSelect, nodes, onLanguage, t } from "./i18n.js";

const $ = (selector) => document.querySelector(selector);
const root = document.documentElement;
const form = $("#controls");
const ui = {
  run: $("#run"), pause: $("#pause"), step: $("#step"), reset: $("#reset"), speed: $("#speed"),
  scrubber: $("#scrubber"), scrubWrap: $(".scrubber-wrap"), position: $("#position"),
  status: $("#status"), message: $("#message"), sigmaOn: $("#sigma_on"), sigmaRange: $("#sigma_max"),
  sigmaNumber: $("#sigma_value"), jacobian: $("#jacobian"), settings: $("#settings"),
  exportJson: $("#export-json"), exportCsv: $("#export-csv"), help: $("#help"), flowSub: $("#flow-sub"),
};

let theme = readTheme();
const views = {
  flow: new FlowChart($("#chart-flow"), $("#flow-note"), () => player.kick()),
  hidden: new HeatmapChart($("#chart-hidden"), "hidden"),
  grads: new HeatmapChart($("#chart-grads"), "grads"),
  gates: new GatesCharts($("#gates-charts"), $("#chart-path"), $("#gates-empty")),
  why: new WhyChart($("#chart-why"), $("#why-stats")),
  summary: new SummaryCards($("#model-cards"), $("#headline")),
};

let run = null; // the RunData being shown
let controller = null; // AbortController of the stream in flight
let events = 0;
let startedAt = 0;
let finishedAt = 0;
let streamEnded = false;
let rendered = false;

const player = new Player(render);

// ---------------------------------------------------------------- controls <-> state <-> URL

function checkedValue(name) {
  return document.querySelector(`input[name="${name}"]:checked`)?.value;
}

function readControls() {
  const f = form.elements;
  return {
    models: [...form.querySelectorAll('input[name="models"]:checked')].map((i) => i.value),
    seq_len: f.seq_len.value,
    hidden_size: f.hidden_size.value,
    input: f.input.value,
    init: f.init.value,
    sigma_max: ui.sigmaOn.checked ? (ui.sigmaNumber.value.trim() || ui.sigmaRange.value) : "none",
    forget_bias: f.forget_bias.value,
    loss: checkedValue("loss") || DEFAULTS.loss,
    seed: f.seed.value,
    jacobian: ui.jacobian.checked ? "1" : "0",
    speed: ui.speed.value,
    view: checkedValue("view") || DEFAULTS.view,
    x: checkedValue("x") || DEFAULTS.x,
  };
}

function writeControls(state) {
  const f = form.elements;
  for (const box of form.querySelectorAll('input[name="models"]')) box.checked = state.models.includes(box.value);
  f.seq_len.value = state.seq_len;
  f.hidden_size.value = state.hidden_size;
  f.input.value = state.input;
  f.init.value = state.init;
  const on = state.sigma_max !== "none";
  ui.sigmaOn.checked = on;
  ui.sigmaNumber.value = on ? state.sigma_max : "";
  ui.sigmaRange.value = on && Number.isFinite(Number(state.sigma_max)) ? state.sigma_max : "1";
  syncSigmaEnabled();
  f.forget_bias.value = state.forget_bias;
  for (const r of document.querySelectorAll('input[name="loss"]')) r.checked = r.value === state.loss;
  f.seed.value = state.seed;
  ui.jacobian.checked = state.jacobian === "1";
  ui.speed.value = state.speed;
  for (const r of document.querySelectorAll('input[name="view"]')) r.checked = r.value === state.view;
  for (const r of document.querySelectorAll('input[name="x"]')) r.checked = r.value === state.x;
  player.setSpeed(state.speed);
  updateFlowSubtitle(state.view);
}

function syncSigmaEnabled() {
  ui.sigmaRange.disabled = !ui.sigmaOn.checked;
  ui.sigmaNumber.disabled = !ui.sigmaOn.checked;
  ui.sigmaRange.closest(".sigma").classList.toggle("is-off", !ui.sigmaOn.checked);
  if (ui.sigmaOn.checked && !ui.sigmaNumber.value) ui.sigmaNumber.value = ui.sigmaRange.value;
}

function syncUrl() {
  // the Train tab's keys (tab, train_*) stay as they are, after the explorer's
  const foreign = location.search.slice(1).split("&").filter((part) => part && !(part.split("=")[0] in DEFAULTS));
  const search = [toSearch(readControls()), ...foreign].join("&");
  if (search !== location.search) history.replaceState(null, "", search);
}

function updateFlowSubtitle(view) {
  ui.flowSub.replaceChildren(...(view === "jac" ? nodes("explore.flow.sub.jac") : nodes("explore.flow.sub.grad")));
}

// ---------------------------------------------------------------- messages and status

let message = null; // {text: () => string, actions: [{label: () => string, onClick}], tone}

/** Show a message; `text` and each action's `label` are functions that write it in the
 * current language (so that it follows a switch of language). */
function showMessage(text, actions = [], tone = "error") {
  message = { text, actions, tone };
  renderMessage();
}

function renderMessage() {
  if (!message) return;
  const { text, actions, tone } = message;
  ui.message.hidden = false;
  ui.message.dataset.tone = tone;
  ui.message.querySelector(".message-text").textContent = text();
  const box = ui.message.querySelector(".message-actions");
  box.replaceChildren(...actions.map(({ label, onClick }) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label();
    b.addEventListener("click", onClick);
    return b;
  }));
}

function hideMessage() {
  message = null;
  ui.message.hidden = true;
}

let status = () => t("explore.status.ready"); // writes the status line in the current language
let statusShown = null; // what it shows

/** The status line: `write()` gives its text in the current language (the page's own words and
 * numbers, with at most <strong> and <kbd>). */
function setStatus(write) {
  status = write;
  const html = write();
  if (html === statusShown) return;
  statusShown = html;
  const tpl = document.createElement("template");
  tpl.innerHTML = html;
  ui.status.replaceChildren(tpl.content);
}

function setRunState(state) {
  root.dataset.run = state;
}

function showError(e) {
  const actions = [];
  if (e instanceof ApiError && e.status === 422 && e.errors.some((x) => (x.loc || []).includes("include"))
      && ui.jacobian.checked) {
    actions.push({ label: () => t("explore.message.without_jacobian"), onClick: () => {
      ui.jacobian.checked = false;
      syncUrl();
      startRun();
    } });
  }
  if (e instanceof ApiError && (e.status === 503 || e.kind === "broken" || e.kind === "network")) {
    actions.push({ label: () => t("explore.message.try_again"), onClick: () => startRun() });
  }
  // an ApiError writes its message in the current language each time it is read
  showMessage(e instanceof ApiError ? () => e.message : () => t("explore.message.bug", { error: e.message }), actions);
}

// ---------------------------------------------------------------- running

function showEmpty(empty) {
  for (const el of document.querySelectorAll("[data-empty]")) {
    if (el.id !== "gates-empty") el.hidden = !empty;
  }
}

function beginViews(r) {
  showEmpty(false);
  const state = readControls();
  views.flow.begin(r, theme, state.view, state.x);
  views.hidden.begin(r, theme);
  views.grads.begin(r, theme);
  views.gates.begin(r, theme);
  views.why.begin(r, theme);
  views.summary.begin(r);
}

function clearViews() {
  for (const view of [views.flow, views.hidden, views.grads, views.gates, views.summary]) view.clear();
  views.why.begin(null, theme);
  $("#model-cards").replaceChildren(emptyCardsNote());
  showEmpty(true);
  player.kick();
}

function emptyCardsNote() {
  const p = document.createElement("p");
  p.className = "chart-empty";
  p.dataset.empty = "";
  p.append(document.createElement("span"));
  p.firstChild.dataset.i18n = "explore.summary.empty";
  p.firstChild.textContent = t("explore.summary.empty");
  return p;
}

function stopStream() {
  if (controller) controller.abort();
  controller = null;
}

/** Start a run of the current controls; `paused` shows t = 1 and waits (Step from idle). */
async function startRun({ paused = false } = {}) {
  const state = readControls();
  syncUrl();
  hideMessage();
  if (!state.models.length) {
    showMessage(() => t("explore.message.no_model"), [], "info");
    return;
  }
  stopStream();
  const mine = new AbortController();
  controller = mine;
  // the run on screen stays until the new one starts (a refused request does not lose it)
  rendered = false;
  delete root.dataset.rendered;
  let started = false; // did this request get as far as its `start` event?
  setRunState("streaming");
  setStatus(() => t("explore.status.starting"));
  performance.clearMarks("gfl:run");
  performance.clearMarks("gfl:streamed");
  performance.clearMarks("gfl:rendered");
  performance.mark("gfl:run");
  startedAt = performance.now();
  try {
    await streamRun(requestBody(state), {
      signal: mine.signal,
      onEvent(name, data) {
        if (mine !== controller) return;
        if (name === "start") {
          started = true;
          run = new RunData(data);
          announce(run, false);
          events = 1;
          streamEnded = false;
          updateExports();
          beginViews(run);
          player.load(run.total, { playing: !paused });
          if (paused) player.step(1);
          return;
        }
        events += 1;
        run.add(name, data);
        player.setAvailable(run.available);
      },
    });
    if (mine !== controller) return;
    finishedAt = performance.now();
    performance.mark("gfl:streamed");
    streamEnded = true;
    controller = null;
    setRunState("done");
    player.finish();
    updateExports();
    announce(run, true);
  } catch (e) {
    if (e.name === "AbortError" || mine !== controller) return;
    streamEnded = true;
    controller = null;
    setRunState("error");
    player.finish();
    updateExports();
    showError(e);
    const n = events;
    const kept = !!run;
    if (started) setStatus(() => (n === 1 ? t("explore.status.stopped.one", { n }) : t("explore.status.stopped.many", { n })));
    else setStatus(() => (kept ? t("explore.status.not_started.kept") : t("explore.status.not_started")));
    if (!(e instanceof ApiError)) console.error(e); // a bug of the page itself
  }
}

function reset() {
  stopStream();
  run = null;
  player.clear();
  clearViews();
  hideMessage();
  updateExports();
  setRunState("idle");
  delete root.dataset.rendered;
  setStatus(() => t("explore.status.reset"));
}

// ---------------------------------------------------------------- rendering
//
// Each animation frame brings the views' data to the playback position (sync: plain JavaScript,
// cheap) and writes the transport; the Plotly redraws that this leaves to do run after the
// frame, in tasks of their own (draw passes, one heavy redraw each, queued one after the other
// while panels are due). A redraw and the browser's rendering of the frame around it were one
// task, the longest of the page; as two, each is shorter, and input and the stream's data get
// their turn between them.

const CHARTS = [views.flow, views.hidden, views.grads, views.gates, views.why];
const PASS_BUDGET_MS = 12; // light panels share a pass (and a frame); a heavy one has its own
let turn = 0; // round robin over the panels, so that every chart gets its turn under load
let shown = { p: 0, playing: false }; // the position of the last frame
let drawQueued = false;

/**
 * Draw dirty panels within the budget (at least one per pass, never two heavy ones): the
 * headline chart first, then the others in turn. A panel that took c ms to draw waits a
 * multiple of c before its next draw, so a slow machine gets fewer, larger updates instead of
 * long tasks — except at the end of a complete run (`settle`), when what is left is drawn
 * without waiting. Returns whether panels are left (`more`), and whether some of them could be
 * drawn at once (`now`: the budget left them, not their spacing).
 */
function drawPanels(settle) {
  const others = [views.hidden, views.grads, views.gates, views.why].flatMap((v) => v.panels);
  const order = [views.flow, ...others.slice(turn % (others.length || 1)), ...others.slice(0, turn % (others.length || 1))];
  const left = drawDirty(order, PASS_BUDGET_MS, (panel) => {
    if (panel !== views.flow) turn = (others.indexOf(panel) + 1) % others.length;
  }, { settle });
  return { more: left || order.some((panel) => panel.dirty), now: order.some((panel) => due(panel, { settle })) };
}

function queueDrawPass() {
  if (drawQueued) return;
  drawQueued = true;
  queueTask(drawPass);
}

/** The playback clock's frame: every view at position p, the transport, then a draw pass. */
function render(p, { playing }) {
  shown = { p, playing };
  if (run) {
    for (const view of CHARTS) view.sync(p);
    views.summary.sync(p);
  }
  updateTransport(p, playing);
  setSettled(false); // until the draw pass has drawn what this frame changed
  queueDrawPass();
  return false; // a pass that leaves panels waiting asks for the next frame itself
}

/** <html data-settled="true">: every panel shows the position, and playback has stopped. */
function setSettled(settled) {
  if (root.dataset.settled !== String(settled)) root.dataset.settled = String(settled);
}

function drawPass() {
  drawQueued = false;
  const { p, playing } = shown;
  const complete = !!run && run.complete && p >= run.total;
  const { more, now } = drawPanels(complete);
  setSettled(!more && !playing);
  if (run && !more && !rendered && complete) {
    rendered = true;
    performance.mark("gfl:rendered");
    root.dataset.rendered = "true";
  }
  if (now) queueDrawPass(); // due panels left by the budget: the next pass, without waiting for a frame
  else if (more) player.kick(); // panels waiting their turn: tried again on the next frame
}

function updateTransport(p, playing) {
  const total = run ? run.total : 0;
  const available = run ? run.available : 0;
  ui.scrubber.max = String(total);
  ui.scrubber.value = String(p);
  ui.scrubber.disabled = !run;
  ui.scrubWrap.style.setProperty("--buffered", total ? `${(100 * available) / total}%` : "0%");
  ui.scrubWrap.style.setProperty("--played", total ? `${(100 * p) / total}%` : "0%");
  ui.pause.disabled = !run;
  ui.reset.disabled = !run && !controller;
  const ended = run && p >= total && (run.complete || streamEnded);
  ui.pause.classList.toggle("is-paused", !!run && !playing);
  const label = !run || playing ? t("explore.pause") : ended ? t("explore.replay") : t("explore.resume");
  const pauseLabel = ui.pause.querySelector(".label");
  if (pauseLabel.textContent !== label) pauseLabel.textContent = label;
  ui.pause.setAttribute("aria-pressed", String(!playing && !!run));

  const where = run ? run.where(p) : { phase: "ready", t: 0 };
  const pos = ui.position;
  if (pos.dataset.p !== String(p) || pos.dataset.phase !== where.phase) {
    pos.dataset.p = String(p);
    pos.dataset.phase = where.phase;
    pos.dataset.t = String(where.t);
    const v = { t: where.t, T: run?.T };
    pos.textContent = !run ? t("explore.position.ready")
      : where.phase === "forward" ? t("explore.position.forward", v)
        : where.phase === "backward" ? t("explore.position.backward", v)
          : where.phase === "summary" ? t("explore.position.done") : t("explore.position.start", v);
  }
  if (run) {
    const { available, total } = run;
    if (root.dataset.run === "streaming") {
      setStatus(() => (available >= total ? t("explore.status.streaming.all")
        : t("explore.status.streaming", { n: available, total })));
    } else if (root.dataset.run === "done") {
      const v = { n: events, s: ((finishedAt - startedAt) / 1000).toFixed(2) };
      const one = events === 1;
      if (p < total) setStatus(() => (one ? t("explore.status.done.playing.one", v) : t("explore.status.done.playing", v)));
      else setStatus(() => (one ? t("explore.status.done.one", v) : t("explore.status.done", v)));
    }
  }
}

// ---------------------------------------------------------------- exports

function updateExports() {
  const ok = !!run && (run.fwdCount > 0);
  ui.exportJson.disabled = !ok;
  ui.exportCsv.disabled = !ok;
}

function download(text, type, name) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function exportName(ext) {
  const c = run.config;
  return `gradient-flow-lab_T${c.seq_len}_H${c.hidden_size}_seed${c.seed}${run.complete ? "" : "_partial"}.${ext}`;
}

// ---------------------------------------------------------------- σ_max marks (1/γ)

let sigmaActivations = []; // from GET /api/meta

function placeSigmaMarks(activations = sigmaActivations) {
  sigmaActivations = activations;
  const box = $("#sigma-mark-labels");
  const min = Number(ui.sigmaRange.min);
  const max = Number(ui.sigmaRange.max);
  const marks = [];
  for (const a of activations) {
    if (!["sigmoid", "tanh"].includes(a.name) || !(a.gamma > 0)) continue;
    marks.push({ value: 1 / a.gamma, name: a.name });
  }
  box.replaceChildren(...marks.map(({ value, name }) => {
    const span = document.createElement("span");
    span.className = `mark c-${name}`;
    const frac = (value - min) / (max - min);
    span.style.setProperty("--at", String(frac));
    span.textContent = `${Number(value.toPrecision(3))} · ${name}`;
    span.title = t("explore.sigma.mark.title", { name });
    return span;
  }));
  const list = $("#sigma-marks");
  list.replaceChildren(...marks.map(({ value, name }) => {
    const o = document.createElement("option");
    o.value = String(value);
    o.label = `1/γ ${name}`;
    return o;
  }));
}

// ---------------------------------------------------------------- events

form.addEventListener("submit", (e) => {
  e.preventDefault();
  startRun();
});
form.addEventListener("input", (e) => {
  if (e.target === ui.sigmaRange) ui.sigmaNumber.value = ui.sigmaRange.value;
  if (e.target === ui.sigmaNumber && Number.isFinite(Number(ui.sigmaNumber.value))) ui.sigmaRange.value = ui.sigmaNumber.value;
  if (e.target === ui.sigmaOn) syncSigmaEnabled();
  syncUrl();
});
form.addEventListener("change", syncUrl);

$("#seed-random").addEventListener("click", () => {
  form.elements.seed.value = String(crypto.getRandomValues(new Uint32Array(1))[0]);
  syncUrl();
});
$("#defaults").addEventListener("click", () => {
  writeControls({ ...DEFAULTS, models: [...DEFAULTS.models] });
  syncUrl();
});

ui.pause.addEventListener("click", () => {
  if (run) player.toggle();
});
ui.step.addEventListener("click", () => {
  if (!run && !controller) startRun({ paused: true });
  else player.step(1);
});
ui.reset.addEventListener("click", reset);
ui.speed.addEventListener("change", () => {
  player.setSpeed(ui.speed.value);
  syncUrl();
});
ui.scrubber.addEventListener("input", () => player.seek(Number(ui.scrubber.value)));

for (const r of document.querySelectorAll('input[name="view"], input[name="x"]')) {
  r.addEventListener("change", () => {
    const s = readControls();
    updateFlowSubtitle(s.view);
    views.flow.setMode(s.view, s.x);
    player.kick();
    syncUrl();
  });
}

ui.exportJson.addEventListener("click", () => {
  if (run) download(JSON.stringify(run.toJSON()), "application/json", exportName("json"));
});
ui.exportCsv.addEventListener("click", () => {
  if (run) download(run.toCSV(), "text/csv", exportName("csv"));
});

for (const id of ["#help-open", "#help-open-2"]) $(id).addEventListener("click", () => ui.help.showModal());

// Transport buttons keep the focus where it was when clicked with a pointer, so that Space
// and the arrows go on controlling playback (a keyboard user still tabs to them as usual).
for (const b of [ui.run, ui.pause, ui.step, ui.reset]) b.addEventListener("mousedown", (e) => e.preventDefault());

const SHORTCUTS = {
  " ": () => (run ? player.toggle() : startRun()),
  k: () => run && player.toggle(),
  ArrowRight: () => ui.step.click(),
  l: () => ui.step.click(),
  ArrowLeft: () => run && player.step(-1),
  j: () => run && player.step(-1),
  Home: () => run && player.seek(0),
  End: () => run && player.seek(run.available),
  Enter: () => startRun(),
  r: () => startRun(),
  Escape: () => reset(),
  v: () => {
    const next = checkedValue("view") === "jac" ? "grad" : "jac";
    const radio = document.querySelector(`input[name="view"][value="${next}"]`);
    radio.checked = true;
    radio.dispatchEvent(new Event("change", { bubbles: true }));
  },
  "?": () => ui.help.showModal(),
};

document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || ui.help.open) return;
  if (root.dataset.tab === "train") return; // the explorer is hidden
  const t = e.target;
  // a focused control keeps its own keys: typing, toggling, choosing, Enter submits the form
  if (t instanceof HTMLElement && (t.isContentEditable ||
      t.matches("input, select, textarea, button, summary, a[href], .js-plotly-plot *"))) return;
  const action = SHORTCUTS[e.key.length === 1 ? e.key.toLowerCase() : e.key] || SHORTCUTS[e.key];
  if (!action) return;
  e.preventDefault();
  action();
});

onThemeChange((next) => {
  theme = next;
  for (const view of CHARTS) view.setTheme(theme);
  player.kick();
});

// ---------------------------------------------------------------- language

let limits = {}; // GET /api/meta's limits, named in two tooltips

function writeLimitTitles() {
  if (limits.seq_len_max) form.elements.seq_len.title = t("explore.seq_len.title.max", { max: limits.seq_len_max });
  if (limits.hidden_size_max) {
    form.elements.hidden_size.title = t("explore.hidden_size.title.max", { max: limits.hidden_size_max });
  }
}

/** The speed menu's labels: "1 step/s", "3 steps/s", …, "max". */
function writeSpeedLabels() {
  for (const o of ui.speed.options) {
    const n = Number(o.value);
    if (Number.isFinite(n)) o.textContent = n === 1 ? t("explore.speed.one", { n }) : t("explore.speed.many", { n });
  }
}

/** After a switch of language (the markup is done by i18n.js): everything this page wrote. */
function relabel() {
  writeSpeedLabels();
  writeLimitTitles();
  placeSigmaMarks();
  updateFlowSubtitle(checkedValue("view") || DEFAULTS.view);
  renderMessage();
  setStatus(status);
  ui.position.dataset.p = ""; // written again on the next frame
  for (const view of [...CHARTS, views.summary]) view.relabel();
  player.kick();
}

onLanguage(relabel);

// ---------------------------------------------------------------- start-up

function init() {
  bindLanguageSelect($("#lang"));
  const { state, hasState, problems } = parseState(location.search);
  writeControls(state);
  views.why.begin(null, theme);
  player.kick();
  fetchMeta().then((meta) => {
    const lim = meta.limits || {};
    if (lim.seq_len_max) form.elements.seq_len.max = String(lim.seq_len_max);
    if (lim.hidden_size_max) form.elements.hidden_size.max = String(lim.hidden_size_max);
    limits = lim;
    writeLimitTitles();
    placeSigmaMarks(meta.activations || []);
  }).catch((e) => {
    placeSigmaMarks([{ name: "sigmoid", gamma: 0.25 }, { name: "tanh", gamma: 1 }]);
    showMessage(() => e.message || t("explore.message.no_limits"));
  });
  if (hasState && new URLSearchParams(location.search).get("tab") !== "train") {
    if (window.matchMedia("(max-width: 760px)").matches) ui.settings.open = false;
    startRun();
  }
  // after the autorun has started (a new run clears the message line), so that the note stays
  if (problems.length) {
    showMessage(() => t("explore.message.url", { problems: problems.join(t("explore.message.url.join")) }), [], "info");
  }
}

init();
