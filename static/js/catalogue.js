// The catalogue: the core's table of models (key, cell, activation, label, γ, whether |h| ≤ 1, the
// gates, whether the page offers it), of the run's fields (which `include` asks for each, which
// cells have it, which stream event carries it) and the data's colours (static/palette.json). The
// server writes it into the page as <script type="application/json" id="gfl-catalogue"> (the same
// object as GET /api/meta's "models", "fields" and "palette"); this module reads it once, at
// import, and is the page's only copy.
//
// Next to the core's models, the networks uploaded in this page (POST /api/weights) or trained
// by the server (the Train tab's "open in Explore"): what the server said of each and the name
// of its file, so that a model of a run is named the same way everywhere (modelLabel).

import { gammaLabel } from "./gradient-math.js";
import { t } from "./i18n.js";

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

/** The colours of the data (static/palette.json): models and uploaded networks per light/dark
 * scheme, gates, layers, the heatmaps' scales (theme.js reads them). */
export const PALETTE = Object.freeze(table.palette);

const BY_MODEL = new Map(table.models.map((m) => [`${m.cell}:${m.activation ?? ""}`, m.key]));

/** The key of an API model ({cell, activation}); an RNN without an activation is the API's
 * default, tanh. */
export function modelKey(m) {
  const activation = m.cell === "rnn" ? m.activation || "tanh" : "";
  return BY_MODEL.get(`${m.cell}:${activation}`) ?? m.cell;
}

export { gammaLabel };

// ---------------------------------------------------------------- uploaded networks

const NETWORKS = new Map(); // id → {info: the API's description, name: the file's name or null}

/** Keep what is known of network `id`: `info` (GET/POST /api/weights), `name` (its file's). */
export function registerNetwork(id, { info, name = null }) {
  const known = NETWORKS.get(id);
  NETWORKS.set(id, { info: info ?? known?.info ?? null, name: name ?? known?.name ?? null });
}

/** {info, name} of network `id`, or null. */
export function networkOf(id) {
  return NETWORKS.get(id) ?? null;
}

/** The catalogue's model a network was trained from by the server (its description's
 * `trained`: {model, task, seq_len, steps}), or null for an uploaded one. */
export function trainedFrom(id) {
  const trained = NETWORKS.get(id)?.info?.trained;
  return trained && MODELS[trained.model] ? MODELS[trained.model] : null;
}

/** A network's name: its file's; a trained one's by its model ("LSTM, trained"); else
 * "network 1a2b3c4" from its id. */
export function networkName(id) {
  const known = NETWORKS.get(id);
  if (known?.name) return known.name;
  const trained = trainedFrom(id);
  if (trained) return t("networks.trained", { model: trained.label });
  return t("networks.unnamed", { id: id.replace(/^sha256:/, "").slice(0, 7) });
}

/** A model in few words, for a chart's rows and legend: "LSTM · L2 →", "model.safet… · L1 ←"
 * (an uploaded network by its file's name, cut to `width` characters; the names made here —
 * "LSTM, trained", "network 1a2b3c4" — are short already and stay whole, since a cut one says
 * no more than "RNN (tanh), t…"). */
export function shortLabel(m, unit = null, width = 14) {
  let base = MODELS[modelKey(m)]?.label ?? m.cell.toUpperCase();
  if (m.weights) {
    const name = networkName(m.weights);
    const file = NETWORKS.get(m.weights)?.name === name;
    base = file && name.length > width ? `${name.slice(0, width - 1)}…` : name;
  }
  if (!unit || ((m.num_layers ?? 1) === 1 && !m.bidirectional)) return base;
  const key = unit.direction === "backward" ? "networks.unit.short.backward" : "networks.unit.short.forward";
  return `${base} · ${t(key, { layer: unit.layer })}`;
}

/** "2 layers · bidirectional" of a model ({num_layers, bidirectional}), "" for one layer, one way. */
export function depthLabel(m) {
  const parts = [];
  if ((m.num_layers ?? 1) > 1) parts.push(t("networks.layers", { n: m.num_layers }));
  if (m.bidirectional) parts.push(t("networks.bidirectional"));
  return parts.join(" · ");
}

/** "layer 2/2 →", "layer 1/2 ←": a (layer, direction) of a model of `n` layers. */
export function unitLabel(layer, direction, n) {
  return t(direction === "backward" ? "networks.unit.backward" : "networks.unit.forward", { layer, n });
}

/**
 * A run's model in words, in the current language: the catalogue's label ("LSTM",
 * "RNN (tanh)"), the file of an uploaded network, and — for a stacked or bidirectional model —
 * the (layer, direction) shown (`unit`), e.g. "LSTM · model.safetensors · layer 2/2 →". A
 * network the server trained is named by itself ("LSTM, trained": its name says the model).
 * @param m  a model of the run's `start` event with its `config` entry's `weights`
 */
export function modelLabel(m, unit = null) {
  const parts = [MODELS[modelKey(m)]?.label ?? m.cell.toUpperCase()];
  if (m.weights && trainedFrom(m.weights)?.key === modelKey(m)) parts[0] = networkName(m.weights);
  else if (m.weights) parts.push(networkName(m.weights));
  if (unit && ((m.num_layers ?? 1) > 1 || m.bidirectional)) parts.push(unitLabel(unit.layer, unit.direction, m.num_layers ?? 1));
  return parts.join(" · ");
}
