"""A run: several models on identical inputs, forward then backward, as a lazy frame stream.

`run(spec)` yields, in the order of computation:

    StartFrame                                        once
    ForwardFrame   for t = 1..T, every model at t before t + 1
    BackwardFrame  for t = T..1, every model at t before t − 1
    SummaryFrame   once per model

Each frame holds numpy arrays (batch item 0) and knows nothing of who listens;
`collect(frames)` turns the stream into the complete `RunResult`. numpy's error state
is entered inside each step, never held across a `yield`: a web server may resume this
generator on another thread.

Randomness: inputs and targets come from `default_rng([seed, 0])`, a cell type's weights
from `default_rng([seed, k])` with k its place in `CELL_STREAMS`. So every model of a run
sees the same data, and two models of the same cell type get the same weights — two RNNs
differ only in φ.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields

import numpy as np

from core import analysis
from core.bptt import Sweep, stack_rows
from core.cells import CELL_TYPES, Cell, Params, make_cell
from core.init import InitSpec, init_params, recurrent_sigma_max
from core.inputs import make_inputs

CELL_STREAMS = {"rnn": 1, "lstm": 2, "gru": 3}
STEPS_PER_BLOCK = 16  # time steps computed under one np.errstate before their frames are yielded
DATA_STREAM = 0


@dataclass(frozen=True)
class ModelSpec:
    cell: str = "rnn"
    activation: str | None = None  # rnn only; None means tanh


DEFAULT_MODELS = (ModelSpec("rnn", "sigmoid"), ModelSpec("rnn", "tanh"), ModelSpec("lstm"))


@dataclass(frozen=True)
class RunSpec:
    models: tuple[ModelSpec, ...] = DEFAULT_MODELS
    seq_len: int = 50
    hidden_size: int = 16
    input_size: int = 4
    output_size: int = 1
    batch_size: int = 1
    input_kind: str = "gaussian"
    input_values: np.ndarray | None = None  # [T, D] for input_kind "values"
    init: InitSpec = field(default_factory=InitSpec)
    loss_at: str = "last"
    seed: int = 0
    jacobian: bool = True


@dataclass(frozen=True)
class ModelInfo:
    label: str
    cell: str
    activation: str | None


@dataclass(slots=True)
class StartFrame:
    models: list[ModelInfo]
    inputs: np.ndarray  # [T, B, D]
    targets: np.ndarray  # [T, B, O]
    params: list[Params]


@dataclass(slots=True)
class ForwardFrame:
    model: int
    t: int
    hidden: np.ndarray  # [H]
    cell_state: np.ndarray | None  # [H], LSTM only
    gates: dict[str, np.ndarray]  # name -> [H]; empty for the RNN
    preactivation: np.ndarray | None  # [H], RNN only: z = x_t W_xh + h_{t−1} W_hh + b_h


@dataclass(slots=True)
class BackwardFrame:
    model: int
    t: int
    grad_norm: float  # ‖∂L/∂h_t‖_F over the batch
    grads: np.ndarray  # [H], ∂L/∂h_t of batch item 0
    jacobian_norm: float | None  # ‖∂s_T/∂s_t‖₂, batch item 0
    cell_grad_norm: float | None = None  # ‖∂L/∂c_t‖_F over the batch, LSTM only


@dataclass(slots=True, kw_only=True)
class SummaryFrame:
    """A model's numbers once its backward sweep has ended (the per-step series in full)."""

    model: int
    loss: float
    grad_norm: np.ndarray  # [T]
    jacobian_norm: np.ndarray | None  # [T]
    bound: np.ndarray | None  # [T], rnn only
    params: Params
    param_grads: Params
    param_grad_norm: dict[str, float]
    summary: dict  # log10_grad_ratio, memory_horizon, overflow_step, overflow_phase, sigma_max
    zigzag: np.ndarray | None = None  # [T], rnn only: analysis.sign_uniform_fractions, NaN at t = 1
    cell_grad_norm: np.ndarray | None = None  # [T], LSTM only: ‖∂L/∂c_t‖_F


Frame = StartFrame | ForwardFrame | BackwardFrame | SummaryFrame


def build(spec: RunSpec) -> tuple[list[Cell], list[Params], np.ndarray, np.ndarray]:
    """Cells, their parameters, inputs [T, B, D] and targets [T, B, O] for a run."""
    T, B, D, O, H = (spec.seq_len, spec.batch_size, spec.input_size, spec.output_size,
                     spec.hidden_size)
    X, Y = make_inputs(spec.input_kind, T, B, D, O, np.random.default_rng([spec.seed, DATA_STREAM]),
                       spec.input_values)
    cells = [make_cell(m.cell, m.activation) for m in spec.models]
    params = [
        init_params(c, D, H, O, spec.init, np.random.default_rng([spec.seed, CELL_STREAMS[c.name]]))
        for c in cells
    ]
    return cells, params, X, Y


def model_info(cell: Cell) -> ModelInfo:
    return ModelInfo(cell.label, cell.name, cell.activation.name if cell.activation else None)


def run(spec: RunSpec) -> Iterator[Frame]:
    """The frames of a run, computed lazily (see the module doc), STEPS_PER_BLOCK time steps
    at a time."""
    cells, params, X, Y = build(spec)
    T = spec.seq_len
    sweeps = [Sweep(c, P, X, Y, spec.loss_at, spec.jacobian, cell_grads=True)
              for c, P in zip(cells, params, strict=True)]
    yield StartFrame([model_info(c) for c in cells], X, Y, params)

    for start in range(1, T + 1, STEPS_PER_BLOCK):
        with np.errstate(all="ignore"):
            frames = [_forward_frame(i, sw, t) for t in range(start, min(start + STEPS_PER_BLOCK, T + 1))
                      for i, sw in enumerate(sweeps)]
        yield from frames

    with np.errstate(all="ignore"):
        losses = [sw.compute_loss() for sw in sweeps]

    for start in range(T, 0, -STEPS_PER_BLOCK):
        with np.errstate(all="ignore"):
            frames = [_backward_frame(i, sw, t) for t in range(start, max(start - STEPS_PER_BLOCK, 0), -1)
                      for i, sw in enumerate(sweeps)]
        yield from frames

    for i, sw in enumerate(sweeps):
        with np.errstate(all="ignore"):
            frame = _summary_frame(i, sw, losses[i])
        yield frame


def _forward_frame(i: int, sw: Sweep, t: int) -> ForwardFrame:
    cell = sw.cell
    state, cache = sw.forward_step(t)
    gates = {name: g[0] for name, g in cell.gate_values(cache).items()}
    z = cell.preactivation(cache)
    return ForwardFrame(i, t, state[0][0], state[1][0] if cell.has_cell_state else None, gates,
                        None if z is None else z[0])


def _backward_frame(i: int, sw: Sweep, t: int) -> BackwardFrame:
    dh = sw.backward_step(t)
    jn = float(sw.jacobian_norm[t]) if sw.jacobian_norm is not None else None
    cn = float(sw.cell_grad_norm[t]) if sw.cell_grad_norm is not None else None
    return BackwardFrame(i, t, float(sw.grad_norm[t]), dh[0], jn, cn)


def _summary_frame(i: int, sw: Sweep, loss: float) -> SummaryFrame:
    cell, P = sw.cell, sw.P
    grads = sw.param_grads()
    grad_norm, jac = sw.grad_norms(), sw.jacobian_norms()
    sigma = recurrent_sigma_max(cell, P)
    activation = cell.activation
    bound = analysis.pascanu_bound(activation.gamma, sigma, sw.T) if activation else None
    zigzag = None
    if activation:  # h_t and ∂L/∂h_t of batch item 0
        fractions = analysis.sign_uniform_fractions(sw.hidden_states()[:, 0], sw.state_grads(item=0),
                                                    activation.dphi)
        zigzag = np.concatenate([[np.nan], fractions])

    step, phase = analysis.first_nonfinite_forward(sw.hidden_states(), sw.outputs(), loss,
                                                   sw.preactivations()), "forward"
    if step is None:  # a non-finite ∂L/∂h_t has a non-finite norm
        candidates = [(analysis.last_nonfinite(grad_norm), "backward")]
        if jac is not None:
            candidates.append((analysis.last_nonfinite(jac), "jacobian"))
        candidates = [(s, p) for s, p in candidates if s is not None]
        if candidates:  # the largest t went first; at a tie the gradient came before ‖M_t‖
            step, phase = max(candidates, key=lambda c: (c[0], c[1] == "backward"))
        elif not all(np.isfinite(g).all() for g in grads.values()):
            step, phase = 1, "backward"  # only the summed weight gradients overflowed
    summary = {
        "log10_grad_ratio": analysis.log10_grad_ratio(grad_norm),
        "memory_horizon": analysis.memory_horizon(grad_norm),
        "overflow_step": step,
        "overflow_phase": phase if step is not None else None,
        "sigma_max": sigma,
    }
    cell_grad_norm = sw.cell_grad_norms()
    return SummaryFrame(
        model=i,
        loss=loss,
        grad_norm=grad_norm.copy(),
        jacobian_norm=None if jac is None else jac.copy(),
        bound=bound,
        params=P,
        param_grads=grads,
        param_grad_norm={k: float(np.sqrt(np.sum(g * g))) for k, g in grads.items()},
        summary=summary,
        zigzag=zigzag,
        cell_grad_norm=None if cell_grad_norm is None else cell_grad_norm.copy(),
    )


@dataclass(slots=True, kw_only=True)
class ModelResult(SummaryFrame):
    """A model's complete result: its summary frame and the per-step arrays its forward and
    backward frames carried, stacked over t = 1..T."""

    info: ModelInfo
    hidden: np.ndarray  # [T, H]
    cell_state: np.ndarray | None  # [T, H]
    gates: dict[str, np.ndarray]  # name -> [T, H]
    preactivation: np.ndarray | None  # [T, H]
    grads: np.ndarray  # [T, H]


@dataclass
class RunResult:
    models: list[ModelResult]
    inputs: np.ndarray
    targets: np.ndarray


SUMMARY_FIELDS = fields(SummaryFrame)


def collect(frames: Iterable[Frame]) -> RunResult:
    """The complete result of a run from its frames."""
    start: StartFrame | None = None
    fwd: dict[int, list[ForwardFrame]] = {}
    bwd: dict[int, list[BackwardFrame]] = {}
    summaries: dict[int, SummaryFrame] = {}
    for f in frames:
        if isinstance(f, StartFrame):
            start = f
        elif isinstance(f, ForwardFrame):
            fwd.setdefault(f.model, []).append(f)
        elif isinstance(f, BackwardFrame):
            bwd.setdefault(f.model, []).append(f)
        else:
            summaries[f.model] = f
    assert start is not None, "a run starts with a StartFrame"
    models = []
    for i, info in enumerate(start.models):
        fs, bs, s = fwd[i], bwd[i][::-1], summaries[i]  # backward frames came t = T..1

        def stack(values):
            return stack_rows(values) if values and values[0] is not None else None

        gates = {name: stack_rows([f.gates[name] for f in fs]) for name in fs[0].gates}
        models.append(ModelResult(
            **{f.name: getattr(s, f.name) for f in SUMMARY_FIELDS}, info=info,
            hidden=stack([f.hidden for f in fs]), cell_state=stack([f.cell_state for f in fs]),
            gates=gates, preactivation=stack([f.preactivation for f in fs]),
            grads=stack([b.grads for b in bs]),
        ))
    return RunResult(models, start.inputs, start.targets)


# Cost model of `work_units`, in estimated nanoseconds on a 2-core reference machine (one BLAS
# thread), fitted to runs of every cell at T = 200..2000, H = 16..256, B = 1..256.
STEP_OVERHEAD_NS = {"rnn": 30e3, "gru": 60e3, "lstm": 85e3}  # Python and small-array costs
MULTIPLY_ADDS_PER_NS = 4.0  # matrix products of the sweeps
ELEMENT_NS = 35.0  # elementwise work per unit of B·G·H and step
JACOBIAN_STEP_NS = 50e3
JACOBIAN_MULTIPLY_ADDS_PER_NS = 10.0
# σ_max per step: a certificate (a product and a Cholesky factorisation), and LAPACK's exact
# value when nearly equal top singular values defeat power iteration (the worst case)
SPECTRAL_NS_PER_S3 = 0.4
OUTPUT_ELEMENT_NS = 40.0  # per output number at a step of S: the loss, softmax, ∂L/∂y


def output_units(steps: int, B: int, H: int, O: int) -> float:
    """The output layer and loss at `steps` steps of S."""
    return steps * B * O * (H / MULTIPLY_ADDS_PER_NS + OUTPUT_ELEMENT_NS)


# float64 numbers kept per step, batch item and hidden unit by a sweep (states, caches,
# gradients, stacked copies), measured with tracemalloc at T = 200, B = 64, H = 64
SWEEP_FLOATS_PER_UNIT = {"rnn": 6, "gru": 12, "lstm": 16}


def sweep_memory_bytes(cell: str, T: int, B: int, D: int, H: int, O: int) -> float:
    """The peak memory of one `Sweep` and its frames, in bytes."""
    return 8.0 * T * B * (SWEEP_FLOATS_PER_UNIT[cell] * H + D + 3 * O)


def memory_bytes(spec: RunSpec) -> float:
    """The peak memory of a run: every model's sweep is alive at once."""
    return sum(sweep_memory_bytes(m.cell, spec.seq_len, spec.batch_size, spec.input_size,
                                  spec.hidden_size, spec.output_size) for m in spec.models)


def work_units(spec: RunSpec) -> tuple[float, float]:
    """The estimated cost of a run (forward + backward) and, separately, of its Jacobian
    norms, in nanoseconds of compute on the reference machine, to hold a request against a
    budget before any work starts."""
    T, B, D, H = spec.seq_len, spec.batch_size, spec.input_size, spec.hidden_size
    run_units = jac_units = 0.0
    for m in spec.models:
        cell = CELL_TYPES[m.cell]
        G = cell.gates
        S = H * len(cell.state_names)
        run_units += T * (STEP_OVERHEAD_NS[m.cell] + 3.0 * B * G * H * (D + H) / MULTIPLY_ADDS_PER_NS
                          + ELEMENT_NS * B * G * H)
        run_units += output_units(T if spec.loss_at == "all" else 1, B, H, spec.output_size)
        if spec.jacobian:
            jac_units += T * (JACOBIAN_STEP_NS + S * G * H * H / JACOBIAN_MULTIPLY_ADDS_PER_NS
                              + SPECTRAL_NS_PER_S3 * S**3)
    return run_units, jac_units
