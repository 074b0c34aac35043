"""The numbers of one point of a sweep: a run or a training reduced to a few metrics per model.

A point is a whole run (`core.run.run`) or a whole training (`core.train.train`); what comes
back is one dict of metrics per model, small enough to send from a worker process and keep.

Run metrics (of the top layer's forward direction, as in a run's `summary`):

- `loss`, `log10_grad_ratio`, `memory_horizon`, `sigma_max`, `overflow_step`: the run's own;
- `decay_rate`: the factor by which ‖∂L/∂h_t‖ shrinks (< 1) or grows (> 1) per step back in
  time, exp(−s) with s the least-squares slope of ln ‖∂L/∂h_t‖ against t over the middle half
  of t (T/4 < t ≤ 3T/4 at 0-based indices T//4 … T − T//4 − 1) — a geometric mean of the
  per-step factors that ignores the ends, where the loss enters and where the state starts.
  The mean-field theory of the random tanh RNN predicts √χ₁ (`core.meanfield`).

Training metrics: `final_loss` (the training loss of the last step), `final_metric` (the
task's held-out metric at the end), `solved` (the task's criterion on it), `steps_to_solve`
(the first evaluation step at which the criterion held, None if it never did); beside them
the task's chance levels at the point's length (`baseline`).

`checkpoint`, when given, is called between steps (and, for a training, inside long steps);
it stops the work by raising — the caller's exception passes through untouched.
"""

import math
from collections.abc import Callable

import numpy as np

from gradient_flow_lab.core.run import RunSpec, StartFrame, SummaryFrame, run
from gradient_flow_lab.core.tasks import Task
from gradient_flow_lab.core.train import Evaluation, Progress, TrainSpec, TrainStart, train

RUN_METRICS = ("loss", "log10_grad_ratio", "memory_horizon", "decay_rate", "sigma_max", "overflow_step")
TRAIN_METRICS = ("final_loss", "final_metric", "solved", "steps_to_solve")
DECAY_FIT_MIN = 2  # usable points in the middle half, at least


def decay_rate(grad_norm: np.ndarray) -> float:
    """exp(−slope) of ln ‖∂L/∂h_t‖ over t in the middle half of 1..T (see the module doc);
    grad_norm [T]. Norms that are 0 or not finite are left out of the fit; NaN when fewer than
    half of the middle half's (and fewer than DECAY_FIT_MIN) remain."""
    T = len(grad_norm)
    lo, hi = T // 4, T - T // 4
    t = np.arange(lo, hi, dtype=np.float64)
    g = np.asarray(grad_norm[lo:hi], dtype=np.float64)
    usable = np.isfinite(g) & (g > 0)
    if usable.sum() < max(DECAY_FIT_MIN, (hi - lo + 1) // 2):
        return float("nan")
    slope = np.polyfit(t[usable], np.log(g[usable]), 1)[0]
    with np.errstate(over="ignore"):
        return float(np.exp(-slope))


def run_metrics(spec: RunSpec, checkpoint: Callable[[], None] | None = None) -> list[dict]:
    """Per model of the run `spec`: {"label", "metrics"} with the RUN_METRICS (non-finite
    numbers stay NaN or inf; the caller writes them as null)."""
    labels: list[str] = []
    out: dict[int, dict] = {}
    for frame in run(spec):
        if checkpoint is not None:
            checkpoint()
        if isinstance(frame, StartFrame):
            labels = [m.label for m in frame.models]
        elif isinstance(frame, SummaryFrame):
            s = frame.summary
            out[frame.model] = {
                "loss": frame.loss, "log10_grad_ratio": s["log10_grad_ratio"],
                "memory_horizon": s["memory_horizon"], "decay_rate": decay_rate(frame.grad_norm),
                "sigma_max": s["sigma_max"], "overflow_step": s["overflow_step"],
            }
    return [{"label": labels[i], "metrics": out[i]} for i in sorted(out)]


def train_metrics(spec: TrainSpec, checkpoint: Callable[[], None] | None = None) -> list[dict]:
    """Per model of the training `spec`: {"label", "metrics", "baseline"}: the TRAIN_METRICS,
    and the task's chance level of `final_loss` and `final_metric` at this length (the best
    memoryless answer: `core.tasks.Task.loss_baseline`, `metric_baseline`)."""
    task = Task(spec.task, spec.seq_len)
    n = len(spec.models)
    labels: list[str] = []
    baseline: dict = {}
    final_loss = [math.nan] * n
    final_metric = [math.nan] * n
    solved_at: list[int | None] = [None] * n
    for frame in train(spec, checkpoint):
        if isinstance(frame, TrainStart):
            labels = [m.label for m in frame.models]
            baseline = {"final_loss": frame.loss_baseline, "final_metric": frame.metric_baseline}
        elif isinstance(frame, Progress) and frame.step == spec.steps:
            final_loss[frame.model] = frame.loss
        elif isinstance(frame, Evaluation):
            final_metric[frame.model] = frame.value
            if solved_at[frame.model] is None and task.solved(frame.value):
                solved_at[frame.model] = frame.step
    return [{"label": labels[i], "metrics": {
        "final_loss": final_loss[i], "final_metric": final_metric[i], "solved": task.solved(final_metric[i]),
        "steps_to_solve": solved_at[i]}, "baseline": baseline} for i in range(n)]
