// The Train tab: controls ↔ URL (train_* keys and tab=train), Start / Stop of
// POST /api/train/stream, the events into the charts (drawn once per animation frame within a
// time budget), the progress bar with steps/s and ETA, errors in words — and the two tabs.
// Every word comes from static/i18n (train.*): what this module writes is kept as a function
// of the current language and written again when the language changes.

import { fmt } from "./format.js";
import { onLanguage, t } from "./i18n.js";
import { ApiError, fetchMeta, streamEvents } from "./stream-client.js";
import { onThemeChange, readTheme } from "./theme.js";
import { FlowMaps, LossChart, MetricChart, TrainCards, TrainData } from "./train-charts.js";
import { MODEL_KEYS, MODELS } from "./url-state.js";
import { drawDirty } from "./frame-budget.js";

const $ = (selector) => document.querySelector(selector);
const root = document.documentElement;
const form = $("#train-controls");
const ui = {
  tabs: [$("#tab-explore"), $("#tab-train")],
  start: $("#train-start"), stop: $("#train-stop"), status: $("#train-status"), message: $("#train-message"),
  bar: $("#train-progress"), fill: $("#train-progress-fill"), progress: $("#train-progress-text"),
  taskText: $("#train-task-text"), clipOn: $("#train_clip_on"), clip: $("#train_clip"),
  momentumField: $("#train-momentum-field"), metricSub: $("#metric-sub"),
};

// ---------------------------------------------------------------- state <-> URL

export const TRAIN_DEFAULTS = Object.freeze({
  models: ["rnn-sigmoid", "rnn-tanh", "lstm", "gru"],
  task: "adding",
  seq_len: "50",
  hidden_size: "32",
  batch_size: "64",
  optimizer: "adam",
  lr: "0.01",
  momentum: "0.9",
  clip: "1",
  steps: "1500",
  eval_every: "100",
  eval_size: "1000",
  seed: "0",
});
const KEYS = Object.keys(TRAIN_DEFAULTS);
const CHOICES = { task: ["adding", "copy", "temporal_order"], optimizer: ["adam", "sgd"] };
const isTrainKey = (k) => k === "tab" || k.startsWith("train_");

/** Each task's sentence (what it is, its metric and baseline) and its short name. */
const TASK_TEXT = {
  adding: () => t("train.task.adding.text"),
  copy: () => t("train.task.copy.text"),
  temporal_order: () => t("train.task.temporal_order.text"),
};
const TASK_NAME = {
  adding: () => t("train.task.adding.name"),
  copy: () => t("train.task.copy.name"),
  temporal_order: () => t("train.task.temporal_order.name"),
};

function parseTrainState(search) {
  const params = new URLSearchParams(search);
  const state = { ...TRAIN_DEFAULTS, models: [...TRAIN_DEFAULTS.models] };
  const problems = [];
  for (const key of KEYS) {
    const name = `train_${key}`;
    if (!params.has(name)) continue;
    const raw = params.get(name).trim();
    if (key === "models") {
      const names = raw.split(",").map((s) => s.trim()).filter(Boolean);
      const known = MODEL_KEYS.filter((k) => names.includes(k));
      for (const n of names) if (!MODEL_KEYS.includes(n)) problems.push(() => t("train.url.model", { name: n }));
      if (known.length) state.models = known;
    } else if (CHOICES[key] && !CHOICES[key].includes(raw)) {
      problems.push(() => t("train.url.choice", { key: name, value: raw, choices: CHOICES[key].join(", ") }));
    } else {
      state[key] = raw;
    }
  }
  return { state, tab: params.get("tab") === "train" ? "train" : "explore", problems };
}

function readControls() {
  const f = form.elements;
  return {
    models: [...form.querySelectorAll('input[name="train_models"]:checked')].map((i) => i.value),
    task: f.train_task.value,
    seq_len: f.train_seq_len.value,
    hidden_size: f.train_hidden_size.value,
    batch_size: f.train_batch_size.value,
    optimizer: f.train_optimizer.value,
    lr: f.train_lr.value,
    momentum: f.train_momentum.value,
    clip: ui.clipOn.checked ? (ui.clip.value.trim() || TRAIN_DEFAULTS.clip) : "none",
    steps: f.train_steps.value,
    eval_every: f.train_eval_every.value,
    eval_size: f.train_eval_size.value,
    seed: f.train_seed.value,
  };
}

function writeControls(state) {
  const f = form.elements;
  for (const box of form.querySelectorAll('input[name="train_models"]')) box.checked = state.models.includes(box.value);
  for (const key of ["task", "seq_len", "hidden_size", "batch_size", "optimizer", "lr", "momentum", "steps",
    "eval_every", "eval_size", "seed"]) f[`train_${key}`].value = state[key];
  ui.clipOn.checked = state.clip !== "none";
  ui.clip.value = state.clip === "none" ? TRAIN_DEFAULTS.clip : state.clip;
  syncDependents();
}

function syncDependents() {
  ui.clip.disabled = !ui.clipOn.checked;
  const sgd = form.elements.train_optimizer.value === "sgd";
  form.elements.train_momentum.disabled = !sgd;
  ui.momentumField.classList.toggle("is-off", !sgd);
  ui.taskText.textContent = TASK_TEXT[form.elements.train_task.value]?.() || "";
}

function activeTab() {
  return root.dataset.tab === "train" ? "train" : "explore";
}

/** The URL: the explorer's keys as they are, then tab=train (when active) and every train_ key. */
function syncUrl() {
  const own = location.search.slice(1).split("&").filter((part) => part && !isTrainKey(part.split("=")[0]));
  const state = readControls();
  const mine = [];
  if (activeTab() === "train") mine.push("tab=train");
  if (activeTab() === "train" || location.search.includes("train_")) {
    for (const key of KEYS) {
      const value = key === "models" ? state.models.join(",") : String(state[key]);
      mine.push(`train_${key}=${encodeURIComponent(value).replace(/%2C/g, ",")}`);
    }
  }
  const parts = [...own, ...mine];
  const search = parts.length ? `?${parts.join("&")}` : "";
  if (search !== location.search) history.replaceState(null, "", search || location.pathname);
}

/** A typed number as a number, the raw text when it is not one (the API explains), or
 * undefined when empty (the API's default). */
function number(text) {
  const s = String(text).trim();
  if (s === "") return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

/** The TrainRequest body as JSON text; the seed digit for digit. */
function requestBody(state) {
  const optimizer = { name: state.optimizer, lr: number(state.lr) };
  if (state.optimizer === "sgd") optimizer.momentum = number(state.momentum);
  const body = {
    models: state.models.map((k) => {
      const { cell, activation } = MODELS[k];
      return cell === "rnn" ? { cell, activation } : { cell };
    }),
    task: state.task,
    seq_len: number(state.seq_len),
    hidden_size: number(state.hidden_size),
    batch_size: number(state.batch_size),
    optimizer,
    clip: state.clip === "none" ? null : number(state.clip),
    steps: number(state.steps),
    eval_every: number(state.eval_every),
    eval_size: number(state.eval_size),
    seed: "@SEED@",
  };
  const seed = String(state.seed).trim();
  const seedJson = /^\d+$/.test(seed) ? seed.replace(/^0+(?=\d)/, "")
    : JSON.stringify(seed === "" ? 0 : number(seed));
  return JSON.stringify(body).replace('"@SEED@"', seedJson);
}

// ---------------------------------------------------------------- the stream

/** POST /api/train/stream: see streamEvents. */
function streamTrain(bodyText, { signal, onEvent }) {
  return streamEvents("/api/train/stream", bodyText, {
    signal, onEvent, noun: () => t("train.error.noun"), kept: () => t("train.error.kept"),
  });
}

// ---------------------------------------------------------------- running

let theme = readTheme();
const views = {
  loss: new LossChart($("#chart-loss")),
  maps: new FlowMaps($("#chart-flowmaps")),
  metric: new MetricChart($("#chart-metric")),
  cards: new TrainCards($("#train-cards")),
};
let data = null;
let controller = null;
let startedAt = 0;
let endedAt = 0;

/** What the status line and the message say, as functions of the current language. */
let statusText = null;
let messageText = null;

function setState(state) {
  root.dataset.train = state;
  ui.start.disabled = false;
  ui.stop.disabled = state !== "running";
}

/** The status line: `text` is a function giving it in the current language. */
function setStatus(text) {
  statusText = text;
  const words = text();
  if (ui.status.textContent !== words) ui.status.textContent = words;
}

function showMessage(text, tone = "error") {
  messageText = text;
  ui.message.hidden = false;
  ui.message.dataset.tone = tone;
  ui.message.querySelector(".message-text").textContent = text();
}

function hideMessage() {
  messageText = null;
  ui.message.hidden = true;
}

/** An error of the training as a function of the current language (an ApiError's message is
 * written anew in the current language each time it is read; the API's detail stays as sent). */
function errorText(e) {
  if (e instanceof ApiError) return () => e.message;
  return () => t("train.error.page", { reason: e.message });
}

function showEmpty(empty) {
  for (const el of document.querySelectorAll("[data-train-empty]")) el.hidden = !empty;
}

async function start() {
  const state = readControls();
  syncUrl();
  hideMessage();
  if (!state.models.length) {
    showMessage(() => t("train.message.no_models"), "info");
    return;
  }
  stop({ quiet: true });
  const mine = new AbortController();
  controller = mine;
  setState("running");
  setStatus(() => t("train.status.starting"));
  let begun = false;
  try {
    await streamTrain(requestBody(state), {
      signal: mine.signal,
      onEvent(name, ev) {
        if (mine !== controller) return;
        if (name === "start") {
          begun = true;
          begin(ev);
        } else if (name === "progress") {
          data.progress(ev);
          views.loss.progress(ev);
          views.maps.progress(ev);
        } else if (name === "eval") {
          data.eval(ev);
          views.metric.eval(ev);
        } else if (name === "done") {
          data.final = ev;
          views.cards.finish(ev);
        }
        kick();
      },
    });
    if (mine !== controller) return;
    controller = null;
    endedAt = performance.now();
    setState("done");
    const solved = data.final.models.filter((m) => m.solved).map((m) => m.label);
    const done = { steps: data.steps, seconds: ((endedAt - startedAt) / 1000).toFixed(1), models: solved.join(", ") };
    setStatus(() => (solved.length ? t("train.status.done.solved", done) : t("train.status.done.unsolved", done)));
  } catch (e) {
    if (mine !== controller) return;
    controller = null;
    endedAt = performance.now();
    if (e.name === "AbortError") return; // stop() has said so
    setState("error");
    showMessage(errorText(e));
    const at = begun ? { step: data.step, steps: data.steps } : null;
    setStatus(() => (at ? t("train.status.broken", at) : t("train.status.not_started")));
    if (begun) views.cards.interrupt("broken");
    if (!(e instanceof ApiError)) console.error(e);
  }
  kick();
}

function begin(ev) {
  data = new TrainData(ev);
  startedAt = performance.now();
  endedAt = 0;
  showEmpty(false);
  views.loss.begin(data, theme);
  views.maps.begin(data, theme);
  views.metric.begin(data, theme);
  views.cards.begin(data);
  writeMetricSub();
  const { task, seq_len: seqLen } = data.config;
  const models = data.models.map((m) => m.label).join(", ");
  setStatus(() => t("train.status.training", { models, task: TASK_NAME[task]?.() ?? task, seq_len: seqLen }));
}

/** The metric card's sentence: which metric, on how many sequences, how often, the baseline. */
function writeMetricSub() {
  if (!data) return;
  const values = { size: data.config.eval_size, every: data.config.eval_every, baseline: fmt(data.metricBaseline) };
  ui.metricSub.textContent = data.metric === "mse" ? t("train.metric.sub.mse", values)
    : t("train.metric.sub.accuracy", values);
}

/** Stop the training in flight: aborting the fetch disconnects, and the server stops. */
function stop({ quiet = false } = {}) {
  if (!controller) return;
  controller.abort();
  controller = null;
  endedAt = performance.now();
  if (quiet) return;
  setState("stopped");
  if (data) {
    const at = { step: data.step, steps: data.steps };
    setStatus(() => t("train.status.stopped", at));
    views.cards.interrupt("stopped");
  } else {
    setStatus(() => t("train.status.stopped.early"));
  }
  kick();
}

// ---------------------------------------------------------------- drawing (once per frame)

const FRAME_BUDGET_MS = 12;
let frame = 0;

function panels() {
  return [views.loss, ...views.maps.panels, views.metric];
}

function drawPanels() {
  return drawDirty(panels(), FRAME_BUDGET_MS);
}

function clock(seconds) {
  if (!Number.isFinite(seconds)) return "—";
  if (seconds < 10) return t("train.clock.seconds", { seconds: Math.max(0, seconds).toFixed(1) });
  const s = Math.round(seconds);
  return s >= 60 ? t("train.clock.minutes", { minutes: Math.floor(s / 60), seconds: String(s % 60).padStart(2, "0") })
    : t("train.clock.seconds", { seconds: s });
}

function updateProgress() {
  const step = data ? data.step : 0;
  const steps = data ? data.steps : 0;
  const percent = steps ? Math.min(100, (100 * step) / steps) : 0;
  ui.fill.style.width = `${percent}%`;
  ui.bar.setAttribute("aria-valuenow", String(Math.round(percent)));
  let text = t("train.progress.ready");
  if (data) {
    const end = endedAt || performance.now();
    const seconds = (end - startedAt) / 1000;
    const rate = seconds > 0 ? step / seconds : 0;
    const values = { step, steps, percent: Math.floor(percent), rate: rate >= 10 ? Math.round(rate) : rate.toFixed(1) };
    const state = root.dataset.train;
    const eta = rate > 0 ? clock((steps - step) / rate) : "—";
    if (state === "running") text = t("train.progress.running", { ...values, eta });
    else if (state === "done") text = t("train.progress.done", { ...values, elapsed: clock(seconds) });
    else if (state === "stopped") text = t("train.progress.stopped", values);
    else text = t("train.progress.error", values);
  } else if (root.dataset.train === "running") text = t("train.progress.waiting");
  const out = ui.progress;
  if (out.textContent !== text) out.textContent = text;
  out.dataset.step = String(step);
  out.dataset.percent = String(Math.floor(percent));
}

function tick() {
  frame = 0;
  let more = false;
  if (activeTab() === "train") {
    more = drawPanels();
    views.cards.sync();
  }
  updateProgress();
  const pending = panels().some((p) => p.dirty);
  root.dataset.trainSettled = String(!pending && root.dataset.train !== "running");
  if (more || root.dataset.train === "running" || (pending && activeTab() === "train")) kick();
}

function kick() {
  if (!frame) frame = requestAnimationFrame(tick);
}

// ---------------------------------------------------------------- tabs

function selectTab(name, { focus = false } = {}) {
  root.dataset.tab = name;
  for (const tab of ui.tabs) {
    const on = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`#${tab.getAttribute("aria-controls")}`).hidden = !on;
    if (on && focus) tab.focus();
  }
  syncUrl();
  // charts drawn while their tab was hidden take their size now
  window.dispatchEvent(new Event("resize"));
  kick();
}

for (const tab of ui.tabs) {
  tab.addEventListener("click", () => selectTab(tab.id.replace("tab-", "")));
  tab.addEventListener("keydown", (e) => {
    const i = ui.tabs.indexOf(tab);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: ui.tabs.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    const target = ui.tabs[(next + ui.tabs.length) % ui.tabs.length];
    selectTab(target.id.replace("tab-", ""), { focus: true });
  });
}

// ---------------------------------------------------------------- events

form.addEventListener("submit", (e) => {
  e.preventDefault();
  start();
});
form.addEventListener("input", () => {
  syncDependents();
  syncUrl();
});
form.addEventListener("change", () => {
  syncDependents();
  syncUrl();
});
ui.stop.addEventListener("click", () => stop());
$("#train-defaults").addEventListener("click", () => {
  writeControls({ ...TRAIN_DEFAULTS, models: [...TRAIN_DEFAULTS.models] });
  syncUrl();
});
document.addEventListener("keydown", (e) => {
  if (activeTab() !== "train" || e.key !== "Escape" || e.defaultPrevented || document.querySelector("dialog[open]")) return;
  if (controller) {
    e.preventDefault();
    stop();
  }
});

onLanguage(() => {
  // i18n.js has just written every [data-i18n] element; what this tab wrote is written again
  syncDependents();
  if (statusText) setStatus(statusText);
  if (messageText && !ui.message.hidden) showMessage(messageText, ui.message.dataset.tone);
  writeMetricSub();
  writeLimits();
  views.loss.relabel();
  views.maps.relabel();
  views.metric.relabel();
  views.cards.render();
  updateProgress();
});

onThemeChange((next) => {
  theme = next;
  views.loss.setTheme(theme);
  views.maps.setTheme(theme);
  views.metric.setTheme(theme);
  kick();
});

// ---------------------------------------------------------------- start-up

function init() {
  const { state, tab, problems } = parseTrainState(location.search);
  writeControls(state);
  setState("idle");
  if (problems.length) {
    showMessage(() => t("train.url.problems", { problems: problems.map((p) => p()).join("; ") }), "info");
  }
  if (tab === "train") selectTab("train");
  else root.dataset.tab = "explore";
  fetchMeta().then((meta) => {
    limits = meta.limits || {};
    writeLimits();
  }).catch(() => {}); // the explorer reports an unreachable server
  updateProgress();
}

/** The API's limits (GET /api/meta), once known. */
let limits = {};
const LIMITED = [
  ["train_seq_len", "seq_len_max", () => t("train.seq_len.title")],
  ["train_hidden_size", "hidden_size_max", () => t("train.hidden_size.title")],
  ["train_batch_size", "batch_size_max", () => t("train.batch_size.title")],
  ["train_steps", "steps_max", () => t("train.steps.title")],
  ["train_eval_size", "eval_size_max", () => t("train.eval_size.title")],
];

/** Each limited field's max and its title with the limit ("… — at most 2000"). */
function writeLimits() {
  const f = form.elements;
  for (const [field, key, title] of LIMITED) {
    if (!limits[key]) continue;
    f[field].max = String(limits[key]);
    f[field].title = t("train.limit.title", { title: title(), max: limits[key] });
  }
}

init();
