"""A run: several models on identical inputs, forward then backward, as a lazy frame stream.

A model is a stack of `num_layers` layers of one or two directions (`core.stack`): one
(layer, direction) is a unit; a one-layer, one-direction model has one unit and gives exactly
the numbers and frames of a single `core.bptt.Sweep`. `run(spec)` yields, in the order of
computation:

    StartFrame                                        once
    ForwardFrame   layer by layer from the bottom (layer 1, 2, …, each model's layers it has);
                   within a layer, step k = 1..T; at each k every model in turn, and within a
                   model the forward direction (t = k) before the backward one (t = T + 1 − k)
    BackwardFrame  layer by layer from each model's top down: first every model's top layer,
                   then every model's layer below its top, …; within one such round step
                   k = 1..T with the models and directions in the same order as above — the
                   forward direction at t = T + 1 − k, the backward direction at t = k
    SummaryFrame   once per model

A frame's `t` is always the time step of the sequence (1..T) and `layer` (from 1) and
`direction` ("forward" / "backward") name its unit; a backward direction's frames therefore
come with t falling in the forward pass and rising in the backward one. With one-layer,
one-direction models this is the order of old: every model at t before t + 1 forward, and at
t before t − 1 backward.

Each frame holds numpy arrays (batch item 0) and knows nothing of who listens;
`collect(frames)` turns the stream into the complete `RunResult`. numpy's error state
is entered inside each step, never held across a `yield`: a web server may resume this
generator on another thread.

Randomness: inputs and targets come from `default_rng([seed, 0])`, a cell type's weights
from `core.stack.unit_generators(seed, k)`, k its place in `CELL_STREAMS`: unit 0 (layer 1
forward, and the readout after it) from `default_rng([seed, k])` as always, unit u > 0 from
`default_rng([seed, k, u])`. So every model of a run sees the same data, and two models of
the same cell type get the same weights in the units they share — two RNNs differ only in φ.
A model from a PyTorch state_dict (`ModelSpec.weights`) has that state_dict's weights; without
a head in it, its readout is the one a model drawn from the seed with the same cell, sizes and
directions gets.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields

import numpy as np

from gradient_flow_lab.core import analysis
from gradient_flow_lab.core.bptt import stack_rows
from gradient_flow_lab.core.cells import CELL_TYPES, Cell, Params, make_cell
from gradient_flow_lab.core.init import InitSpec, recurrent_sigma_max
from gradient_flow_lab.core.inputs import make_inputs
from gradient_flow_lab.core.stack import (
    LAYERS_MAX,
    Stack,
    StackSweep,
    Unit,
    from_torch,
    init_stack,
    torch_layout,
    unit_generators,
)

CELL_STREAMS = {"rnn": 1, "lstm": 2, "gru": 3}
STEPS_PER_BLOCK = 16  # time steps computed under one np.errstate before their frames are yielded
DATA_STREAM = 0


@dataclass(frozen=True)
class ModelSpec:
    cell: str = "rnn"
    activation: str | None = None  # rnn only; None means tanh
    num_layers: int = 1  # 1…LAYERS_MAX
    bidirectional: bool = False
    # A PyTorch state_dict's arrays, keys without prefix (weight_ih_l0, …, optionally a head's
    # weight and bias; see core.stack), or None: drawn from the seed. Its cell, layers,
    # directions and input size must agree with the spec (`core.stack.torch_layout` reads
    # them); its hidden size replaces RunSpec.hidden_size.
    weights: Mapping[str, np.ndarray] | None = field(default=None, compare=False, repr=False)


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
    input_values: np.ndarray | None = None  # [T, D] (batch 1) or [T, B, D], for input_kind "values"
    init: InitSpec = field(default_factory=InitSpec)
    loss_at: str = "last"
    seed: int = 0
    jacobian: bool = True
    loss_kind: str = "mse"  # "mse" or "xent" (softmax cross-entropy, core.bptt.output_grads)
    # the caller's targets, None: drawn (core.inputs): "mse" [T, O] (batch 1) or [T, B, O],
    # "xent" class indices [T] (batch 1) or [T, B] in 0…O−1
    targets: np.ndarray | None = None


@dataclass(frozen=True)
class ModelInfo:
    label: str
    cell: str
    activation: str | None
    num_layers: int = 1
    bidirectional: bool = False
    hidden_size: int | None = None


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
    layer: int = 1  # from 1 (PyTorch's l0 is layer 1)
    direction: str = "forward"  # or "backward"


@dataclass(slots=True)
class BackwardFrame:
    model: int
    t: int
    grad_norm: float  # ‖∂L/∂h_t‖_F over the batch, the total derivative (layers above included)
    grads: np.ndarray  # [H], ∂L/∂h_t of batch item 0
    jacobian_norm: float | None  # ‖∂s_end/∂s_t‖₂ within the unit, batch item 0 (LayerSeries)
    cell_grad_norm: float | None = None  # ‖∂L/∂c_t‖_F over the batch, LSTM only
    layer: int = 1
    direction: str = "forward"


@dataclass(slots=True, kw_only=True)
class LayerSeries:
    """One unit's per-step series, indexed by time t = 1..T, once its backward sweep has ended.

    jacobian_norm[t] = ‖∂s_end/∂s_t‖₂ within the unit's own recursion: s_end = s_T for the
    forward direction, s_1 for the backward one. bound (rnn): Pascanu's (γ σ_max)^(steps from t
    to s_end) with this unit's σ_max(W_hh). sign_uniform (rnn): analysis.sign_uniform_fractions along
    the unit's recursion, NaN at its first step. summary: log10_grad_ratio and memory_horizon
    along the unit's recursion too (for the backward direction: from t = 1 back to t = T),
    overflow_step (a time t) and overflow_phase of this unit, sigma_max.
    """

    layer: int
    direction: str
    grad_norm: np.ndarray  # [T], ‖∂L/∂h_t‖_F, the total derivative
    jacobian_norm: np.ndarray | None  # [T]
    bound: np.ndarray | None  # [T], rnn only
    sign_uniform: np.ndarray | None  # [T], rnn only
    cell_grad_norm: np.ndarray | None  # [T], LSTM only
    summary: dict


@dataclass(slots=True, kw_only=True)
class SummaryFrame:
    """A model's numbers once its backward sweep has ended (the per-step series in full). The
    top-level series and `summary` are those of the top layer's forward direction; `layers`
    holds every unit's, in PyTorch's order (l0, l0_reverse, l1, …)."""

    model: int
    loss: float
    grad_norm: np.ndarray  # [T]
    jacobian_norm: np.ndarray | None  # [T]
    bound: np.ndarray | None  # [T], rnn only
    params: Params
    param_grads: Params
    param_grad_norm: dict[str, float]
    summary: dict  # log10_grad_ratio, memory_horizon, overflow_step, overflow_phase, sigma_max
    sign_uniform: np.ndarray | None = None  # [T], rnn only: analysis.sign_uniform_fractions, NaN at t = 1
    cell_grad_norm: np.ndarray | None = None  # [T], LSTM only: ‖∂L/∂c_t‖_F
    layers: list[LayerSeries] = field(default_factory=list)


Frame = StartFrame | ForwardFrame | BackwardFrame | SummaryFrame


def model_stack(m: ModelSpec, spec: RunSpec) -> Stack:
    """A model's parameters: drawn from the seed (see the module doc), or from its weights."""
    cell = make_cell(m.cell, m.activation)
    stream = CELL_STREAMS[cell.name]
    D, O = spec.input_size, spec.output_size
    if not 1 <= m.num_layers <= LAYERS_MAX:
        raise ValueError(f"num_layers must be 1…{LAYERS_MAX}, not {m.num_layers}")
    dirs = 2 if m.bidirectional else 1
    if m.weights is None:
        rngs = unit_generators(spec.seed, stream, m.num_layers * dirs)
        return init_stack(cell, D, spec.hidden_size, O, spec.init, rngs, m.num_layers, m.bidirectional)
    layout = torch_layout(m.weights)
    for name, given, found in (("cell", m.cell, layout.cell), ("num_layers", m.num_layers, layout.num_layers),
                               ("bidirectional", m.bidirectional, layout.bidirectional),
                               ("input_size", D, layout.input_size),
                               ("output_size", O, O if layout.output_size is None else layout.output_size)):
        if given != found:
            raise ValueError(f"{name} is {given!r} but the weights have {found!r}")
    head = None
    if layout.output_size is None:
        head = init_stack(cell, D, layout.hidden_size, O, spec.init, unit_generators(spec.seed, stream, dirs),
                          1, m.bidirectional).head
    return from_torch(m.weights, m.activation, head)


def build_models(spec: RunSpec) -> tuple[list[Stack], np.ndarray, np.ndarray]:
    """Every model's parameters, the inputs [T, B, D] and the targets ([T, B, O], or [T, B]
    classes for "xent") of a run."""
    T, B, D, O = spec.seq_len, spec.batch_size, spec.input_size, spec.output_size
    X, Y = make_inputs(spec.input_kind, T, B, D, O, np.random.default_rng([spec.seed, DATA_STREAM]),
                       spec.input_values, spec.targets, spec.loss_kind)
    return [model_stack(m, spec) for m in spec.models], X, Y


def build(spec: RunSpec) -> tuple[list, list[Params], np.ndarray, np.ndarray]:
    """Cells, their parameters (flat, `core.stack.Stack.params`), inputs [T, B, D] and targets
    for a run."""
    stacks, X, Y = build_models(spec)
    return [s.cell for s in stacks], [s.params() for s in stacks], X, Y


def model_info(cell: Cell, stack: Stack | None = None) -> ModelInfo:
    label = cell.label
    if stack is None:
        return ModelInfo(label, cell.name, cell.activation.name if cell.activation else None)
    if stack.num_layers > 1:
        label += f" · {stack.num_layers} layers"
    if stack.bidirectional:
        label += " · bidirectional"
    return ModelInfo(label, cell.name, cell.activation.name if cell.activation else None,
                     stack.num_layers, stack.bidirectional, stack.hidden_size)


def _blocks(T: int, forward: bool):
    """The steps k of the sweeps, STEPS_PER_BLOCK at a time, in the order they run."""
    if forward:
        return [range(s, min(s + STEPS_PER_BLOCK, T + 1)) for s in range(1, T + 1, STEPS_PER_BLOCK)]
    return [range(s, max(s - STEPS_PER_BLOCK, 0), -1) for s in range(T, 0, -STEPS_PER_BLOCK)]


def run(spec: RunSpec) -> Iterator[Frame]:
    """The frames of a run, computed lazily (see the module doc), STEPS_PER_BLOCK time steps
    at a time."""
    stacks, X, Y = build_models(spec)
    T = spec.seq_len
    sweeps = [StackSweep(s, X, Y, spec.loss_at, spec.loss_kind, jacobian=spec.jacobian, cell_grads=True)
              for s in stacks]
    yield StartFrame([model_info(s.cell, s) for s in stacks], X, Y, [s.params() for s in stacks])
    depth = max(ss.num_layers for ss in sweeps)

    for layer in range(1, depth + 1):
        with np.errstate(all="ignore"):
            units = [(i, u) for i, ss in enumerate(sweeps) if layer <= ss.num_layers
                     for u in ss.start_layer(layer)]
        for steps in _blocks(T, forward=True):
            with np.errstate(all="ignore"):
                frames = [_forward_frame(i, u, k) for k in steps for i, u in units]
            yield from frames

    with np.errstate(all="ignore"):
        losses = [ss.compute_loss() for ss in sweeps]

    for below_top in range(depth):
        with np.errstate(all="ignore"):
            units = [(i, u) for i, ss in enumerate(sweeps) if below_top < ss.num_layers
                     for u in ss.start_layer_backward(ss.num_layers - below_top)]
        for steps in _blocks(T, forward=False):
            with np.errstate(all="ignore"):
                frames = [_backward_frame(i, u, k) for k in steps for i, u in units]
            yield from frames

    for i, ss in enumerate(sweeps):
        with np.errstate(all="ignore"):
            frame = _summary_frame(i, ss, losses[i])
        yield frame


def _forward_frame(i: int, u: Unit, k: int) -> ForwardFrame:
    """The frame of unit u's own step k (time t = u.times[k])."""
    sw = u.sweep
    cell = sw.cell
    state, cache = sw.forward_step(k)
    gates = {name: g[0] for name, g in cell.gate_values(cache).items()}
    z = cell.preactivation(cache)
    return ForwardFrame(i, u.times[k], state[0][0], state[1][0] if cell.has_cell_state else None, gates,
                        None if z is None else z[0], u.layer, u.direction)


def _backward_frame(i: int, u: Unit, k: int) -> BackwardFrame:
    """The frame of unit u's own step k back (time t = u.times[k])."""
    sw = u.sweep
    dh = sw.backward_step(k, u.injected[k])
    jn = float(sw.jacobian_norm[k]) if sw.jacobian_norm is not None else None
    cn = float(sw.cell_grad_norm[k]) if sw.cell_grad_norm is not None else None
    return BackwardFrame(i, u.times[k], float(sw.grad_norm[k]), dh[0], jn, cn, u.layer, u.direction)


def _unit_series(u: Unit, grads: Params, outputs: np.ndarray | None, loss: float | None) -> LayerSeries:
    """A unit's series and summary (see LayerSeries). `grads`: the parameter gradients whose
    overflow alone counts as one at t = 1 (the whole model's for the top unit); `outputs`,
    `loss`: the model's, for the top unit, else None. Computed along the sweep's own steps,
    then put in time order."""
    sw = u.sweep
    cell = sw.cell
    grad_norm, jac = sw.grad_norms(), sw.jacobian_norms()
    sigma = recurrent_sigma_max(cell, sw.P)
    activation = cell.activation
    bound = analysis.pascanu_bound(activation.gamma, sigma, sw.T) if activation else None
    sign_uniform = None
    if activation:  # h_t and ∂L/∂h_t of batch item 0
        fractions = analysis.sign_uniform_fractions(sw.hidden_states()[:, 0], sw.state_grads(item=0),
                                                    activation.dphi)
        sign_uniform = np.concatenate([[np.nan], fractions])

    step, phase = analysis.first_nonfinite_forward(sw.hidden_states(), outputs, loss,
                                                   sw.preactivations()), "forward"
    if step is None:  # a non-finite ∂L/∂h_t has a non-finite norm
        candidates = [(analysis.last_nonfinite(grad_norm), "backward")]
        if jac is not None:
            candidates.append((analysis.last_nonfinite(jac), "jacobian"))
        candidates = [(s, p) for s, p in candidates if s is not None]
        if candidates:  # the largest step went first; at a tie the gradient came before ‖M_t‖
            step, phase = max(candidates, key=lambda c: (c[0], c[1] == "backward"))
        elif not all(np.isfinite(g).all() for g in grads.values()):
            step, phase = 1, "backward"  # only the summed weight gradients overflowed
    summary = {
        "log10_grad_ratio": analysis.log10_grad_ratio(grad_norm),
        "memory_horizon": analysis.memory_horizon(grad_norm),
        "overflow_step": None if step is None else u.time(step),
        "overflow_phase": phase if step is not None else None,
        "sigma_max": sigma,
    }

    def in_time(a):
        return None if a is None else u.in_time(a).copy()

    return LayerSeries(layer=u.layer, direction=u.direction, grad_norm=in_time(grad_norm),
                       jacobian_norm=in_time(jac), bound=in_time(bound), sign_uniform=in_time(sign_uniform),
                       cell_grad_norm=in_time(sw.cell_grad_norms()), summary=summary)


def _summary_frame(i: int, ss: StackSweep, loss: float) -> SummaryFrame:
    grads = ss.param_grads()
    top = ss.unit(ss.num_layers, "forward")
    layers = [_unit_series(u, grads, ss.outputs(), loss) if u is top else
              _unit_series(u, u.sweep.param_grads(), None, None) for u in ss.units]
    t = layers[ss.stack.unit_index(ss.num_layers, "forward")]
    return SummaryFrame(
        model=i,
        loss=loss,
        grad_norm=t.grad_norm,
        jacobian_norm=t.jacobian_norm,
        bound=t.bound,
        params=ss.stack.params(),
        param_grads=grads,
        param_grad_norm={k: float(np.sqrt(np.sum(g * g))) for k, g in grads.items()},
        summary=t.summary,
        sign_uniform=t.sign_uniform,
        cell_grad_norm=t.cell_grad_norm,
        layers=layers,
    )


@dataclass(slots=True, kw_only=True)
class LayerResult(LayerSeries):
    """One unit's complete result: its series and the per-step arrays its frames carried,
    stacked over t = 1..T (batch item 0)."""

    hidden: np.ndarray  # [T, H]
    cell_state: np.ndarray | None  # [T, H]
    gates: dict[str, np.ndarray]  # name -> [T, H]
    preactivation: np.ndarray | None  # [T, H]
    grads: np.ndarray  # [T, H]


@dataclass(slots=True, kw_only=True)
class ModelResult(SummaryFrame):
    """A model's complete result: its summary frame and the per-step arrays its forward and
    backward frames carried, stacked over t = 1..T — at the top level the top layer's forward
    direction's, in `layers` (LayerResult) every unit's, in PyTorch's order."""

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
SERIES_FIELDS = fields(LayerSeries)


def _in_time(frames: list) -> list:
    """A unit's frames in time order (they came in the order its sweep ran)."""
    return frames[::-1] if len(frames) > 1 and frames[0].t > frames[-1].t else frames


def collect(frames: Iterable[Frame]) -> RunResult:
    """The complete result of a run from its frames."""
    start: StartFrame | None = None
    fwd: dict[tuple, list[ForwardFrame]] = {}
    bwd: dict[tuple, list[BackwardFrame]] = {}
    summaries: dict[int, SummaryFrame] = {}
    for f in frames:
        if isinstance(f, StartFrame):
            start = f
        elif isinstance(f, ForwardFrame):
            fwd.setdefault((f.model, f.layer, f.direction), []).append(f)
        elif isinstance(f, BackwardFrame):
            bwd.setdefault((f.model, f.layer, f.direction), []).append(f)
        else:
            summaries[f.model] = f
    assert start is not None, "a run starts with a StartFrame"

    def stack(values):
        return stack_rows(values) if values and values[0] is not None else None

    models = []
    for i, info in enumerate(start.models):
        s = summaries[i]
        layers = []
        for series in s.layers:
            key = (i, series.layer, series.direction)
            fs, bs = _in_time(fwd[key]), _in_time(bwd[key])
            layers.append(LayerResult(
                **{f.name: getattr(series, f.name) for f in SERIES_FIELDS},
                hidden=stack([f.hidden for f in fs]), cell_state=stack([f.cell_state for f in fs]),
                gates={name: stack_rows([f.gates[name] for f in fs]) for name in fs[0].gates},
                preactivation=stack([f.preactivation for f in fs]), grads=stack([b.grads for b in bs]),
            ))
        top = next(r for r in layers if r.layer == info.num_layers and r.direction == "forward")
        models.append(ModelResult(
            **{f.name: getattr(s, f.name) for f in SUMMARY_FIELDS if f.name != "layers"}, info=info,
            layers=layers, hidden=top.hidden, cell_state=top.cell_state, gates=top.gates,
            preactivation=top.preactivation, grads=top.grads,
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


def model_shape(m: ModelSpec, spec: RunSpec) -> tuple[int, int, int]:
    """(H, num_layers, directions) of a model, its weights' hidden size if it has weights."""
    H = spec.hidden_size if m.weights is None else torch_layout(m.weights).hidden_size
    return H, m.num_layers, 2 if m.bidirectional else 1


def unit_inputs(spec: RunSpec, m: ModelSpec) -> list[int]:
    """D_in of every unit of a model: D for layer 1, dirs·H above."""
    H, L, dirs = model_shape(m, spec)
    return [spec.input_size if u < dirs else dirs * H for u in range(L * dirs)]


def memory_bytes(spec: RunSpec) -> float:
    """The peak memory of a run: every unit of every model is alive at once (a layer's caches
    wait for the backward pass). Per unit, a sweep over its D_in-wide input (the input of a
    layer > 1, or a reversed one, is a copy); a layer > 1 keeps ∂L/∂x_t [T, B, D_in] too; per
    model the outputs, their gradients and the targets, and a bidirectional top layer's
    [T, B, 2H] output. A one-layer, one-direction model: `sweep_memory_bytes`."""
    T, B, O = spec.seq_len, spec.batch_size, spec.output_size
    total = 0.0
    for m in spec.models:
        H, _, dirs = model_shape(m, spec)
        for u, D_in in enumerate(unit_inputs(spec, m)):
            total += sweep_memory_bytes(m.cell, T, B, D_in, H, 0) + (8.0 * T * B * D_in if u >= dirs else 0.0)
        total += 8.0 * T * B * (3 * O + (dirs * H if dirs > 1 else 0))
    return total


def work_units(spec: RunSpec) -> tuple[float, float]:
    """The estimated cost of a run (forward + backward) and, separately, of its Jacobian
    norms, in nanoseconds of compute on the reference machine, to hold a request against a
    budget before any work starts. Every unit (layer, direction) is a sweep over its D_in-wide
    input; above layer 1 its ∂L/∂x_t is one more [B, G·H] × [G·H, D_in] product per step; each
    unit carries its own Jacobian; the output layer reads dirs·H numbers."""
    T, B = spec.seq_len, spec.batch_size
    run_units = jac_units = 0.0
    for m in spec.models:
        cell = CELL_TYPES[m.cell]
        G = cell.gates
        H, _, dirs = model_shape(m, spec)
        S = H * len(cell.state_names)
        for u, D_in in enumerate(unit_inputs(spec, m)):
            input_grads = B * G * H * D_in / MULTIPLY_ADDS_PER_NS if u >= dirs else 0.0
            run_units += T * (STEP_OVERHEAD_NS[m.cell] + 3.0 * B * G * H * (D_in + H) / MULTIPLY_ADDS_PER_NS
                              + ELEMENT_NS * B * G * H + input_grads)
            if spec.jacobian:
                jac_units += T * (JACOBIAN_STEP_NS + S * G * H * H / JACOBIAN_MULTIPLY_ADDS_PER_NS
                                  + SPECTRAL_NS_PER_S3 * S**3)
        run_units += output_units(T if spec.loss_at == "all" else 1, B, dirs * H, spec.output_size)
    return run_units, jac_units
