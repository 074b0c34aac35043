"""Training on a long-range task, as a lazy stream of progress frames.

`train(spec)` yields a `TrainStart`, then for every step the models are trained in lockstep on
the same batch, and yields a `Progress` frame per model every `progress_every` steps (and on
the last step), an `Evaluation` per model every `eval_every` steps and at the end, and finally
a `TrainDone`. It knows nothing of who listens; numpy's error state is entered inside each
step, never across a `yield`.

Determinism: the training batches come from `default_rng([seed, 10])`, the held-out set from
`default_rng([seed, 11, chunk])`, and a cell type's weights from `default_rng([seed, k])` as in
a run.

Thinning, so a long run stays a reasonable stream:
- progress is reported every `progress_every` = ⌈steps / 1000⌉ steps (every step up to 1000);
  the loss and clip flag are those of the reported step, `clipped_fraction` covers the steps
  since the last report;
- the gradient-norm profile over t is downsampled to at most `profile_points` = 200 points,
  taken at the exact steps `profile_t` (always including t = 1 and t = T').
"""

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from gradient_flow_lab.core.bptt import Sweep, forward_outputs, loss_step_index
from gradient_flow_lab.core.cells import Params, make_cell
from gradient_flow_lab.core.init import InitSpec, init_params
from gradient_flow_lab.core.optim import clip_by_global_norm, make_optimizer
from gradient_flow_lab.core.run import (
    CELL_STREAMS,
    DEFAULT_MODELS,
    ModelInfo,
    ModelSpec,
    RunSpec,
    model_info,
    output_units,
    sweep_memory_bytes,
    work_units,
)
from gradient_flow_lab.core.tasks import Task

TRAIN_STREAM, EVAL_STREAM = 10, 11
PROGRESS_FRAMES_MAX = 1000
PROFILE_POINTS = 200


@dataclass(frozen=True)
class TrainSpec:
    models: tuple[ModelSpec, ...] = (*DEFAULT_MODELS, ModelSpec("gru"))
    task: str = "adding"
    seq_len: int = 50
    hidden_size: int = 32
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float = 0.01
    momentum: float = 0.0
    clip: float | None = 1.0
    steps: int = 1500
    eval_every: int = 100
    eval_size: int = 1000
    seed: int = 0
    init: InitSpec = field(default_factory=InitSpec)


@dataclass
class TrainStart:
    models: list[ModelInfo]
    task: Task
    loss_baseline: float
    metric: str
    metric_baseline: float
    progress_every: int
    profile_t: np.ndarray  # the t (1-based) of the downsampled gradient profiles


@dataclass
class Progress:
    model: int
    step: int  # 1-based
    loss: float
    grad_norm: np.ndarray  # ‖∂L/∂h_t‖ at profile_t
    grad_norm_total: float  # global norm of ∂L/∂P before clipping
    clipped: bool
    clipped_fraction: float  # of the steps since the last report


@dataclass
class Evaluation:
    model: int
    step: int
    metric: str
    value: float
    baseline: float


@dataclass
class ModelOutcome:
    info: ModelInfo
    metric: str
    value: float
    baseline: float
    solved: bool
    params: Params | None = None  # the trained parameters (the core's layout: W_x, W_h, …, W_hy, b_y)
    weights: str | None = None  # where a server keeps them (its weights id), set by the server


@dataclass
class TrainDone:
    models: list[ModelOutcome]


TrainFrame = TrainStart | Progress | Evaluation | TrainDone


def profile_steps(length: int, points: int = PROFILE_POINTS) -> np.ndarray:
    """At most `points` steps t in 1..length, evenly spaced, always with 1 and length."""
    if length <= points:
        return np.arange(1, length + 1)
    return np.unique(np.round(np.linspace(1, length, points)).astype(int))


EVAL_CHUNK = 250  # held-out sequences per forward pass


def held_out(task: Task, size: int, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The held-out set in chunks of EVAL_CHUNK sequences, the same at every call: chunk k
    comes from `default_rng([seed, 11, k])`, so it is regenerated, never kept."""
    for k, start in enumerate(range(0, size, EVAL_CHUNK)):
        yield task.batch(min(EVAL_CHUNK, size - start), np.random.default_rng([seed, EVAL_STREAM, k]))


def evaluate(task: Task, cell, P, size: int, seed: int,
             checkpoint: Callable[[], None] | None = None) -> float:
    """The task's metric on the held-out set, forward only and chunk by chunk (the memory is
    that of one chunk and one step); NaN when the model's outputs are not finite. `checkpoint`
    as in `train`."""
    total = 0.0
    for X, targets in held_out(task, size, seed):
        Y = np.zeros((task.length, X.shape[1], task.output_size))
        steps = np.arange(task.length)[loss_step_index(task.loss_at, task.length)]
        Y[steps] = forward_outputs(cell, P, X, task.loss_at, checkpoint)
        if not np.isfinite(Y[steps]).all():
            return float("nan")
        total += task.score(Y, targets) * X.shape[1]
    return total / size


def train(spec: TrainSpec, checkpoint: Callable[[], None] | None = None) -> Iterator[TrainFrame]:
    """The frames of a training run (see the module doc). `checkpoint`, when given, is called
    before every step and every few time steps inside one (`bptt.CHECKPOINT_STEPS`), so that
    a training whose steps are long can be stopped within a fraction of one: it stops the
    training by raising (the exception passes through)."""
    task = Task(spec.task, spec.seq_len)
    D, O, H, B = task.input_size, task.output_size, spec.hidden_size, spec.batch_size
    cells = [make_cell(m.cell, m.activation) for m in spec.models]
    params = [init_params(c, D, H, O, spec.init, np.random.default_rng([spec.seed, CELL_STREAMS[c.name]]))
              for c in cells]
    optimizers = [make_optimizer(spec.optimizer, spec.lr, spec.momentum) for _ in cells]
    data_rng = np.random.default_rng([spec.seed, TRAIN_STREAM])
    every = max(1, math.ceil(spec.steps / PROGRESS_FRAMES_MAX))
    profile_t = profile_steps(task.length)
    yield TrainStart([model_info(c) for c in cells], task, task.loss_baseline, task.metric,
                     task.metric_baseline, every, profile_t)

    clipped_count = [0] * len(cells)
    last_report = 0
    last_value = [float("nan")] * len(cells)
    for step in range(1, spec.steps + 1):
        if checkpoint is not None:
            checkpoint()
        X, targets = task.batch(B, data_rng)
        report = step % every == 0 or step == spec.steps
        frames: list[TrainFrame] = []
        with np.errstate(all="ignore"):
            for i, (cell, P, opt) in enumerate(zip(cells, params, optimizers, strict=True)):
                sw = Sweep(cell, P, X, targets, task.loss_at, loss_kind=task.loss,
                           loss_scale=task.loss_scale(B))
                loss = sw.run(checkpoint)
                grads = sw.param_grads()
                norm, clipped = clip_by_global_norm(grads, spec.clip)
                if np.isfinite(norm):
                    opt.step(P, grads)
                clipped_count[i] += clipped
                if report:
                    frames.append(Progress(i, step, loss, sw.grad_norms()[profile_t - 1], norm, clipped,
                                           clipped_count[i] / (step - last_report)))
                    clipped_count[i] = 0
            if step % spec.eval_every == 0 or step == spec.steps:
                for i, (cell, P) in enumerate(zip(cells, params, strict=True)):
                    last_value[i] = evaluate(task, cell, P, spec.eval_size, spec.seed, checkpoint)
                    frames.append(Evaluation(i, step, task.metric, last_value[i], task.metric_baseline))
        if report:
            last_report = step
        yield from frames

    yield TrainDone([
        ModelOutcome(model_info(c), task.metric, v, task.metric_baseline, task.solved(v), P)
        for c, v, P in zip(cells, last_value, params, strict=True)
    ])


def train_work_units(spec: TrainSpec) -> float:
    """The estimated cost of a training run in nanoseconds on the reference machine (the cost
    model of `core.run.work_units`): the training steps, and the held-out evaluations, which
    run forward only (about half a sweep) but pay the output layer at every step of S."""
    task = Task(spec.task, spec.seq_len)
    evals = spec.steps // spec.eval_every + 1
    S = task.length if task.loss_at == "all" else 1
    units = 0.0
    for m in spec.models:
        def sweep(B: int, m=m) -> float:
            return work_units(RunSpec(models=(m,), seq_len=task.length, hidden_size=spec.hidden_size,
                                      input_size=task.input_size, output_size=task.output_size,
                                      batch_size=B, loss_at=task.loss_at, jacobian=False))[0]
        chunks = -(-spec.eval_size // EVAL_CHUNK)
        held_out = (sweep(min(EVAL_CHUNK, spec.eval_size)) / 2 * chunks
                    + output_units(S, spec.eval_size, spec.hidden_size, task.output_size))
        units += spec.steps * sweep(spec.batch_size) + evals * held_out
    return units


def train_memory_bytes(spec: TrainSpec) -> float:
    """The peak memory of a training run: one model's sweep at a time, plus one held-out
    chunk (forward only) and the optimiser's state."""
    task = Task(spec.task, spec.seq_len)
    T, D, H, O = task.length, task.input_size, spec.hidden_size, task.output_size
    peak = max(sweep_memory_bytes(m.cell, T, spec.batch_size, D, H, O) for m in spec.models)
    chunk = 8.0 * T * min(EVAL_CHUNK, spec.eval_size) * (D + 3 * O) + 8.0 * EVAL_CHUNK * H * 30
    weights = sum(8.0 * 3 * (4 * H * (D + H + 2) + O * (H + 1)) for _ in spec.models)
    return peak + chunk + weights
