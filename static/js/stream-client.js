// Stream client: POST /api/runs/stream read with fetch() + ReadableStream (EventSource cannot
// POST), the Server-Sent Events wire format parsed here, every failure turned into an ApiError
// whose message can be shown to people as it is.

/** An error of the API or of the connection, in words. */
export class ApiError extends Error {
  /**
   * @param {string} message   what to show
   * @param {object} info      {status, kind: "http" | "network" | "stream" | "broken", retryAfter, errors}
   */
  constructor(message, info = {}) {
    super(message);
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

async function errorFromResponse(res) {
  let detail = "";
  let errors = [];
  try {
    const body = await res.json();
    detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    errors = Array.isArray(body.errors) ? body.errors : [];
  } catch {
    detail = res.statusText || "no explanation was given";
  }
  const retryAfter = res.headers.get("Retry-After");
  const what = {
    413: "The request is too large",
    422: "The API did not accept these settings",
    503: "The server is busy",
  }[res.status] || `The server answered ${res.status}`;
  let message = `${what}: ${detail}`;
  if (res.status === 503 && retryAfter) message += ` (Retry-After: ${retryAfter} s — try again then)`;
  return new ApiError(message, { status: res.status, kind: "http", retryAfter, errors });
}

/**
 * POST `bodyText` to an SSE endpoint. onEvent(name, data) gets each event's parsed data in
 * order. Resolves when `done` arrives; rejects with an ApiError (non-2xx answer, an `error`
 * event, a network failure, a stream that ends without `done`) or an AbortError when `signal`
 * aborts. `noun` names what runs ("run", "training"), `kept` says what happens to what arrived.
 */
export async function streamEvents(url, bodyText, { signal, onEvent, noun, kept }) {
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
    throw new ApiError(`Could not reach the server (${e.message}). Is it running?`, { kind: "network" });
  }
  if (!res.ok) throw await errorFromResponse(res);

  let done = false;
  let failure = null;
  let events = 0;
  const parser = new SSEParser((name, text) => {
    if (done || failure) return;
    events += 1;
    let data;
    try {
      data = JSON.parse(text);
    } catch {
      failure = new ApiError(`The stream sent an unreadable “${name}” event.`, { kind: "stream" });
      return;
    }
    if (name === "error") {
      failure = new ApiError(`The server stopped the ${noun}: ${data.detail || "no reason given"}`,
        { kind: "stream" });
      return;
    }
    if (name === "done") done = true;
    onEvent(name, data);
  });

  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done: finished } = await reader.read();
      if (finished) break;
      parser.push(value);
      if (failure) break;
    }
    if (!failure) parser.end();
  } catch (e) {
    if (e.name === "AbortError" || signal?.aborted) throw e;
    throw new ApiError(`The stream broke off after ${events} events (${e.message}); ${kept}`,
      { kind: "broken" });
  }
  if (failure) {
    reader.cancel().catch(() => {});
    throw failure;
  }
  if (!done) {
    throw new ApiError(`The stream ended after ${events} events without finishing the ${noun}; ${kept}`,
      { kind: "broken" });
  }
}

/** A run as a stream (POST /api/runs/stream): see streamEvents. */
export function streamRun(bodyText, { signal, onEvent }) {
  return streamEvents("/api/runs/stream", bodyText, {
    signal, onEvent, noun: "run", kept: "what arrived is kept. Press Run to try again.",
  });
}

/** GET /api/meta: limits, γ of each activation, defaults. */
export async function fetchMeta(signal) {
  let res;
  try {
    res = await fetch("/api/meta", { signal, headers: { Accept: "application/json" } });
  } catch (e) {
    throw new ApiError(`Could not reach the server for its limits (${e.message}).`, { kind: "network" });
  }
  if (!res.ok) throw await errorFromResponse(res);
  return res.json();
}
