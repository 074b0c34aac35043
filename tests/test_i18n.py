"""The page's two languages: every key in both files, every key the page uses defined, the
same placeholders and markup in both, the language chosen from the URL or the browser."""

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gradient_flow_lab.app import i18n
from gradient_flow_lab.app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
FILES = {lang: json.loads((ROOT / "static" / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
         for lang in i18n.LANGUAGES}
EN, KO = FILES["en"], FILES["ko"]
HANGUL = re.compile(r"[\uac00-\ud7a3]")
JS = sorted((ROOT / "static" / "js").rglob("*.js"))


def used_keys() -> dict[str, set[str]]:
    """Keys the templates and the ES modules name literally, by file."""
    patterns = [
        re.compile(r"""\bt\(\s*["']([\w.-]+)["']"""),  # t("key") in templates and JS
        re.compile(r"""\bnodes\(\s*["']([\w.-]+)["']"""),
        re.compile(r"""data-i18n=["']([\w.-]+)["']"""),
    ]
    attrs = re.compile(r"""data-i18n-attrs=["']([^"']+)["']""")

    def keys_in(text: str) -> set[str]:
        keys = {m for p in patterns for m in p.findall(text)}
        for spec in attrs.findall(text):
            keys |= {pair.split("=", 1)[1].strip() for pair in spec.split(";") if "=" in pair}
        return {k for k in keys if "{" not in k}  # a key a template builds: see the rendered page

    found = {}
    for path in [*(ROOT / "templates").glob("*.html"), *JS]:
        if path.name == "i18n.js":  # the mechanism itself (its comments show the syntax)
            continue
        found[str(path.relative_to(ROOT))] = keys_in(path.read_text(encoding="utf-8"))
    # the page as served, in which the keys built from the model catalogue are written out
    found["the rendered page"] = keys_in(TestClient(create_app()).get("/?lang=en").text)
    return found


def test_both_languages_have_the_same_keys():
    assert sorted(set(EN) - set(KO)) == []
    assert sorted(set(KO) - set(EN)) == []


@pytest.mark.parametrize("name", sorted(used_keys()))
def test_every_key_the_page_uses_is_defined(name):
    assert sorted(used_keys()[name] - set(EN)) == []


def test_every_defined_key_is_used_somewhere():
    used = set().union(*used_keys().values())
    for path in JS:  # keys chosen by a condition: t(ok ? "a" : "b")
        used |= set(re.findall(r"""["']([a-z]+\.[\w.-]+)["']""", path.read_text(encoding="utf-8"))) & set(EN)
    # keys built at run time from a prefix and a value of the data (`lessons.${id}.title`, …)
    dynamic = set()
    for path in JS:
        dynamic |= set(re.findall(r"""`([a-z][\w.-]*)\.\$\{""", path.read_text(encoding="utf-8")))
    unused = [k for k in EN if k not in used and not any(k.startswith(p + ".") for p in dynamic)]
    assert unused == []


@pytest.mark.parametrize("key", sorted(EN))
def test_placeholders_and_markup_match(key):
    def shape(text):
        return (sorted(re.findall(r"\{(\w+)\}", text)),
                sorted(re.findall(r"</?(sub|sup|kbd|code|math|mi|mo|mn|msub|msup|mfrac|mrow|strong|em|b|i)\b",
                                  text)))
    assert shape(KO[key]) == shape(EN[key])


def test_korean_is_korean():
    """Every Korean string that has words in it has Hangul (nothing left in English by mistake),
    except the few that are names or notation only."""
    notation = re.compile(r"<[^>]+>|&\w+;|\{\w+\}|\b(tanh|sigmoid|relu|diag)\b")
    untranslated = [k for k, v in KO.items()
                    if re.search(r"[A-Za-z]{4,}", notation.sub("", v))
                    and not HANGUL.search(v) and v == EN[k]
                    and not re.fullmatch(r"[A-Z][\w ()·/-]*", v)]  # names such as "LSTM", "RNN (tanh)"
    assert untranslated == []


@pytest.mark.parametrize(("query", "accept", "expected"), [
    (None, None, "en"),
    ("ko", None, "ko"),
    ("en", "ko-KR,ko;q=0.9", "en"),
    (None, "ko-KR,ko;q=0.9,en;q=0.8", "ko"),
    (None, "fr-FR,fr;q=0.9,ko;q=0.8,en;q=0.5", "ko"),
    (None, "en-GB;q=0.3, ko;q=0.7", "ko"),
    (None, "de, fr", "en"),
    ("xx", "garbage;;q=abc,,", "en"),
])
def test_language_choice(query, accept, expected):
    assert i18n.choose(query, accept) == expected


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


@pytest.mark.parametrize(("url", "headers", "lang"), [
    ("/", {}, "en"),
    ("/?lang=ko", {}, "ko"),
    ("/", {"Accept-Language": "ko-KR,ko;q=0.9"}, "ko"),
    ("/?lang=en", {"Accept-Language": "ko"}, "en"),
])
def test_the_page_is_rendered_in_the_chosen_language(client, url, headers, lang):
    r = client.get(url, headers=headers)
    assert r.status_code == 200
    assert f'<html lang="{lang}"' in r.text
    assert f'data-lang="{lang}"' in r.text
    assert "Accept-Language" in r.headers.get("vary", "")
    body = r.text.split("</head>")[1]
    if lang == "ko":
        assert HANGUL.search(body.replace("한국어", ""))
    embedded = re.search(r'id="i18n-messages" data-lang="\w+">(.*?)</script>', r.text, re.S).group(1)
    assert json.loads(embedded) == FILES[lang]
