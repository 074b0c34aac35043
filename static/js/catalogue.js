// The catalogue: the core's table of models (key, cell, activation, label, γ, whether |h| ≤ 1, the
// gates, whether the page offers it) and of the run's fields (which `include` asks for each, which
// cells have it, which stream event carries it). The server writes it into the page as
// <script type="application/json" id="gfl-catalogue"> (the same object as GET /api/meta's
// "models" and "fields"); this module reads it once, at import, and is the page's only copy.

import { gammaLabel } from "./gradient-math.js";

function read() {
  const el = document.getElementById("gfl-catalogue");
  if (!el) throw new Error("the page has no catalogue (<script id=\"gfl-catalogue\">)");
  return JSON.parse(el.textContent);
}

const table = read();

/** key → {key, cell, activation, label, gamma, bounded, gates, page} */
export const MODELS = Object.freeze(Object.fromEntries(table.models.map((m) => [m.key, Object.freeze(m)])));

/** The keys the page offers, in the catalogue's order. */
export const MODEL_KEYS = Object.freeze(table.models.filter((m) => m.page).map((m) => m.key));

/** [{name, include, cells, event}]: `include` null = always sent (for those cells); `event`:
 * "forward" / "backward" (one value per step) or "summary" (the whole run at once). */
export const FIELDS = Object.freeze(table.fields.map((f) => Object.freeze(f)));

const BY_MODEL = new Map(table.models.map((m) => [`${m.cell}:${m.activation ?? ""}`, m.key]));

/** The key of an API model ({cell, activation}); an RNN without an activation is the API's
 * default, tanh. */
export function modelKey(m) {
  const activation = m.cell === "rnn" ? m.activation || "tanh" : "";
  return BY_MODEL.get(`${m.cell}:${activation}`) ?? m.cell;
}

export { gammaLabel };
