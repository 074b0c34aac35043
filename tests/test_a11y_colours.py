"""The page's colours, computed from the values the page uses (static/palette.json for the data,
the CSS variables of static/css/page.css for the page), in both themes:

- text: WCAG 2.1 contrast ≥ 4.5:1 against every background it is written on;
- chart lines (models, uploaded networks, gates, layers): ≥ 3:1 against the chart's background;
- the lines told apart by colour alone — the models the page offers and the networks uploaded
  by the user ("yours") — stay apart under simulated protanopia, deuteranopia and tritanopia
  (Machado, Oliveira & Fernandes 2009, severity 1, applied in linear RGB): every pair of them
  differs by a CIE76 ΔE of at least MIN_DELTA_E.
"""

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from gradient_flow_lab import style
from gradient_flow_lab.app.catalogue import palette_css
from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.core.catalogue import MODEL_KINDS

ROOT = Path(__file__).resolve().parent.parent
PALETTE = json.loads((ROOT / "static" / "palette.json").read_text(encoding="utf-8"))
CSS = (ROOT / "static" / "css" / "page.css").read_text(encoding="utf-8")
SCHEMES = ("light", "dark")

# Machado et al. 2009, "A Physiologically-based Model for Simulation of Color Vision Deficiency",
# the matrices for severity 1.0, on linear RGB
CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868],
                   [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968],
                     [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779],
                   [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
    "normal": np.eye(3).tolist(),
}
# a ΔE of 2.3 is a just noticeable difference; lines 10 apart are told apart at a glance
MIN_DELTA_E = 10.0


def css_variables(scheme: str) -> dict[str, str]:
    """The page's variables in a scheme: :root's, and for dark those its media query overrides."""
    root = re.search(r"^:root \{(.*?)^\}", CSS, re.S | re.M).group(1)
    values = dict(re.findall(r"(--[\w-]+):\s*([^;]+);", root))
    if scheme == "dark":
        dark = re.search(r"@media \(prefers-color-scheme: dark\) \{\s*:root \{(.*?)\}", CSS, re.S).group(1)
        values.update(re.findall(r"(--[\w-]+):\s*([^;]+);", dark))
    return {k: v.strip() for k, v in values.items()}


def linear(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    c = np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)]) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def luminance(hex_colour: str) -> float:
    return float(np.dot([0.2126, 0.7152, 0.0722], linear(hex_colour)))


def contrast(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio."""
    dark, light = sorted([luminance(a), luminance(b)])
    return (light + 0.05) / (dark + 0.05)


def lab(rgb_linear: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of a linear sRGB colour."""
    xyz = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                    [0.0193339, 0.1191920, 0.9503041]]) @ np.clip(rgb_linear, 0, 1)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: str, b: str, vision: str) -> float:
    m = np.array(CVD[vision])
    return float(np.linalg.norm(lab(m @ linear(a)) - lab(m @ linear(b))))


# (text variable, backgrounds it is written on)
TEXTS = {
    "--text": ["--bg", "--surface", "--surface-2"],
    "--muted": ["--bg", "--surface", "--surface-2"],
    "--accent": ["--bg", "--surface"],  # links, the link buttons
    "--accent-text": ["--accent"],  # the primary buttons
    "--danger": ["--surface"],
    "--ink-sigmoid": ["--bg", "--surface"],
    "--ink-tanh": ["--bg", "--surface", "--surface-2"],
    "--ink-overflow": ["--surface"],
    "--ink-underflow": ["--surface"],
}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("text", sorted(TEXTS))
def test_text_has_at_least_4_5_to_1_contrast(scheme, text):
    v = css_variables(scheme)
    for background in TEXTS[text]:
        ratio = contrast(v[text], v[background])
        assert ratio >= 4.5, f"{scheme}: {text} {v[text]} on {background} {v[background]}: {ratio:.2f}:1"


def chart_lines(scheme: str) -> dict[str, str]:
    lines = {f"model {k}": c for k, c in PALETTE["models"][scheme].items()}
    lines |= {f"yours {i}": c for i, c in enumerate(PALETTE["yours"][scheme])}
    lines |= {f"gate {k}": g["colour"] for k, g in PALETTE["gates"].items()}
    lines |= {f"layer {i}": c for i, c in enumerate(PALETTE["layers"]["colours"])}
    # the swatches and card borders of the page: the variables its head is given (palette_css)
    swatches = style.css_variables(str(palette_css()))[scheme]
    for key in PALETTE["models"][scheme]:
        lines[f"swatch {key}"] = swatches[f"c-{key.removeprefix('rnn-')}"]
    return lines


@pytest.mark.parametrize("scheme", SCHEMES)
def test_chart_lines_have_at_least_3_to_1_contrast_with_the_chart(scheme):
    surface = css_variables(scheme)["--surface"]  # the charts' paper and plot (theme.js)
    low = {name: round(contrast(c, surface), 2) for name, c in chart_lines(scheme).items()
           if contrast(c, surface) < 3}
    assert low == {}, f"{scheme}: lines under 3:1 on {surface}: {low}"


def test_the_pages_swatches_are_the_palettes_colours():
    """The page's head carries the swatch variables written from the palette file, and its
    stylesheet none of its own (a second copy would drift)."""
    page = TestClient(create_app()).get("/").text
    head = style.css_variables(re.search(r'<style id="gfl-palette">(.*?)</style>', page, re.S).group(1))
    for scheme in SCHEMES:
        models, yours = PALETTE["models"][scheme], PALETTE["yours"][scheme]
        assert {k: head[scheme][f"c-{k.removeprefix('rnn-')}"] for k in models} == models
        assert [head[scheme][f"c-yours-{i}"] for i in range(len(yours))] == yours
    assert not re.search(r"--c-(sigmoid|tanh|relu|linear|lstm|gru|yours-\d)\s*:", CSS)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_model_the_page_offers_has_a_colour(scheme):
    assert sorted(PALETTE["models"][scheme]) == sorted(k.key for k in MODEL_KINDS if k.page)


def coloured_lines(scheme: str) -> dict[str, str]:
    """The lines a chart tells apart by colour alone: every model and every uploaded network
    (a run may show all of them together)."""
    return {**{f"model {k}": c for k, c in PALETTE["models"][scheme].items()},
            **{f"yours {i}": c for i, c in enumerate(PALETTE["yours"][scheme])}}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("vision", sorted(CVD))
def test_line_colours_stay_apart_under_colour_vision_deficiencies(scheme, vision):
    lines = coloured_lines(scheme)
    pairs = itertools.combinations(lines, 2)
    distances = {f"{a}/{b}": delta_e(lines[a], lines[b], vision) for a, b in pairs}
    close = {pair: round(d, 1) for pair, d in distances.items() if d < MIN_DELTA_E}
    assert close == {}, f"{scheme}, {vision}: lines closer than ΔE {MIN_DELTA_E}: {close}"


def test_the_simulation_is_the_standard_one():
    """Machado's matrices keep white white and make the confused pairs of each deficiency alike:
    red and green for the red-green ones, blue and green for tritanopia."""
    for m in CVD.values():
        assert np.allclose(np.array(m) @ np.ones(3), 1, atol=1e-3)
    assert delta_e("#d62728", "#2ca02c", "normal") > 70
    assert delta_e("#ff0000", "#9c9c00", "deuteranopia") < delta_e("#ff0000", "#9c9c00", "normal") / 3
    assert delta_e("#0000ff", "#00a0a0", "tritanopia") < delta_e("#0000ff", "#00a0a0", "normal") / 2
