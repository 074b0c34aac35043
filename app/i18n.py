"""The page's text in each language: `static/i18n/<lang>.json`, one file per language, a flat
map of dotted keys to strings (some with a little HTML: <sub>, <sup>, <kbd>, <code>, <strong>,
<em>, <math>; the files are ours, never user input).

The page is rendered in the language the URL's `lang` asks for, else the browser's first
supported one (Accept-Language), else English; static/js/i18n.js switches it live.
"""

import json
import logging
import re
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

from gradient_flow_lab.app.catalogue import script_json
from gradient_flow_lab.app.paths import STATIC

log = logging.getLogger("gradient_flow_lab")

LANGUAGES = {"en": "English", "ko": "한국어"}
DEFAULT = "en"
I18N = STATIC / "i18n"


@lru_cache(maxsize=len(LANGUAGES))
def messages(lang: str, root: Path = I18N) -> dict[str, str]:
    return json.loads((root / f"{lang}.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=len(LANGUAGES))
def messages_json(lang: str) -> Markup:
    """The messages of `lang` as JSON to embed in a <script type="application/json">."""
    return script_json(messages(lang))


def choose(query_lang: str | None, accept_language: str | None) -> str:
    """`lang` from the URL when it is one we have, else the best match of Accept-Language."""
    if query_lang in LANGUAGES:
        return query_lang
    ranked = []
    for i, part in enumerate((accept_language or "").split(",")):
        m = re.fullmatch(r"\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*", part)
        if not m:
            continue
        try:
            q = float(m.group(2)) if m.group(2) else 1.0
        except ValueError:
            continue
        ranked.append((-q, i, m.group(1).lower()))
    for _, _, lang in sorted(ranked):
        if lang in LANGUAGES:
            return lang
    return DEFAULT


def translator(lang: str):
    """`t(key, **values)` for the templates: the text of `key` in `lang` (English when the
    language lacks it), `{name}` placeholders filled in, as markup."""
    own, fallback = messages(lang), messages(DEFAULT)

    def t(key: str, **values) -> Markup:
        text = own.get(key, fallback.get(key))
        if text is None:  # tests/test_i18n.py keeps this from happening; the page still renders
            log.warning("no text for %r in static/i18n/%s.json", key, DEFAULT)
            text = key
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(Markup.escape(value)))
        return Markup(text)

    return t
