"""What the page and /api/meta learn of the core's tables: the models (key, label, γ, gates)
and the fields of a run's answer — one object, served as JSON and embedded in the page — and
the colours of the data (static/palette.json), which the Python figures read too."""

import json
from fractions import Fraction
from functools import lru_cache

from markupsafe import Markup

from gradient_flow_lab.app import fields
from gradient_flow_lab.app.paths import STATIC
from gradient_flow_lab.core import catalogue as core_catalogue
from gradient_flow_lab.core.teaching import lessons_as_dicts


def gamma_label(gamma: float) -> str:
    """γ as the page writes it: "1/4", "1"."""
    return str(Fraction(gamma).limit_denominator(64))


def catalogue() -> dict:
    models = [{**m, "gamma_label": None if m["gamma"] is None else gamma_label(m["gamma"])}
              for m in core_catalogue.as_dicts()]
    return {"models": models, "fields": fields.as_dicts(), "palette": palette()}


@lru_cache(maxsize=1)
def palette() -> dict:
    """The colours of models, gates, layers and heatmaps: static/palette.json, the one place
    they are written (gradient_flow_lab.figures reads the same file)."""
    return json.loads((STATIC / "palette.json").read_text(encoding="utf-8"))


def palette_css() -> Markup:
    """The models' and uploaded networks' colours as the page's CSS variables (--c-sigmoid, …,
    --c-yours-0, …; the swatches, cards and logo use them), light and dark, written from
    static/palette.json into the page's head: its stylesheet holds no second copy."""
    p = palette()

    def block(scheme: str) -> str:
        names = {f"--c-{key.removeprefix('rnn-')}": c for key, c in p["models"][scheme].items()}
        names |= {f"--c-yours-{i}": c for i, c in enumerate(p["yours"][scheme])}
        return " ".join(f"{name}: {colour};" for name, colour in names.items())

    return Markup(f":root {{ {block('light')} }}\n"
                  f"@media (prefers-color-scheme: dark) {{ :root {{ {block('dark')} }} }}")


def script_json(obj) -> Markup:
    """`obj` as JSON to embed in a <script type="application/json">: not ASCII-escaped (Korean
    stays one character per character), but with <, > and & escaped so the text can never
    close the element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


@lru_cache(maxsize=1)
def catalogue_json() -> Markup:
    return script_json(catalogue())


@lru_cache(maxsize=1)
def lessons_json() -> Markup:
    """The lessons, their states and claims (core/teaching.py LESSONS), embedded in the page."""
    return script_json(lessons_as_dicts())
