"""The Train tab's presets (static/js/train-controls.js, PRESETS) trained in this process with the
core, each on its default seed: seconds, and whether each model solved the task. The page
promises "succeeds here in under two minutes"; a preset whose gated models do not all solve it is
marked FAIL. The reference, timed in the same run, is 100 steps of the tab's default training
(4 models, adding, T = 50), so the ratio says how a preset's cost compares on a loaded machine.

    .venv/bin/python -m benchmarks.bench_presets
"""

import json
import re
import time
from pathlib import Path

from gradient_flow_lab.app.resolve import resolve_train
from gradient_flow_lab.app.schemas import TrainRequest
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.core.catalogue import MODELS
from gradient_flow_lab.core.train import TrainDone, train

SOURCE = Path(__file__).resolve().parent.parent / "static" / "js" / "train-controls.js"
FIELDS = {
    "train_task": "task",
    "train_seq_len": "seq_len",
    "train_hidden_size": "hidden_size",
    "train_steps": "steps",
    "train_eval_every": "eval_every",
    "train_eval_size": "eval_size",
}


def presets() -> dict[str, dict]:
    """PRESETS as the page has it: the object literal, its keys quoted, read as JSON."""
    text = SOURCE.read_text(encoding="utf-8")
    literal = text.split("export const PRESETS = ", 1)[1].split("\n};", 1)[0] + "\n}"
    literal = re.sub(r"([{,]\s*)([a-z_]+):", r'\1"\2":', literal)
    literal = re.sub(r",\s*([}\]])", r"\1", literal)
    return json.loads(literal)


def request(preset: dict) -> dict:
    body = {FIELDS[k]: (v if k == "train_task" else int(v)) for k, v in preset.items() if k in FIELDS}
    models = []
    for key in preset["train_models"]:
        m = MODELS[key]
        models.append({"cell": m.cell, **({"activation": m.activation} if m.cell == "rnn" else {})})
    return {**body, "models": models}


def run(body: dict) -> tuple[float, list]:
    spec, _ = resolve_train(TrainRequest(**body), Settings())
    start = time.perf_counter()
    done = None
    for frame in train(spec):
        if isinstance(frame, TrainDone):
            done = frame
    return time.perf_counter() - start, done.models


def main():
    ref_seconds, _ = run({"steps": 100, "eval_every": 100, "eval_size": 200})
    print(f"reference: the default training, 100 steps: {ref_seconds:.1f} s")
    for name, preset in presets().items():
        body = request(preset)
        seconds, outcomes = run(body)
        gated = [o for o in outcomes if o.info.cell in ("lstm", "gru")]
        verdict = "ok" if gated and all(o.solved for o in gated) and seconds < 120 else "FAIL"
        models = ", ".join(f"{o.info.label} {o.metric} {o.value:.4g}{' solved' * o.solved}" for o in outcomes)
        print(f"{name}: {seconds:.1f} s ({seconds / ref_seconds:.1f}× the reference) — {models} — {verdict}")


if __name__ == "__main__":
    main()
