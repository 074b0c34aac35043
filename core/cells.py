"""Recurrent cells: vanilla RNN, LSTM and GRU, one time step forward and backward.

Row-vector convention (shapes in brackets; B batch, D input, H hidden):

    RNN   a = x_t W_xh + h_{t−1} W_hh + b_h,   h_t = φ(a)
    LSTM  a = x_t W_x + h_{t−1} W_h + b        blocks i, f, g, o (PyTorch's order)
          c_t = σ(a_f) ⊙ c_{t−1} + σ(a_i) ⊙ tanh(a_g),   h_t = σ(a_o) ⊙ tanh(c_t)
    GRU   ax = x_t W_x + b_x,  ah = h_{t−1} W_h + b_h   blocks r, z, n
          r = σ(ax_r + ah_r),  z = σ(ax_z + ah_z),  n = tanh(ax_n + r ⊙ ah_n)
          h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}

Every cell splits a step into the input projection `ax = x_t W_x + b_x` [B, G·H] and a
core that does the rest. The core is shared by the composed step functions below and
by the sequence code in `core.bptt`, which projects all T inputs in one product before
its loop. The core's backward returns the gradient with respect to the projection
`ax` and with respect to the recurrent pre-activation `ah = h_{t−1} W_h (+ b_h)`; every
parameter gradient is a product of those with the inputs or the previous hidden states
(for the RNN and the LSTM the two are the same array; the GRU's candidate block differs
by the reset gate).

A state is a tuple: (h,) or, for the LSTM, (h, c). A state gradient is a tuple of the
same shape; for the LSTM it is (∂L/∂h_t, ∂L/∂c_t) with c_t's part counting only the
paths that leave the step through c_t (the path through h_t is in the first entry).
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from gradient_flow_lab.core.activations import ACTIVATIONS, Activation, get_activation, sigmoid

Params = dict[str, np.ndarray]
State = tuple[np.ndarray, ...]


def transposed(P: Params, name: str) -> np.ndarray:
    """P[name]ᵀ: the copy `Cell.with_transposes` made, or else a view."""
    copy = P.get(name + ".T")
    return P[name].T if copy is None else copy


@dataclass(frozen=True)
class Cell(ABC):
    """Shared plumbing: parameter names, the projection, and the composed step functions."""

    name: str = ""
    gates: int = 1  # G: number of H-wide blocks in W_x and W_h
    gate_names: tuple[str, ...] = ()
    state_names: tuple[str, ...] = ("h",)
    x_weight: str = "W_x"
    h_weight: str = "W_h"
    x_bias: str = "b"
    h_bias: str | None = None  # GRU only: a bias inside the recurrent projection
    activation: Activation | None = None  # φ of the vanilla RNN; None for the gated cells

    @property
    def label(self) -> str:
        return self.name.upper()

    @property
    def has_cell_state(self) -> bool:
        """Does the state carry a cell state c_t beside h_t (the LSTM)?"""
        return len(self.state_names) > 1

    def param_shapes(self, D: int, H: int, O: int) -> dict[str, tuple[int, ...]]:
        """Parameter names and shapes, in the order initialisation draws them."""
        G = self.gates
        shapes = {self.x_weight: (D, G * H), self.h_weight: (H, G * H), self.x_bias: (G * H,)}
        if self.h_bias is not None:
            shapes[self.h_bias] = (G * H,)
        shapes["W_hy"] = (H, O)
        shapes["b_y"] = (O,)
        return shapes

    def zero_state(self, B: int, H: int) -> State:
        return tuple(np.zeros((B, H)) for _ in self.state_names)

    def with_transposes(self, P: Params, batch: int) -> Params:
        """P and, for a batch of more than one sequence, a C-contiguous copy of the recurrent
        weight's transpose, for many steps: the backward products read it through `transposed`
        (at B = 32, H = 128 the LSTM's ∂L/∂h_{t−1} product takes 99 µs from the copy and
        128 µs from the transposed view; at B = 4, H = 256, 105 µs and 221 µs). For one
        sequence the product is a matrix-vector one, as fast from the view (29 and 31 µs at
        H = 256), and the copy would only cost memory: for a large uploaded network, almost
        the size of its file again."""
        if batch == 1:
            return P
        return {**P, self.h_weight + ".T": np.ascontiguousarray(P[self.h_weight].T)}

    def project(self, x: np.ndarray, P: Params) -> np.ndarray:
        """ax = x W_x + b_x for x of shape [..., D] -> [..., G·H]."""
        return x @ P[self.x_weight] + P[self.x_bias]

    @abstractmethod
    def forward_core(self, ax: np.ndarray, state: State, P: Params) -> tuple[State, tuple]:
        """One step from the projected input ax [B, G·H]: returns (state_t, cache).

        The cache starts with h_{t−1}; the rest is what `backward_core` needs.
        """

    @abstractmethod
    def backward_core(
        self, d_state: State, cache: tuple, P: Params
    ) -> tuple[State, np.ndarray, np.ndarray]:
        """One step back: returns (d_state_prev, ∂L/∂ax [B, G·H], ∂L/∂ah [B, G·H])."""

    def gate_values(self, cache: tuple) -> dict[str, np.ndarray]:
        """Gate activations of a step, by name (empty for the vanilla RNN)."""
        return {}

    def preactivation(self, cache: tuple) -> np.ndarray | None:
        """The vanilla RNN's z = x_t W_xh + h_{t−1} W_hh + b_h of a step; None for the gated cells."""
        return None

    # --- composed step functions (the reference the fused sequence code is tested against)
    def step_forward(self, x_t: np.ndarray, state: State, P: Params) -> tuple[State, tuple]:
        """One step from the raw input x_t [B, D]: returns (state_t, cache)."""
        state, core_cache = self.forward_core(self.project(x_t, P), state, P)
        return state, (x_t, core_cache)

    def step_backward(
        self, d_state: State, cache: tuple, P: Params
    ) -> tuple[State, np.ndarray, Params]:
        """One step back: returns (d_state_prev, dx_t [B, D], this step's parameter terms)."""
        x_t, core_cache = cache
        h_prev = core_cache[0]
        d_state_prev, d_ax, d_ah = self.backward_core(d_state, core_cache, P)
        terms = {
            self.x_weight: x_t.T @ d_ax,
            self.h_weight: h_prev.T @ d_ah,
            self.x_bias: d_ax.sum(axis=0),
        }
        if self.h_bias is not None:
            terms[self.h_bias] = d_ah.sum(axis=0)
        dx_t = d_ax @ P[self.x_weight].T
        return d_state_prev, dx_t, terms


@dataclass(frozen=True)
class RNNCell(Cell):
    """h_t = φ(x_t W_xh + h_{t−1} W_hh + b_h) for any φ in the activation table."""

    activation: Activation = ACTIVATIONS["tanh"]
    name: str = "rnn"
    x_weight: str = "W_xh"
    h_weight: str = "W_hh"
    x_bias: str = "b_h"

    @property
    def label(self) -> str:
        return f"RNN ({self.activation.name})"

    def forward_core(self, ax, state, P):
        (h_prev,) = state
        z = h_prev @ P["W_hh"]
        z += ax
        h = self.activation.phi(z)
        return (h,), (h_prev, z, h)

    def preactivation(self, cache):
        return cache[1]

    def backward_core(self, d_state, cache, P):
        (dh,) = d_state
        h = cache[2]
        dz = dh * self.activation.dphi(h)  # back through φ (φ' from the output)
        dh_prev = dz @ transposed(P, "W_hh")  # back through h_{t−1} W_hh
        return (dh_prev,), dz, dz


@dataclass(frozen=True)
class LSTMCell(Cell):
    """The LSTM of the contract, gate blocks i, f, g, o."""

    name: str = "lstm"
    gates: int = 4
    gate_names: tuple[str, ...] = ("input", "forget", "cell", "output")
    state_names: tuple[str, ...] = ("h", "c")

    def forward_core(self, ax, state, P):
        h_prev, c_prev = state
        H = h_prev.shape[-1]
        a = h_prev @ P["W_h"]
        a += ax
        g = np.tanh(a[:, 2 * H:3 * H])
        s = sigmoid(a, out=a)  # σ of every block (in place); the g block is set to tanh
        s[:, 2 * H:3 * H] = g
        i, f, g, o = s[:, :H], s[:, H:2 * H], s[:, 2 * H:3 * H], s[:, 3 * H:]
        c = f * c_prev
        c += i * g
        tc = np.tanh(c)
        h = o * tc
        # K: what ∂L/∂c (blocks i, f, g) or ∂L/∂h (block o) is multiplied by to give ∂L/∂a, so
        # that the backward step (run once per row of the Jacobian too) is two products
        K = 1.0 - s
        K *= s  # σ' = σ(1 − σ)
        K[:, :H] *= g  # ∂c/∂a_i = g σ'(a_i)
        K[:, H:2 * H] *= c_prev  # ∂c/∂a_f = c_{t−1} σ'(a_f)
        np.multiply(g, g, out=K[:, 2 * H:3 * H])
        np.subtract(1.0, K[:, 2 * H:3 * H], out=K[:, 2 * H:3 * H])
        K[:, 2 * H:3 * H] *= i  # ∂c/∂a_g = i tanh'(a_g)
        K[:, 3 * H:] *= tc  # ∂h/∂a_o = tanh(c) σ'(a_o)
        return (h, c), (h_prev, s, K, tc)

    @staticmethod
    def total_cell_grad(d_state, cache):
        """∂L/∂c_t [B, H], the total derivative: the path through c_{t+1} (`d_state[1]`) plus
        the one through h_t = o ⊙ tanh(c_t)."""
        dh, dc_next = d_state
        _, s, _, tc = cache
        dc = dh * s[:, 3 * tc.shape[-1]:]
        dc *= 1.0 - tc * tc
        dc += dc_next  # back through h = o ⊙ tanh(c)
        return dc

    def backward_core(self, d_state, cache, P, dc=None):
        """`dc`: ∂L/∂c_t from `total_cell_grad`, when the caller has it already."""
        dh, _ = d_state
        _, s, K, tc = cache
        H = tc.shape[-1]
        f = s[:, H:2 * H]
        if dc is None:
            dc = self.total_cell_grad(d_state, cache)
        rows = max(len(dh), len(tc))  # the batch, or a Jacobian block's S rows against batch 1
        da = np.empty((rows, 4, H))
        np.multiply(dc[:, None, :], K[:, :3 * H].reshape(-1, 3, H), out=da[:, :3])  # back to a_i, a_f, a_g
        np.multiply(dh, K[:, 3 * H:], out=da[:, 3])  # back to a_o
        da = da.reshape(rows, 4 * H)
        dh_prev = da @ transposed(P, "W_h")
        dc_prev = dc * f
        return (dh_prev, dc_prev), da, da

    def gate_values(self, cache):
        s = cache[1]  # σ of every block, tanh for g (cache[2] holds the backward factors)
        H = s.shape[-1] // 4
        return {"input": s[:, :H], "forget": s[:, H:2 * H], "cell": s[:, 2 * H:3 * H],
                "output": s[:, 3 * H:]}


@dataclass(frozen=True)
class GRUCell(Cell):
    """The GRU of the contract (PyTorch's equations), gate blocks r, z, n."""

    name: str = "gru"
    gates: int = 3
    gate_names: tuple[str, ...] = ("reset", "update", "candidate")
    x_bias: str = "b_x"
    h_bias: str | None = "b_h"

    def forward_core(self, ax, state, P):
        (h_prev,) = state
        H = h_prev.shape[-1]
        ah = h_prev @ P["W_h"]
        ah += P["b_h"]
        rz = ax[:, :2 * H] + ah[:, :2 * H]
        rz = sigmoid(rz, out=rz)
        r, z = rz[:, :H], rz[:, H:]
        ah_n = ah[:, 2 * H:]
        n = r * ah_n
        n += ax[:, 2 * H:]
        np.tanh(n, out=n)
        h = h_prev - n
        h *= z
        h += n  # = (1 − z) ⊙ n + z ⊙ h_{t−1}
        return (h,), (h_prev, r, z, n, ah_n)

    def backward_core(self, d_state, cache, P):
        (dh,) = d_state
        h_prev, r, z, n, ah_n = cache
        H = n.shape[-1]
        rows = max(len(dh), len(n))  # as in the LSTM
        d_ax = np.empty((rows, 3 * H))
        dr, dz, dn = d_ax[:, :H], d_ax[:, H:2 * H], d_ax[:, 2 * H:]
        np.multiply(n, n, out=dn)
        np.subtract(1.0, dn, out=dn)
        dn *= dh
        dn *= 1.0 - z  # back through (1 − z) ⊙ n, then tanh
        np.multiply(dn, ah_n, out=dr)
        dr *= r
        dr *= 1.0 - r  # back through r ⊙ ah_n, then σ
        np.subtract(h_prev, n, out=dz)
        dz *= dh
        dz *= z
        dz *= 1.0 - z  # back through z ⊙ (h_{t−1} − n), then σ
        d_ah = d_ax.copy()
        d_ah[:, 2 * H:] *= r  # the candidate's recurrent part sits inside r ⊙ (·)
        dh_prev = d_ah @ transposed(P, "W_h")
        dh_prev += dh * z
        return (dh_prev,), d_ax, d_ah

    def gate_values(self, cache):
        _, r, z, n, _ = cache
        return {"reset": r, "update": z, "candidate": n}


CELL_TYPES: dict[str, type[Cell]] = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}
CELLS = tuple(CELL_TYPES)


def make_cell(cell: str, activation: str | None = None) -> Cell:
    """The cell named `cell`; `activation` only for the vanilla RNN (default tanh)."""
    if cell not in CELL_TYPES:
        raise ValueError(f"unknown cell {cell!r}; choose from {list(CELLS)}")
    if cell == "rnn":
        return RNNCell(activation=get_activation(activation or "tanh"))
    if activation is not None:
        raise ValueError(f"activation applies to the rnn cell only, not {cell!r}")
    return CELL_TYPES[cell]()
