"""The training demonstration, timed model by model.

    .venv/bin/python benchmarks/bench_train.py [--quick]

The contract's demonstration (docs: POST /api/train/stream, example "adding"): the adding
problem at T = 50, H = 32, B = 64, Adam (lr 1e-2), global-norm clipping at 1.0, 1500 steps,
an evaluation on 1000 held-out sequences every 100 steps; models: sigmoid RNN, tanh RNN,
LSTM, GRU. Expected: the LSTM and the GRU solve it (held-out MSE < 0.01), the vanilla RNNs
stay near the baseline 1/6.

Each model is its own TrainSpec, so each is timed alone. That changes no number: the weights
depend only on the seed and the cell type and the batches only on the seed, so a model
trains exactly as it would beside the others (tests/test_train_core.py checks this).
"seconds" is the whole training of one model, evaluations included; "steps/s" is steps over
those seconds. The target is < 60 s per model; on a shared machine the time varies with the
load, so it is reported (PASS/MISS), never asserted.

`--quick` runs the short variant of tests/test_train_core.py (T = 50, H = 16, B = 32, lr 2e-2,
600 steps, 500 held-out sequences), which separates the two groups as well, in < 30 s.
"""

import os
import sys
import time
from pathlib import Path

# One BLAS thread, set before numpy loads, as app/__init__.py does for the server: training is
# timed the way it is served. An explicit OPENBLAS_NUM_THREADS in the environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the working tree's core

from benchmarks.common import machine_line, parse_args, status, table
from gradient_flow_lab.core.run import ModelSpec
from gradient_flow_lab.core.train import Evaluation, TrainDone, TrainSpec, train

MODELS = (ModelSpec("rnn", "sigmoid"), ModelSpec("rnn", "tanh"), ModelSpec("lstm"), ModelSpec("gru"))
FULL = {"task": "adding", "seq_len": 50, "hidden_size": 32, "batch_size": 64, "optimizer": "adam",
        "lr": 1e-2, "clip": 1.0, "steps": 1500, "eval_every": 100, "eval_size": 1000, "seed": 0}
QUICK = {**FULL, "hidden_size": 16, "batch_size": 32, "lr": 2e-2, "steps": 600, "eval_every": 100,
         "eval_size": 500}
SECONDS_PER_MODEL = 60.0  # the target of the full form
SECONDS_QUICK = 30.0  # the target of the quick form, all four models
GATED = ("lstm", "gru")


def train_one(model: ModelSpec, config: dict) -> tuple[TrainDone, list[float], float]:
    """The final outcome, the held-out MSE at every evaluation, and the seconds it took."""
    start = time.perf_counter()
    curve = []
    for frame in train(TrainSpec(models=(model,), **config)):
        if isinstance(frame, Evaluation):
            curve.append(frame.value)
    seconds = time.perf_counter() - start
    assert isinstance(frame, TrainDone)
    return frame, curve, seconds


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    config = QUICK if args.quick else FULL
    print(f"training demonstration ({'quick' if args.quick else 'full'}): {config}")
    print(machine_line())
    rows, curves, verdicts, times = [], [], [], []
    for model in MODELS:
        done, curve, seconds = train_one(model, config)
        (outcome,) = done.models
        times.append(seconds)
        rows.append([outcome.info.label, f"{outcome.value:.4f}", "yes" if outcome.solved else "no",
                     f"{seconds:.1f}", f"{config['steps'] / seconds:.1f}"])
        curves.append(f"  {outcome.info.label:14s} " + " ".join(f"{v:.4f}" for v in curve))
        verdicts.append(outcome.solved == (model.cell in GATED))
    print()
    print(table(["model", "final held-out MSE", "solved", "seconds", "steps/s"], rows))
    print(f"\nheld-out MSE every {config['eval_every']} steps (baseline 1/6 ≈ 0.1667):")
    print("\n".join(curves))
    print(f"\ndemonstration (LSTM and GRU solved, the RNNs not): {status(all(verdicts))}")
    if args.quick:
        print(f"time: {sum(times):.1f} s in all, target < {SECONDS_QUICK:.0f} s: "
              f"{status(sum(times) < SECONDS_QUICK)}")
    else:
        print(f"time: slowest model {max(times):.1f} s, target < {SECONDS_PER_MODEL:.0f} s per model: "
              f"{status(max(times) < SECONDS_PER_MODEL)}; {sum(times):.1f} s in all")


if __name__ == "__main__":
    main()
