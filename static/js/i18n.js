// The page's text in English and Korean: static/i18n/<lang>.json (one file per language, flat
// dotted keys). The server renders the page in one language and embeds its messages as
// <script type="application/json" id="i18n-messages" data-lang="…">; this module switches live.
//
// In the markup:  data-i18n="key"                      the element's content (HTML allowed)
//                 data-i18n-attrs="title=key;aria-label=key2"   attributes
// In code:        t("key", {name: value})  → text with {name} filled in
//                 onLanguage(callback)     → re-render what code wrote when the language changes
// The language lives in the URL as `lang` (state.js; main.js writes it on a switch).

export const LANGUAGES = { en: "English", ko: "한국어" };
const DEFAULT = "en";

const embedded = document.getElementById("i18n-messages");
const cache = new Map();
let current = embedded?.dataset.lang || document.documentElement.lang || DEFAULT;
let messages = embedded ? JSON.parse(embedded.textContent) : {};
cache.set(current, messages);
const listeners = [];

export function language() {
  return current;
}

/** The text of `key` in the current language, `{name}` placeholders filled from `values`. An
 * unknown key is returned as itself (tests/test_i18n.py checks that none is). */
export function t(key, values = {}) {
  let text = messages[key];
  if (text === undefined) {
    console.warn(`i18n: no text for “${key}”`);
    text = key;
  }
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}

/** Whether the current language has `key`. */
export function has(key) {
  return key in messages;
}

/** `t(key, values)` as DOM nodes (for texts with markup such as <sub>, <math>). */
export function nodes(key, values = {}) {
  const tpl = document.createElement("template");
  tpl.innerHTML = t(key, values);
  return [...tpl.content.childNodes];
}

function setContent(el, text) {
  if (/[<&]/.test(text)) el.innerHTML = text;
  else el.textContent = text;
}

/** Fill every [data-i18n] and [data-i18n-attrs] element under `root` in the current language. */
export function apply(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) setContent(el, t(el.dataset.i18n));
  for (const el of root.querySelectorAll("[data-i18n-attrs]")) {
    for (const pair of el.dataset.i18nAttrs.split(";")) {
      const [attr, key] = pair.split("=").map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}

/** Call `callback(lang)` after every change of language. */
export function onLanguage(callback) {
  listeners.push(callback);
}

async function load(lang) {
  if (!cache.has(lang)) {
    const response = await fetch(new URL(`../i18n/${lang}.json`, import.meta.url));
    if (!response.ok) throw new Error(`could not load the ${LANGUAGES[lang] || lang} texts (HTTP ${response.status})`);
    cache.set(lang, await response.json());
  }
  return cache.get(lang);
}

/** Switch the page to `lang` without reloading: the markup, then every listener (which writes
 * what code wrote again, and the URL's `lang`). */
export async function setLanguage(lang) {
  if (!(lang in LANGUAGES)) return;
  messages = await load(lang);
  current = lang;
  document.documentElement.lang = lang;
  apply();
  for (const callback of listeners) callback(lang);
}

/** Wire a <select> of languages. */
export function bindLanguageSelect(select) {
  if (!select) return;
  select.value = current;
  select.addEventListener("change", () => {
    setLanguage(select.value).catch((err) => {
      select.value = current;
      console.error(err);
    });
  });
  onLanguage((lang) => { select.value = lang; });
}
