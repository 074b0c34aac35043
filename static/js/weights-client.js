// The uploaded networks' endpoints: POST /api/weights (a .safetensors or .npz file of a PyTorch
// state_dict → what the server found in it, under the SHA-256 of its bytes) and
// GET /api/weights/{id} (the same, while the server keeps the file; 404 once it is gone).
// Failures are ApiErrors whose message is the API's `detail` in the page's words.

import { t } from "./i18n.js";
import { ApiError } from "./stream-client.js";

async function detailOf(res) {
  try {
    const body = await res.json();
    return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch {
    return res.statusText || t("explore.api.no_detail");
  }
}

async function request(url, init) {
  try {
    return await fetch(url, { ...init, headers: { Accept: "application/json", ...init?.headers } });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    const error = e.message;
    throw new ApiError(() => t("explore.api.network", { error }), { kind: "network" });
  }
}

/** Upload `file` (a File); `prefix`, `headPrefix`: the state_dict's key prefixes when the file
 * holds several networks (blank: found by the server). Resolves to the description. */
export async function uploadWeights(file, { prefix = "", headPrefix = "", signal } = {}) {
  const form = new FormData();
  form.append("file", file, file.name);
  if (prefix.trim()) form.append("prefix", prefix.trim());
  if (headPrefix.trim()) form.append("head_prefix", headPrefix.trim());
  const res = await request("/api/weights", { method: "POST", body: form, signal });
  if (res.status === 201 || res.ok) return res.json();
  const detail = await detailOf(res);
  const { status } = res;
  const key = { 413: "networks.error.413", 415: "networks.error.415", 422: "networks.error.422" }[status];
  throw new ApiError(() => (key ? t(key, { detail }) : t("explore.api.status", { status, detail })), { status });
}

/** What the server keeps under `id`, or null when it no longer has it (404). */
export async function describeWeights(id, { signal } = {}) {
  const res = await request(`/api/weights/${encodeURIComponent(id)}`, { signal });
  if (res.status === 404) return null;
  if (res.ok) return res.json();
  const detail = await detailOf(res);
  const { status } = res;
  throw new ApiError(() => t("explore.api.status", { status, detail }), { status });
}

/** A run as one answer (POST /api/runs): the export asks again for what the stream did not
 * carry (the parameters, the inputs and targets). */
export async function fetchRun(body, { signal } = {}) {
  const res = await request("/api/runs", {
    method: "POST", body: JSON.stringify(body), signal, headers: { "Content-Type": "application/json" },
  });
  if (res.ok) return res.json();
  const detail = await detailOf(res);
  const { status } = res;
  throw new ApiError(() => t("explore.api.status", { status, detail }), { status });
}
