"""The Train tab's presets (static/js/train-controls.js, PRESETS, read as benchmarks/bench_presets.py
reads them): each is a training the API accepts within its default limits, the one the benchmark
times, and the tab's menu offers it. No training runs here: bench_presets measures them."""

import importlib.util
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.resolve import resolve_train
from gradient_flow_lab.app.schemas import TrainRequest
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.core.tasks import TASKS

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_presets", ROOT / "benchmarks" / "bench_presets.py")
bench_presets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_presets)
PRESETS = bench_presets.presets()


def test_every_task_has_a_preset():
    assert sorted(PRESETS) == sorted(TASKS)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_preset_is_a_valid_training_within_the_limits(name):
    body = bench_presets.request(PRESETS[name])
    spec, config = resolve_train(TrainRequest.model_validate(body), Settings())
    assert spec.task == name and config["task"] == name
    assert {m.cell for m in spec.models} >= {"lstm", "gru"}  # the gated models the preset promises


@pytest.fixture(scope="module")
def menus():
    """The Train tab's preset menu as the page serves it, in each language."""
    client = TestClient(create_app(Settings()))
    out = {}
    for lang in ("en", "ko"):
        html = client.get("/", params={"lang": lang}).text
        out[lang] = html.split('<select id="train_preset"', 1)[1].split("</select>", 1)[0]
    return out


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_menu_offers_each_preset(menus, name, lang):
    words = json.loads((ROOT / "static" / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    key = f"train.preset.{name}"
    option = re.search(rf'<option value="{name}" data-i18n="{re.escape(key)}">([^<]*)</option>', menus[lang])
    assert option and option.group(1) == words[key]
