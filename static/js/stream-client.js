// Stream client: POST /api/runs/stream read with fetch() + ReadableStream (EventSource cannot
// POST), the Server-Sent Events wire format parsed here, every failure turned into an ApiError
// whose message can be shown to people as it is — in the page's current language: the message
// is re-written from its key whenever it is read, so a message on screen can follow a switch of
// language. The API's own `detail` is kept as the server sent it.

import { t } from "./i18n.js";

// Events are handled in slices of at most SLICE_MS of main-thread time. One chunk can hold
// hundreds of events (a T = 1000 run streams 24 MB), and chunks that queued up while the page
// was drawing are read back to back without the event loop getting a turn (awaiting a read that
// is already resolved is a microtask): parsing them in one go was one of the page's long tasks.
// Between slices the loop yields a task, so that a frame can be drawn and input handled.
const SLICE_MS = 40;

/** Resolves in a later task (after the input and the frame that are due). */
function nextTask() {
  if (globalThis.scheduler?.yield) return globalThis.scheduler.yield();
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A text, or a function that writes it in the current language. */
const say = (text) => (typeof text === "function" ? text() : text);

/** An error of the API or of the connection, in words. */
export class ApiError extends Error {
  /**
   * @param {string | () => string} message   what to show (a function: in the current language)
   * @param {object} info      {status, kind: "http" | "network" | "stream" | "broken", retryAfter, errors}
   */
  constructor(message, info = {}) {
    super(say(message));
    Object.defineProperty(this, "message", { get: () => say(message), configurable: true });
    this.name = "ApiError";
    this.status = info.status ?? null;
    this.kind = info.kind ?? "http";
    this.retryAfter = info.retryAfter ?? null;
    this.errors = info.errors ?? [];
  }
}

/**
 * The SSE wire format, incrementally: push() text as it arrives (events may be split across
 * chunks or arrive many per chunk); each complete event goes to onEvent(name, dataText, id).
 */
export class SSEParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.event = "";
    this.data = [];
    this.id = null;
  }

  push(text) {
    this.buffer += text;
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf("\n", start);
      if (nl < 0) break;
      let line = this.buffer.slice(start, nl);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      start = nl + 1;
      this.line(line);
    }
    this.buffer = this.buffer.slice(start);
  }

  /** The end of the stream: a last event without its blank line is still dispatched. */
  end() {
    if (this.buffer) this.line(this.buffer.replace(/\r$/, ""));
    this.buffer = "";
    this.line("");
  }

  line(line) {
    if (line === "") {
      if (this.data.length) this.onEvent(this.event || "message", this.data.join("\n"), this.id);
      this.reset();
      return;
    }
    if (line.startsWith(":")) return; // a comment (keep-alive ping)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id") this.id = value;
  }
}

/** The words around the API's `detail`, by status. */
const HTTP_MESSAGES = {
  413: (v) => t("explore.api.413", v),
  422: (v) => t("explore.api.422", v),
  503: (v) => (v.retry ? t("explore.api.503.retry", v) : t("explore.api.503", v)),
};

/** A non-2xx answer as an ApiError: its `detail` in the words of its status. */
export async function errorFromResponse(res) {
  let detail = null;
  let errors = [];
  try {
    const body = await res.json();
    detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    errors = Array.isArray(body.errors) ? body.errors : [];
  } catch {
    detail = res.statusText || null;
  }
  const retryAfter = res.headers.get("Retry-After");
  const { status } = res;
  const values = () => ({ status, detail: detail ?? t("explore.api.no_detail"), retry: retryAfter ?? "" });
  const write = HTTP_MESSAGES[status] || ((v) => t("explore.api.status", v));
  return new ApiError(() => write(values()), { status, kind: "http", retryAfter, errors });
}

/**
 * The seconds a busy server asked to wait before trying again (a 503 with Retry-After, or a
 * stream whose wait in line ran out), or null for any other error.
 */
export function retryAfter(e) {
  if (!(e instanceof ApiError) || e.status !== 503 || e.retryAfter == null) return null;
  const seconds = Number(e.retryAfter);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}

/**
 * POST `bodyText` to an SSE endpoint. onEvent(name, data) gets each event's parsed data in
 * order; while the request waits in the server's line for a slot, onQueued(position) gets its
 * place (1: next) instead, from each `queued` event. Resolves when `done` arrives; rejects with
 * an ApiError (non-2xx answer, an `error` event, a network failure, a stream that ends without
 * `done`) or an AbortError when `signal` aborts. A wait in line that runs out is an `error`
 * event with `retry_after`: it rejects like a 503 with that Retry-After. `noun` names what runs
 * ("run", "training"), `kept` says what happens to what arrived (each a text, or a function
 * that writes it in the current language).
 */
export async function streamEvents(url, bodyText, { signal, onEvent, onQueued, noun, kept }) {
  let res;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: bodyText,
      signal,
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    const error = e.message;
    throw new ApiError(() => t("explore.api.network", { error }), { kind: "network" });
  }
  if (!res.ok) throw await errorFromResponse(res);

  let done = false;
  let failure = null;
  let events = 0;
  const handle = (name, text) => {
    if (done || failure) return;
    let data;
    try {
      data = JSON.parse(text);
    } catch {
      events += 1;
      failure = new ApiError(() => t("explore.api.unreadable", { name }), { kind: "stream" });
      return;
    }
    if (name === "queued" && !events) {
      onQueued?.(data.position);
      return;
    }
    events += 1;
    if (name === "error" && data.retry_after != null) {
      const detail = data.detail || t("explore.api.no_reason");
      const retry = String(data.retry_after);
      failure = new ApiError(() => t("explore.api.503.retry", { detail, retry }), {
        status: 503, kind: "stream", retryAfter: retry,
      });
      return;
    }
    if (name === "error") {
      const detail = data.detail;
      failure = new ApiError(() => t("explore.api.stopped", {
        noun: say(noun), detail: detail || t("explore.api.no_reason"),
      }), { kind: "stream" });
      return;
    }
    if (name === "done") done = true;
    onEvent(name, data);
  };

  // parsed events wait here; drain() hands them on, a slice at a time
  let queue = [];
  let next = 0;
  const parser = new SSEParser((name, text) => queue.push([name, text]));
  let sliceStart = performance.now();
  const drain = async () => {
    while (next < queue.length && !failure) {
      if (performance.now() - sliceStart > SLICE_MS) {
        await nextTask();
        signal?.throwIfAborted();
        sliceStart = performance.now();
      }
      const [name, text] = queue[next++];
      handle(name, text);
    }
    queue = [];
    next = 0;
  };

  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const asked = performance.now();
      const { value, done: finished } = await reader.read();
      // a read that had to wait for the network resumes in a task of its own
      if (performance.now() - asked > 1) sliceStart = performance.now();
      if (finished) break;
      parser.push(value);
      await drain();
      if (failure) break;
    }
    if (!failure) {
      parser.end();
      await drain();
    }
  } catch (e) {
    if (e.name === "AbortError" || signal?.aborted) throw e;
    const error = e.message;
    const n = events;
    throw new ApiError(() => {
      const v = { n, error, kept: say(kept) };
      return n === 1 ? t("explore.api.broken.one", v) : t("explore.api.broken.many", v);
    }, { kind: "broken" });
  }
  if (failure) {
    reader.cancel().catch(() => {});
    throw failure;
  }
  if (!done) {
    const n = events;
    throw new ApiError(() => {
      const v = { n, noun: say(noun), kept: say(kept) };
      return n === 1 ? t("explore.api.ended.one", v) : t("explore.api.ended.many", v);
    }, { kind: "broken" });
  }
}

/** A run as a stream (POST /api/runs/stream): see streamEvents. */
export function streamRun(bodyText, { signal, onEvent, onQueued }) {
  return streamEvents("/api/runs/stream", bodyText, {
    signal, onEvent, onQueued, noun: () => t("explore.api.noun"), kept: () => t("explore.api.kept"),
  });
}

/** GET /api/meta: limits, γ of each activation, defaults. */
export async function fetchMeta(signal) {
  let res;
  try {
    res = await fetch("/api/meta", { signal, headers: { Accept: "application/json" } });
  } catch (e) {
    const error = e.message;
    throw new ApiError(() => t("explore.api.meta", { error }), { kind: "network" });
  }
  if (!res.ok) throw await errorFromResponse(res);
  return res.json();
}
