// The sweeps' HTTP calls (API-2.md §5): POST /api/sweeps, POST /api/sweeps/plan, GET /api/sweeps/{id}, DELETE
// /api/sweeps/{id}, the mean-field theory's critical line, and the event stream GET /api/sweeps/{id}/events read with
// fetch() (so that it can be aborted and its failures said in words) through stream-client.js's
// SSE parser. Every failure is an ApiError whose message is written in the current language.

import { t } from "./i18n.js";
import { ApiError, SSEParser, errorFromResponse } from "./stream-client.js";

const JSON_HEADERS = { "Content-Type": "application/json", Accept: "application/json" };

async function call(url, options = {}) {
  let res;
  try {
    res = await fetch(url, { headers: JSON_HEADERS, ...options });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    const error = e.message;
    throw new ApiError(() => t("explore.api.network", { error }), { kind: "network" });
  }
  if (!res.ok) throw await errorFromResponse(res);
  return res.status === 204 ? null : res.json();
}

/** POST /api/sweeps: {id, status, total, done} (201 new, 200 known). */
export function submitSweep(body, signal) {
  return call("/api/sweeps", { method: "POST", body: JSON.stringify(body), signal });
}

/** POST /api/sweeps/plan: the sweep's size and the server's estimate of its time, unstarted. */
export function planSweep(body, signal) {
  return call("/api/sweeps/plan", { method: "POST", body: JSON.stringify(body), signal });
}

/** GET /api/sweeps/{id}: the status, the request and the results so far. */
export function fetchSweep(id, signal) {
  return call(`/api/sweeps/${encodeURIComponent(id)}`, { signal });
}

/** DELETE /api/sweeps/{id}: cancel its unfinished points. */
export function cancelSweep(id) {
  return call(`/api/sweeps/${encodeURIComponent(id)}`, { method: "DELETE" });
}

/** GET /api/theory/critical-line: the mean-field theory's χ₁ = 1 at each σ_b (`query`: its
 * parameters, {sigma_b: [...], hidden_size, activation}). */
export function fetchCriticalLine(query, signal) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    for (const v of [value].flat()) params.append(name, String(v));
  }
  return call(`/api/theory/critical-line?${params}`, { signal });
}

/**
 * GET /api/sweeps/{id}/events: onEvent(name, data) for each event in order — start (the status
 * and the canonical request), result (one finished point: {index, point, seed, results, error}),
 * progress, and the last: done, or end (an `error` event that ends a sweep cancelled or failed:
 * it names the status). Resolves after the last; rejects with an ApiError (an `error` event
 * without a status, a failure of the connection, a stream that ends before its last event) or
 * an AbortError when `signal` aborts.
 */
export async function sweepEvents(id, { signal, onEvent }) {
  let res;
  try {
    res = await fetch(`/api/sweeps/${encodeURIComponent(id)}/events`, { headers: { Accept: "text/event-stream" }, signal });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    const error = e.message;
    throw new ApiError(() => t("explore.api.network", { error }), { kind: "network" });
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
      failure = new ApiError(() => t("explore.api.unreadable", { name }), { kind: "stream" });
      return;
    }
    if (name === "error" && (data.status === "cancelled" || data.status === "failed")) {
      done = true;
      onEvent("end", data);
      return;
    }
    if (name === "error") {
      const detail = data.detail || t("explore.api.no_reason");
      failure = new ApiError(() => t("sweep.api.error", { detail }), { kind: "stream" });
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
      if (failure) break; // after the last event the server closes the stream itself
    }
    if (!failure && !done) parser.end();
  } catch (e) {
    if (e.name === "AbortError" || signal?.aborted) throw e;
    const error = e.message;
    throw new ApiError(() => t("sweep.api.broken", { error }), { kind: "broken" });
  }
  if (failure) {
    reader.cancel().catch(() => {});
    throw failure;
  }
  if (!done) {
    const n = events;
    throw new ApiError(() => t("sweep.api.ended", { n }), { kind: "broken" });
  }
}
