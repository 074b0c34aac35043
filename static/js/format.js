// Number formatting shared by the charts, the summary cards, the Train tab and the status line.
// The digits are the same in every language; the few words (“not finite”, “5 steps”) come from i18n.js.

import { t } from "./i18n.js";

const SUPERSCRIPT = {
  "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹",
  "-": "⁻", "+": "⁺", ".": "·",
};

/** "−12.3" → "⁻¹²·³" */
export function superscript(text) {
  return String(text).replace(/[0-9+.-]/g, (c) => SUPERSCRIPT[c]);
}

/** 10 to a (possibly fractional) power, written with superscripts: pow10(-12.34, 1) → "10⁻¹²·³". */
export function pow10(exponent, digits = 0) {
  const rounded = Number(exponent.toFixed(digits));
  return "10" + superscript(rounded === 0 ? "0" : String(rounded));
}

/** A number for people: 3 significant digits, scientific with × 10ⁿ when very large or small. */
export function fmt(x, digits = 3) {
  if (x === null || x === undefined) return "—";
  if (!Number.isFinite(x)) return t("explore.not_finite");
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e5) return String(Number(x.toPrecision(digits)));
  const e = Math.floor(Math.log10(a));
  const m = x / 10 ** e;
  return `${Number(m.toPrecision(digits))} × 10${superscript(String(e))}`;
}

/** A finite, positive number's log10, or null. */
export function log10OrNull(x) {
  return typeof x === "number" && x > 0 && Number.isFinite(x) ? Math.log10(x) : null;
}

/** "1 step" / "5 steps" (in Korean "1단계" / "5단계") */
export function steps(n) {
  return n === 1 ? t("explore.steps.one", { n }) : t("explore.steps.many", { n });
}

/** Text with _x / _{xy} subscripts and ^x / ^{xy} superscripts as DOM nodes:
 * rich("‖∂L/∂h_T‖·(γσ_{max})^{T−t}") → text, <sub>, <sup> nodes, for HTML labels. */
export function rich(text) {
  const out = [];
  const re = /([_^])(\{[^}]*\}|[\w−]+?(?=[^\w−]|$))/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    out.push(text.slice(last, m.index));
    const el = document.createElement(m[1] === "_" ? "sub" : "sup");
    el.textContent = m[2].replace(/^\{|\}$/g, "");
    out.push(el);
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out.filter((n) => n !== "");
}

/** The number of a held-out metric: "0.0003" (MSE) / "99.2 %" (accuracy) */
export function metricValue(metric, value) {
  if (value === null || value === undefined) return "—";
  if (metric === "mse") return fmt(value, 3);
  return t("train.percent", { value: Number((100 * value).toFixed(1)) });
}

/** The metric with its name: "MSE 0.0003" / "accuracy 99.2 %" */
export function metricText(metric, value) {
  if (value === null || value === undefined) return "—";
  const key = metric === "mse" ? "train.metric.mse" : "train.metric.accuracy";
  return t(key, { value: metricValue(metric, value) });
}
