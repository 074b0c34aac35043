"""The Train tab's presets (static/js/train-controls.js, PRESETS) trained in this process with the
core, each on its default seed: seconds, and whether each model solved the task. The page
promises "succeeds here in under two minutes"; a preset whose gated models do not all solve it is
marked FAIL. The reference, timed in the same run, is 100 steps of the tab's default training
(4 models, adding, T = 50), so the ratio says how a preset's cost compares on a loaded machine;
beside each time, the process's CPU seconds and the machine's load average (1 min) at the end.

    .venv/bin/python -m benchmarks.bench_presets [name …]   # every preset, or the ones named
"""

import json
import os
import re
import sys
import time
from pathlib import Path

from gradient_flow_lab.app.resolve import resolve_train
from gradient_flow_lab.app.schemas import TrainRequest
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.core.catalogue import MODELS
from gradient_flow_lab.core.train import TrainDone, train

SOURCE = Path(__file__).resolve().parent.parent / "static" / "js" / "train-controls.js"
# a preset's key → its field in the request body (as static/js/state.js has it) and its type
FIELDS = {
    "train_task": ("task", str),
    "train_seq_len": ("seq_len", int),
    "train_hidden_size": ("hidden_size", int),
    "train_batch_size": ("batch_size", int),
    "train_lr": ("optimizer.lr", float),
    "train_clip": ("clip", float),
    "train_steps": ("steps", int),
    "train_eval_every": ("eval_every", int),
    "train_eval_size": ("eval_size", int),
}


def presets() -> dict[str, dict]:
    """PRESETS as the page has it: the object literal, its keys quoted, read as JSON."""
    text = SOURCE.read_text(encoding="utf-8")
    literal = text.split("export const PRESETS = ", 1)[1].split("\n};", 1)[0] + "\n}"
    literal = re.sub(r"([{,]\s*)([a-z_]+):", r'\1"\2":', literal)
    literal = re.sub(r",\s*([}\]])", r"\1", literal)
    return json.loads(literal)


def request(preset: dict) -> dict:
    body: dict = {}
    for key, value in preset.items():
        if key in FIELDS:
            path, kind = FIELDS[key]
            *outer, name = path.split(".")
            node = body
            for part in outer:
                node = node.setdefault(part, {})
            node[name] = kind(value)
    models = []
    for key in preset["train_models"]:
        m = MODELS[key]
        models.append({"cell": m.cell, **({"activation": m.activation} if m.cell == "rnn" else {})})
    return {**body, "models": models}


def run(body: dict) -> tuple[float, float, list]:
    """Wall seconds, CPU seconds and the outcomes of a training."""
    spec, _ = resolve_train(TrainRequest(**body), Settings())
    start, cpu = time.perf_counter(), time.process_time()
    done = None
    for frame in train(spec):
        if isinstance(frame, TrainDone):
            done = frame
    return time.perf_counter() - start, time.process_time() - cpu, done.models


def main():
    names = sys.argv[1:] or list(presets())
    ref_seconds, ref_cpu, _ = run({"steps": 100, "eval_every": 100, "eval_size": 200})
    print(f"reference: the default training, 100 steps: {ref_seconds:.1f} s "
          f"(CPU {ref_cpu:.1f} s, load {os.getloadavg()[0]:.1f})")
    for name in names:
        body = request(presets()[name])
        seconds, cpu, outcomes = run(body)
        gated = [o for o in outcomes if o.info.cell in ("lstm", "gru")]
        verdict = "PASS" if gated and all(o.solved for o in gated) and seconds < 120 else "FAIL"
        models = ", ".join(f"{o.info.label} {o.metric} {o.value:.4g}{' solved' * o.solved}" for o in outcomes)
        print(f"{name}: {seconds:.1f} s (CPU {cpu:.1f} s, load {os.getloadavg()[0]:.1f}; "
              f"{seconds / ref_seconds:.1f}× the reference) — {models} — {verdict}")


if __name__ == "__main__":
    main()
