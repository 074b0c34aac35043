"""The page's colours and words, read from the files the page itself reads, for the Python figures.

- The data's colours (models, uploaded networks, gates, layers, the heatmaps' scales):
  `static/palette.json`, which the server also embeds in the page (static/js/theme.js).
- The page's own colours (text, surface, grid, axes, overflow, underflow) and its font: the
  CSS variables of `static/css/page.css`, light in `:root`, dark in its
  `@media (prefers-color-scheme: dark)` block — what `readTheme()` in theme.js reads in the browser.
- Words in English and Korean: `static/i18n/<lang>.json`, `{name}` placeholders as on the page.

Nothing here is a copy: change a colour or a word in those files and the page and the figures
follow together.
"""

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from gradient_flow_lab.app.paths import STATIC

LANGUAGES = ("en", "ko")
SCHEMES = ("light", "dark")

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_VARIABLE = re.compile(r"--([\w-]+)\s*:\s*([^;]+);")
_DARK_BLOCK = re.compile(r"@media\s*\(\s*prefers-color-scheme\s*:\s*dark\s*\)\s*\{\s*:root\s*\{([^}]*)\}")
_ROOT_BLOCK = re.compile(r"(?<![\w-]):root\s*\{([^}]*)\}")


@lru_cache(maxsize=1)
def palette() -> dict:
    """static/palette.json as a dict."""
    return json.loads((STATIC / "palette.json").read_text(encoding="utf-8"))


def css_variables(css: str) -> dict[str, dict[str, str]]:
    """{"light": {name: value}, "dark": {name: value}} of a stylesheet's custom properties: the
    first top-level `:root` block, and over it the dark scheme's `:root` block (comments ignored)."""
    css = _COMMENT.sub("", css)
    root = _ROOT_BLOCK.search(css)
    light = dict(_VARIABLE.findall(root.group(1))) if root else {}
    dark_block = _DARK_BLOCK.search(css)
    dark = {**light, **(dict(_VARIABLE.findall(dark_block.group(1))) if dark_block else {})}
    strip = lambda d: {k: " ".join(v.split()) for k, v in d.items()}  # noqa: E731
    return {"light": strip(light), "dark": strip(dark)}


@lru_cache(maxsize=1)
def page_variables() -> dict[str, dict[str, str]]:
    return css_variables((STATIC / "css" / "page.css").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Theme:
    """The colours a figure is drawn in: what static/js/theme.js's readTheme() gives the page."""

    scheme: str
    text: str
    muted: str
    surface: str
    grid: str
    axis: str
    hover_bg: str
    font: str
    overflow: str
    underflow: str
    models: dict[str, str]
    yours: tuple[str, ...]
    layers: tuple[str, ...]
    gates: dict[str, dict]
    gate_default: dict
    diverging: tuple[tuple[float, str], ...]
    sequential: str

    def model_colour(self, key: str, yours: int | None = None) -> str:
        """The colour of a model by its catalogue key, or of the `yours`-th uploaded network."""
        if yours is not None:
            return self.yours[yours % len(self.yours)]
        return self.models.get(key, self.text)

    def gate(self, name: str) -> dict:
        return self.gates.get(name, self.gate_default)


@lru_cache(maxsize=len(SCHEMES))
def theme(scheme: str = "light") -> Theme:
    """The page's colours in `scheme` ("light" or "dark")."""
    if scheme not in SCHEMES:
        raise ValueError(f"theme must be one of {list(SCHEMES)}, not {scheme!r}")
    css = page_variables()[scheme]
    p = palette()
    negative, positive = p["diverging"][scheme]
    return Theme(
        scheme=scheme,
        text=css["text"],
        muted=css["muted"],
        surface=css["surface"],
        grid=css["grid"],
        axis=css["axis"],
        hover_bg=css["surface-2"],
        font=css["font-sans"],
        overflow=css["overflow"],
        underflow=css["underflow"],
        models=dict(p["models"][scheme]),
        yours=tuple(p["yours"][scheme]),
        layers=tuple(p["layers"]["colours"]),
        gates=dict(p["gates"]),
        gate_default=dict(p["gate_default"]),
        diverging=((0.0, negative), (0.5, css["surface"]), (1.0, positive)),
        sequential=p["sequential"],
    )


@lru_cache(maxsize=len(LANGUAGES))
def messages(lang: str) -> dict[str, str]:
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {list(LANGUAGES)}, not {lang!r}")
    return json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def translator(lang: str):
    """`t(key, **values)`: the page's text of `key` in `lang`, `{name}` placeholders filled in."""
    words = messages(lang)

    def t(key: str, **values) -> str:
        text = words[key]
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    return t
