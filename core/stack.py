"""Stacked and bidirectional models, with PyTorch's semantics and parameter layout.

A model of `num_layers` layers, each of one or two directions (row vectors, dirs = 1 or 2):

    layer 1 reads x_t [B, D]; layer l > 1 reads o_t^(l−1), the output of layer l − 1:
    o_t^(l) = h_t^(l,fwd)                        one direction
    o_t^(l) = [h_t^(l,fwd) ; h_t^(l,bwd)]        bidirectional, [B, 2H]
    forward direction:  s_t = cell(input_t, s_{t−1}) for t = 1..T, from s_0 = 0
    backward direction: s_t = cell(input_t, s_{t+1}) for t = T..1, from s_{T+1} = 0, own weights
    y_t = o_t^(L) W_hy + b_y,   W_hy [dirs·H, O]

One (layer, direction) is a *unit*. Units are numbered in PyTorch's order (l0, l0_reverse, l1,
…): u = dirs·(layer − 1) + (1 for the backward direction), `layer` counting from 1 (PyTorch's
l0 is layer 1). Each unit is one readout-free `core.bptt.Sweep`; a backward direction's sweep
runs over the reversed sequence, so its own step k is time t = T + 1 − k. Everything this
module returns is indexed by time t = 1..T (a `Unit` translates), except `Unit.sweep`'s own
arrays.

BPTT through depth and time: the forward pass goes layer by layer (a layer reads the whole
output of the one below: the backward direction of layer l − 1 reaches t = 1 last). The loss
gives ∂L/∂o_t^(L) = ∂L/∂y_t W_hyᵀ at the steps of S. A layer's sweeps go back through time
with ∂L/∂o_t of their layer injected at every t (each direction its half) and return ∂L/∂x_t of
their input, one product per block; the two directions' ∂L/∂x_t summed are ∂L/∂o_t^(l−1), what
the layer below gets. So each unit's ∂L/∂h_t is the total derivative, through every path: the
later steps of its own layer and every layer above.

Parameters (`Stack`): each unit holds the cell's parameters under the cell's names (`W_x`,
`W_h`, `b`, …, `core.cells`), with W_x [D_in, G·H] (D_in = D for layer 1, dirs·H above). A
whole model's parameters as one flat dict (`Stack.params()`, the run frames' `params`) keep
the cell's names for a one-layer, one-direction model (exactly today's), and otherwise carry
PyTorch's suffix: `W_hh_l0`, `W_hh_l0_reverse`, `W_hh_l1`, …; the readout is `W_hy`, `b_y`.

PyTorch's state_dict (`from_torch`, `torch_state`, `torch_grads`): `weight_ih_l{k}[_reverse]`
[G·H, D_in] = W_xᵀ, `weight_hh_l{k}[_reverse]` [G·H, H] = W_hᵀ, biases [G·H] optional, a head
`weight` [O, dirs·H] = W_hyᵀ and `bias` [O] = b_y. The RNN and the LSTM have one bias in the
core, b = bias_ih + bias_hh (each torch bias's gradient is the core bias's gradient); the GRU
keeps b_x = bias_ih and b_h = bias_hh apart. An absent bias is zero and fixed: it is left out
of `params()` and no gradient is reported for it.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from gradient_flow_lab.core.bptt import Sweep, loss_step_index, output_grads
from gradient_flow_lab.core.cells import Cell, Params, make_cell
from gradient_flow_lab.core.init import InitSpec, init_params

LAYERS_MAX = 4
DIRECTIONS = ("forward", "backward")
BIAS_KINDS = ("ih", "hh")  # PyTorch's bias_ih_l{k}, bias_hh_l{k}
CELL_BY_GATES = {1: "rnn", 3: "gru", 4: "lstm"}  # G: rows of weight_hh / H


def unit_suffix(layer: int, direction: str) -> str:
    """PyTorch's suffix of a unit's parameters: "_l0" for layer 1 forward, "_l1_reverse", …"""
    return f"_l{layer - 1}" + ("_reverse" if direction == "backward" else "")


@dataclass(frozen=True)
class Stack:
    """A model's parameters: one dict per unit (PyTorch's order) and the readout."""

    cell: Cell
    units: tuple[Params, ...]  # the cell's parameters of each unit, W_x [D_in, G·H], …
    head: Params  # W_hy [dirs·H, O], b_y [O]
    num_layers: int = 1
    bidirectional: bool = False
    biases: tuple[str, ...] = BIAS_KINDS  # the PyTorch biases the model has ("ih", "hh")

    def __post_init__(self):
        if len(self.units) != self.num_layers * self.directions:
            raise ValueError(f"{len(self.units)} units for {self.num_layers} layers × "
                             f"{self.directions} directions")

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def hidden_size(self) -> int:
        return self.units[0][self.cell.h_weight].shape[0]

    @property
    def input_size(self) -> int:
        return self.units[0][self.cell.x_weight].shape[0]

    @property
    def output_size(self) -> int:
        return self.head["b_y"].shape[0]

    def unit_keys(self) -> list[tuple[int, str]]:
        """(layer, direction) of every unit, in PyTorch's order."""
        return [(layer, d) for layer in range(1, self.num_layers + 1) for d in DIRECTIONS[:self.directions]]

    def unit_index(self, layer: int, direction: str) -> int:
        return self.directions * (layer - 1) + DIRECTIONS.index(direction)

    @property
    def fixed(self) -> frozenset[str]:
        """The cell's bias names that are zero and fixed (absent from the PyTorch model)."""
        cell = self.cell
        if cell.h_bias is None:  # one core bias for both PyTorch biases
            return frozenset() if self.biases else frozenset({cell.x_bias})
        return frozenset(name for name, kind in ((cell.x_bias, "ih"), (cell.h_bias, "hh"))
                         if kind not in self.biases)

    def flatten(self, units: Sequence[Params], head: Params) -> Params:
        """One flat dict of per-unit dicts (parameters or their gradients) and the readout's, under
        the names of the module doc; fixed biases left out."""
        fixed = self.fixed
        single = len(self.units) == 1
        out: Params = {}
        for (layer, direction), values in zip(self.unit_keys(), units, strict=True):
            suffix = "" if single else unit_suffix(layer, direction)
            out.update((name + suffix, v) for name, v in values.items() if name not in fixed)
        out.update(head)
        return out

    def params(self) -> Params:
        """Every free parameter, flat (see the module doc)."""
        return self.flatten(self.units, self.head)

    def parameter_count(self) -> int:
        return sum(p.size for p in self.params().values())


def unit_generators(seed: int, stream: int, units: int) -> list[np.random.Generator]:
    """One generator per unit: unit 0 draws from default_rng([seed, stream]) (a one-layer model's
    stream of old), unit u > 0 from default_rng([seed, stream, u])."""
    return [np.random.default_rng([seed, stream] if u == 0 else [seed, stream, u]) for u in range(units)]


def init_stack(
    cell: Cell, D: int, H: int, O: int, spec: InitSpec, rngs: Sequence[np.random.Generator],
    num_layers: int = 1, bidirectional: bool = False,
) -> Stack:
    """Fresh parameters: unit u's from rngs[u] by `init_params`; the readout W_hy [dirs·H, O] from
    rngs[0] right after unit 0's weights, so a one-layer, one-direction model draws exactly
    what `init_params` draws."""
    if not 1 <= num_layers <= LAYERS_MAX:
        raise ValueError(f"num_layers must be 1…{LAYERS_MAX}, not {num_layers}")
    dirs = 2 if bidirectional else 1
    units = []
    head: Params = {}
    for u in range(num_layers * dirs):
        D_in = D if u < dirs else dirs * H
        if u == 0:
            P = init_params(cell, D_in, H, O, spec, rngs[0], readout_width=dirs * H)
            head = {"W_hy": P.pop("W_hy"), "b_y": P.pop("b_y")}
        else:
            P = init_params(cell, D_in, H, None, spec, rngs[u])
        units.append(P)
    return Stack(cell, tuple(units), head, num_layers, bidirectional)


# --- PyTorch's state_dict -----------------------------------------------------------------

TORCH_KEY = re.compile(r"(weight|bias)_(ih|hh)_l(\d+)(_reverse)?")
HEAD_KEYS = ("weight", "bias")


@dataclass(frozen=True)
class TorchLayout:
    """What a PyTorch state_dict of nn.RNN / nn.LSTM / nn.GRU (+ an nn.Linear head) holds."""

    cell: str  # "rnn", "lstm" or "gru", from G = rows of weight_hh / its columns
    num_layers: int
    bidirectional: bool
    input_size: int
    hidden_size: int
    output_size: int | None  # the head's; None without a head
    biases: tuple[str, ...]  # the biases present: "ih", "hh"
    parameters: int  # numbers in the recurrent weights, biases and head


def _shape_error(key: str, shape, expected) -> ValueError:
    return ValueError(f"{key} has shape {list(shape)}, expected {list(expected)}")


def torch_layout(state: Mapping[str, np.ndarray]) -> TorchLayout:
    """The layout of a state_dict whose keys carry no prefix (`weight_ih_l0`, …, optionally
    `weight`, `bias` of a head); ValueError, in words, for anything inconsistent."""
    found: dict[tuple[int, str], dict[str, tuple]] = {}
    for key, a in state.items():
        if key in HEAD_KEYS:
            continue
        m = TORCH_KEY.fullmatch(key)
        if m is None:
            if re.fullmatch(r"weight_hr_l\d+(_reverse)?", key):
                raise ValueError(f"{key}: an LSTM with proj_size is not supported")
            raise ValueError(f"unexpected key {key!r}: expected weight_ih_l{{k}}, weight_hh_l{{k}}, "
                             "bias_ih_l{k}, bias_hh_l{k} (optionally _reverse) and a head's weight, bias")
        kind, which, k, reverse = m.groups()
        found.setdefault((int(k), "backward" if reverse else "forward"), {})[f"{kind}_{which}"] = np.shape(a)
    if not found:
        raise ValueError("no recurrent weights (weight_ih_l0, weight_hh_l0, …)")
    L = max(k for k, _ in found) + 1
    bidirectional = any(d == "backward" for _, d in found)
    dirs = 2 if bidirectional else 1
    if L > LAYERS_MAX:
        raise ValueError(f"{L} layers; at most {LAYERS_MAX} are supported")
    hh0 = found.get((0, "forward"), {}).get("weight_hh")
    if hh0 is None or len(hh0) != 2 or hh0[1] == 0 or hh0[0] % hh0[1]:
        raise ValueError(f"weight_hh_l0 must be [G·H, H] with G = 1, 3 or 4, not {hh0}")
    H = hh0[1]
    G = hh0[0] // H
    if G not in CELL_BY_GATES:
        raise ValueError(f"weight_hh_l0 is [{hh0[0]}, {H}]: {G} gate blocks, expected 1 (RNN), "
                         "4 (LSTM) or 3 (GRU)")
    ih0 = found[(0, "forward")].get("weight_ih")
    if ih0 is None or len(ih0) != 2:
        raise ValueError(f"weight_ih_l0 must be [G·H, D], not {ih0}")
    D = ih0[1]
    biases = tuple(kind for kind in BIAS_KINDS if f"bias_{kind}" in found[(0, "forward")])
    for k in range(L):
        for d in DIRECTIONS[:dirs]:
            suffix = f"_l{k}" + ("_reverse" if d == "backward" else "")
            shapes = found.get((k, d), {})
            D_in = D if k == 0 else dirs * H
            expected = {"weight_ih": (G * H, D_in), "weight_hh": (G * H, H),
                        **{f"bias_{kind}": (G * H,) for kind in biases}}
            for name, shape in expected.items():
                if name not in shapes:
                    raise ValueError(f"{name}{suffix} is missing ({L} layers"
                                     f"{', bidirectional' if bidirectional else ''})")
                if tuple(shapes[name]) != shape:
                    raise _shape_error(name + suffix, shapes[name], shape)
            extra = set(shapes) - set(expected)
            if extra:
                raise ValueError(f"{sorted(e + suffix for e in extra)} present but not "
                                 f"{sorted(e + '_l0' for e in extra)}: every layer must have the "
                                 "same biases")
    O = None
    heads = [k for k in HEAD_KEYS if k in state]
    if heads:
        if len(heads) == 1:
            raise ValueError(f"a head needs both weight and bias, found {heads[0]} alone")
        w, b = np.shape(state["weight"]), np.shape(state["bias"])
        if len(w) != 2 or w[1] != dirs * H:
            raise _shape_error("weight", w, ("O", dirs * H))
        O = w[0]
        if tuple(b) != (O,):
            raise _shape_error("bias", b, (O,))
    parameters = sum(int(np.prod(np.shape(a))) for a in state.values())
    return TorchLayout(CELL_BY_GATES[G], L, bidirectional, D, H, O, biases, parameters)


def from_torch(
    state: Mapping[str, np.ndarray], activation: str | None = None, head: Params | None = None,
) -> Stack:
    """The model of a PyTorch state_dict (keys without prefix, any float dtype; computed in
    float64). `activation`: the RNN's nonlinearity (PyTorch keeps it outside the state_dict;
    default tanh). The readout is the state_dict's head, or else `head` ({"W_hy", "b_y"} in the
    core's layout); ValueError if neither or for anything inconsistent or not finite."""
    layout = torch_layout(state)
    cell = make_cell(layout.cell, activation)
    arrays = {}
    for key, a in state.items():
        a = np.asarray(a, dtype=np.float64)
        if not np.isfinite(a).all():
            raise ValueError(f"{key} has values that are not finite (NaN or ±inf)")
        arrays[key] = a
    units = []
    for layer, direction in [(k, d) for k in range(1, layout.num_layers + 1)
                             for d in DIRECTIONS[:2 if layout.bidirectional else 1]]:
        suffix = unit_suffix(layer, direction)
        H3 = arrays["weight_hh" + suffix].shape[0]
        bias = {kind: arrays.get(f"bias_{kind}{suffix}", np.zeros(H3)) for kind in BIAS_KINDS}
        P = {cell.x_weight: np.ascontiguousarray(arrays["weight_ih" + suffix].T),
             cell.h_weight: np.ascontiguousarray(arrays["weight_hh" + suffix].T)}
        if cell.h_bias is None:
            P[cell.x_bias] = bias["ih"] + bias["hh"]
        else:
            P[cell.x_bias], P[cell.h_bias] = bias["ih"].copy(), bias["hh"].copy()
        units.append(P)
    if layout.output_size is not None:
        head = {"W_hy": np.ascontiguousarray(arrays["weight"].T), "b_y": arrays["bias"].copy()}
    elif head is None:
        raise ValueError("the state_dict has no head (weight, bias): pass one")
    stack = Stack(cell, tuple(units), dict(head), layout.num_layers, layout.bidirectional, layout.biases)
    expected = (stack.directions * stack.hidden_size,)
    if stack.head["W_hy"].shape[:1] != expected or stack.head["b_y"].shape != stack.head["W_hy"].shape[1:]:
        raise ValueError(f"the head must be W_hy [{expected[0]}, O] and b_y [O]")
    return stack


def _torch_pairs(stack: Stack):
    """(unit, suffix, core name, PyTorch name) of every recurrent parameter the model has."""
    cell = stack.cell
    for u, (layer, direction) in enumerate(stack.unit_keys()):
        suffix = unit_suffix(layer, direction)
        yield u, suffix, cell.x_weight, "weight_ih"
        yield u, suffix, cell.h_weight, "weight_hh"
        for kind in stack.biases:
            name = cell.x_bias if cell.h_bias is None or kind == "ih" else cell.h_bias
            yield u, suffix, name, f"bias_{kind}"


def _unflatten(stack: Stack, values: Params) -> list[Params]:
    single = len(stack.units) == 1
    return [{name: values[name + ("" if single else unit_suffix(layer, d))]
             for name in stack.units[u] if name not in stack.fixed}
            for u, (layer, d) in enumerate(stack.unit_keys())]


def torch_state(stack: Stack) -> dict[str, np.ndarray]:
    """The model as a PyTorch state_dict (no prefix; the head as `weight`, `bias`). The RNN's and
    the LSTM's one bias goes to the first bias the model has (bias_ih), the other is zero: only
    their sum is defined."""
    out = {}
    for u, suffix, name, key in _torch_pairs(stack):
        value = stack.units[u][name]
        if stack.cell.h_bias is None and key.startswith("bias") and key != f"bias_{stack.biases[0]}":
            value = np.zeros_like(value)
        out[key + suffix] = value.T.copy() if value.ndim == 2 else value.copy()
    out.update(weight=stack.head["W_hy"].T.copy(), bias=stack.head["b_y"].copy())
    return out


def torch_grads(stack: Stack, grads: Params) -> dict[str, np.ndarray]:
    """Gradients keyed by PyTorch name, from the flat gradients of `StackSweep.param_grads()`:
    every parameter the PyTorch model has (for the RNN and the LSTM, bias_ih and bias_hh both get
    the core bias's gradient)."""
    units = _unflatten(stack, grads)
    out = {}
    for u, suffix, name, key in _torch_pairs(stack):
        g = units[u][name]
        out[key + suffix] = g.T.copy() if g.ndim == 2 else g.copy()
    out.update(weight=grads["W_hy"].T.copy(), bias=grads["b_y"].copy())
    return out


# --- forward and backward through depth and time -------------------------------------------

class Unit:
    """One (layer, direction) of a running model: its sweep, and its steps and arrays by time t."""

    __slots__ = ("T", "direction", "injected", "layer", "reverse", "sweep", "times")

    def __init__(self, layer: int, direction: str, sweep: Sweep):
        self.layer, self.direction, self.sweep = layer, direction, sweep
        self.reverse = direction == "backward"
        self.T = sweep.T
        # ∂L/∂h from outside the unit (the readout or the layer above), by the sweep's own step
        # k (index k; None: nothing at that step)
        self.injected: list[np.ndarray | None] = [None] * (self.T + 1)
        # times[k]: the time t of the sweep's own step k (a list: read at every frame)
        self.times = list(range(self.T + 1, 0, -1)) if self.reverse else list(range(self.T + 1))

    def time(self, k: int) -> int:
        """The time t of the sweep's own step k."""
        return self.times[k]

    def in_time(self, a: np.ndarray | None) -> np.ndarray | None:
        """An array indexed by the sweep's own step (axis 0), indexed by time."""
        return a[::-1] if self.reverse and a is not None else a

    def forward_step(self, k: int):
        """The sweep's own step k (1..T in order), time t = time(k): returns (s_t, cache)."""
        return self.sweep.forward_step(k)

    def backward_step(self, k: int) -> np.ndarray:
        """The sweep's own step k back (T..1), time t = time(k): returns ∂L/∂h_t [B, H]."""
        return self.sweep.backward_step(k, self.injected[k])

    # arrays by time t = 1..T (after the sweeps), views into the sweep's
    def hidden_states(self) -> np.ndarray:
        return self.in_time(self.sweep.hidden_states())

    def state_grads(self, item: int | None = None) -> np.ndarray:
        return self.in_time(self.sweep.state_grads(item))

    def grad_norms(self) -> np.ndarray:
        return self.in_time(self.sweep.grad_norms())

    def jacobian_norms(self) -> np.ndarray | None:
        """‖∂s_end/∂s_t‖₂ of batch item 0 within the unit: s_end = s_T for the forward
        direction, s_1 for the backward one (where its recursion ends)."""
        return self.in_time(self.sweep.jacobian_norms())

    def cell_grad_norms(self) -> np.ndarray | None:
        return self.in_time(self.sweep.cell_grad_norms())

    def preactivations(self) -> np.ndarray | None:
        return self.in_time(self.sweep.preactivations())


class StackSweep:
    """One stacked, maybe bidirectional model's forward and backward pass through X [T, B, D].

    Step by step (as `core.run` streams it): for layer = 1..L, `start_layer(layer)`, then the
    units' `forward_step(k)` for k = 1..T; `compute_loss()`; for layer = L..1,
    `start_layer_backward(layer)`, then the units' `backward_step(k)` for k = T..1; then
    `param_grads()`. Or all of it: `run()`.
    """

    def __init__(
        self, stack: Stack, X: np.ndarray, targets: np.ndarray, loss_at="last", loss_kind: str = "mse",
        loss_scale: float | None = None, jacobian: bool = False, cell_grads: bool = False,
        input_grads: bool = False, overlap: bool | None = None,
    ):
        """`input_grads`: keep ∂L/∂x_t of the model's input (`input_grads()`)."""
        T, B, D = X.shape
        if D != stack.input_size:
            raise ValueError(f"the inputs have {D} features, the model's first layer takes "
                             f"{stack.input_size}")
        self.stack, self.X, self.targets, self.loss_at = stack, X, targets, loss_at
        self.loss_kind, self.loss_scale = loss_kind, loss_scale
        self.T, self.B = T, B
        self.options = {"jacobian": jacobian, "cell_grads": cell_grads, "overlap": overlap}
        self.keep_input_grads = input_grads
        self.layers: list[list[Unit]] = []  # the units of layers 1..(started so far)
        self.loss: float | None = None

    @property
    def num_layers(self) -> int:
        return self.stack.num_layers

    @property
    def units(self) -> list[Unit]:
        """Every started unit, in PyTorch's order."""
        return [u for layer in self.layers for u in layer]

    def layer_units(self, layer: int) -> list[Unit]:
        return self.layers[layer - 1]

    def unit(self, layer: int, direction: str = "forward") -> Unit:
        return self.layers[layer - 1][DIRECTIONS.index(direction)]

    def _output(self, layer: int) -> np.ndarray:
        """o_t of a layer whose forward sweeps are done, [T, B, dirs·H] (a view for one direction)."""
        units = self.layer_units(layer)
        for u in units:
            u.sweep.start_backward()  # stacks h_0..h_T
        if len(units) == 1:
            return units[0].hidden_states()
        return np.concatenate([u.hidden_states() for u in units], axis=-1)

    # --- forward ------------------------------------------------------------------------
    def start_layer(self, layer: int) -> list[Unit]:
        """The units of `layer` (layers in order 1..L, each after the one below has run
        forward), their sweeps reading x_t or the output of the layer below."""
        if layer != len(self.layers) + 1 or layer > self.num_layers:
            raise ValueError(f"layer {layer} cannot start after {len(self.layers)} of {self.num_layers}")
        X = self.X if layer == 1 else self._output(layer - 1)
        input_grads = layer > 1 or self.keep_input_grads
        units = []
        for direction in DIRECTIONS[:self.stack.directions]:
            P = self.stack.units[self.stack.unit_index(layer, direction)]
            X_u = np.ascontiguousarray(X[::-1]) if direction == "backward" else X
            sweep = Sweep(self.stack.cell, P, X_u, None, self.loss_at, input_grads=input_grads,
                          **self.options)
            units.append(Unit(layer, direction, sweep))
        self.layers.append(units)
        return units

    def compute_loss(self) -> float:
        """L, after every layer's forward sweeps (kept in `loss`); sets up ∂L/∂y and injects
        ∂L/∂o_t^(L) = ∂L/∂y_t W_hyᵀ into the top layer."""
        if len(self.layers) != self.num_layers:
            raise ValueError("compute_loss needs every layer's forward sweeps first")
        head = self.stack.head
        self.H_top = self._output(self.num_layers)  # o_t^(L), [T, B, dirs·H]
        loss, self.dY, self.Y = output_grads(self.H_top, head, self.targets, self.loss_at,
                                             self.loss_kind, self.loss_scale)
        self.loss_steps = np.arange(self.T)[loss_step_index(self.loss_at, self.T)]  # 0-based
        dO = self.dY[self.loss_steps] @ head["W_hy"].T  # [|S|, B, dirs·H]
        self._inject(self.num_layers, dict(zip(self.loss_steps.tolist(), dO, strict=True)))
        self.loss = loss
        return loss

    def _inject(self, layer: int, dO) -> None:
        """Hand ∂L/∂o_t of `layer` (dO[t − 1] for the 0-based t it holds: a dict or an array
        [T, B, dirs·H]) to its units, each its half."""
        H = self.stack.hidden_size
        units = self.layer_units(layer)
        steps = dO.keys() if isinstance(dO, dict) else range(self.T)
        for j, u in enumerate(units):
            for s in steps:
                part = dO[s] if len(units) == 1 else dO[s][..., j * H:(j + 1) * H]
                u.injected[self.T - s if u.reverse else s + 1] = part

    # --- backward -----------------------------------------------------------------------
    def start_layer_backward(self, layer: int) -> list[Unit]:
        """The units of `layer` ready to go back (layers L..1 in order, each after the one above
        has gone back): below the top, ∂L/∂o_t of the layer is what the layer above returned."""
        if layer < self.num_layers:
            self._inject(layer, self._input_grads(layer + 1))
        return self.layer_units(layer)

    def _input_grads(self, layer: int) -> np.ndarray:
        """∂L/∂(the input of `layer`) [T, B, D_in], both directions summed, by time."""
        units = self.layer_units(layer)
        dX = units[0].in_time(units[0].sweep.input_grads())
        for u in units[1:]:
            dX = dX + u.in_time(u.sweep.input_grads())
        return dX

    def input_grads(self) -> np.ndarray:
        """∂L/∂x_t [T, B, D] of the model's input (with input_grads=True, after the sweeps)."""
        if not self.keep_input_grads:
            raise ValueError("StackSweep(..., input_grads=True) keeps ∂L/∂x_t")
        return self._input_grads(1)

    def param_grads(self) -> Params:
        """∂L/∂P, flat under the names of `Stack.params()`, after the backward sweeps."""
        B, idx = self.B, self.loss_steps
        H_S = self.H_top[idx].reshape(len(idx) * B, -1)
        dY_S = self.dY[idx].reshape(len(idx) * B, -1)
        head = {"W_hy": H_S.T @ dY_S, "b_y": dY_S.sum(axis=0)}
        units = [self.units[u].sweep.param_grads() for u in range(len(self.stack.units))]
        return self.stack.flatten(units, head)

    def outputs(self) -> np.ndarray:
        """y_t [T, B, O], zero outside S (after compute_loss)."""
        return self.Y

    def run(self) -> float:
        """The whole model forward and back. Returns L."""
        for layer in range(1, self.num_layers + 1):
            for u in self.start_layer(layer):
                for k in range(1, self.T + 1):
                    u.forward_step(k)
        loss = self.compute_loss()
        for layer in range(self.num_layers, 0, -1):
            for u in self.start_layer_backward(layer):
                for k in range(self.T, 0, -1):
                    u.backward_step(k)
        return loss
