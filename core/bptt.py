"""Backpropagation through time, one step at a time.

Output and loss (row vectors; S = {T} for at = "last", {1..T} for at = "all"):

    y_t = h_t W_hy + b_y,        L = (1/B) Σ_b Σ_{t∈S} ½ ‖y_{t,b} − y*_{t,b}‖²

`Sweep` runs one model over one sequence: `forward_step(t)` for t = 1..T, then
`compute_loss()`, then `backward_step(t)` for t = T..1, then `param_grads()` (or all of it at
once: `run()`); its results are read through `hidden_states()`, `state_grads()`,
`grad_norms()` and the like, indexed t = 1..T. Each step composes the cell's
`forward_core` / `backward_core`; what makes it fast is around the loop: the input
projections are one product per block of BLOCK steps, and every weight gradient is one
product per block (`X_blockᵀ dAX_block`, `H_prevᵀ dAH_block`), not T small outer products.
Blocks rather than the whole sequence: the [T, B, G·H] arrays of a long batched run are
hundreds of MB, and making them costs more (fresh pages) than the products themselves. The
recursion never needs the weight gradients, so a large block's products run on a helper
thread while the sweep fills a spare pair of block buffers (BLAS releases the GIL; the sums
are added in the same order either way). `composed_bptt` is the plain reference built from
`Cell.step_forward` / `step_backward`; tests hold the two to the same numbers.

A sweep without a readout (`targets=None`) is one layer of a larger model (`core.stack`): its
caller calls `start_backward()` in place of `compute_loss()` and hands `backward_step(t, dh_in)`
the gradient ∂L/∂h_t that reaches h_t from outside the layer (from the readout, or from the
layer above); ∂L/∂h_t in `grad_norm` is then the total derivative, that part plus the path
through s_{t+1}. With `input_grads=True` the sweep also returns ∂L/∂x_t [T, B, D], one product
per block like the weight gradients (`dAX_block W_xᵀ`, on the helper thread when there is one):
what the layer below gets from this one.

With `jacobian=True` the sweep also carries M_t = ∂s_T/∂s_t for batch item 0 (s = h, or
(h, c) for the LSTM), one row per component of s_T. Going back a step is the cell's own
backward applied to those rows, M_{t−1} = M_t ∂s_t/∂s_{t−1}; M is kept normalised with its
scale in log space, so a vanishing product never sinks into slow subnormal arithmetic.
"""

import threading
from collections.abc import Callable

import numpy as np

from gradient_flow_lab.core.cells import Cell, Params, State
from gradient_flow_lab.core.spectral import TopSingularValue

BLOCK = 64  # steps per input projection and per weight-gradient product
CHECKPOINT_STEPS = 8  # a caller's checkpoint is called this often (a stop within a few steps)
# A block's weight-gradient products run on a helper thread, beside the recursion (which does
# not need them), when they are at least this many multiply-adds: ≈ 1 ms, well above the cost
# of a thread (LSTM at H = 128: from B = 8 on). At B = 32, H = 128 they are a sixth of an LSTM's
# sweep and a fifth of a GRU's.
OVERLAP_MIN_MACS = 2**25


def stack_rows(arrays) -> np.ndarray:
    """np.stack(arrays) for a non-empty list of equal-shape arrays, 3–5× faster for the long
    lists of small per-step arrays a sweep collects (np.stack expands every array first)."""
    return np.concatenate(arrays).reshape(len(arrays), *np.shape(arrays[0]))


def frobenius(x: np.ndarray) -> float:
    """‖x‖_F without underflow or overflow of the sum of squares: plainly when that sum is well
    inside float64, else scaled by the largest |entry| (a vanishing gradient of 1e−170 has a
    norm of 1e−170, not 0). NaN and inf propagate."""
    flat = x.ravel()
    sq = float(flat @ flat)
    if 1e-280 < sq < 1e280:
        return float(np.sqrt(sq))
    m = float(np.max(np.abs(flat))) if flat.size else 0.0
    if m == 0.0 or not np.isfinite(m):
        return m
    scaled = flat / m
    return m * float(np.sqrt(scaled @ scaled))


def loss_step_index(loss_at, T: int):
    """The 0-based time indices of S: "last" -> [T−1], "all" -> 0..T−1, or explicit indices."""
    if isinstance(loss_at, str):
        if loss_at == "last":
            return slice(T - 1, T)
        if loss_at == "all":
            return slice(0, T)
        raise ValueError(f"loss_at must be 'last', 'all' or step indices, not {loss_at!r}")
    return np.asarray(loss_at, dtype=np.intp)


def output_grads(
    H_all: np.ndarray, P: Params, targets: np.ndarray, loss_at="last", loss_kind: str = "mse",
    scale: float | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Loss, ∂L/∂y [T, B, O] (zero outside S) and the outputs y [T, B, O] (zero outside S)
    for hidden states H_all [T, B, H] (t = 1..T).

    loss_kind "mse":  L = scale · Σ_{t∈S} Σ_b ½‖y_{t,b} − y*_{t,b}‖²,   targets [T, B, O]
    loss_kind "xent": L = −scale · Σ_{t∈S} Σ_b log softmax(y_{t,b})[k_{t,b}],  targets [T, B] class
                 indices k (softmax cross-entropy on the logits y)
    scale defaults to 1/B, the contract's mean over the batch.
    """
    T, B, _ = H_all.shape
    O = P["W_hy"].shape[1]
    scale = 1.0 / B if scale is None else scale
    steps = loss_step_index(loss_at, T)
    Y = np.zeros((T, B, O))
    dY = np.zeros((T, B, O))
    Y_s = H_all[steps] @ P["W_hy"] + P["b_y"]
    Y[steps] = Y_s
    if loss_kind == "mse":
        diff = Y_s - targets[steps]
        value = 0.5 * scale * float(np.sum(diff * diff))
        dY[steps] = scale * diff  # back through ½‖y − y*‖²
    elif loss_kind == "xent":
        k = np.asarray(targets[steps], dtype=np.intp)
        shifted = Y_s - Y_s.max(axis=-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        picked = np.take_along_axis(log_p, k[..., None], axis=-1)
        value = -scale * float(np.sum(picked))
        d = np.exp(log_p)
        np.put_along_axis(d, k[..., None], np.take_along_axis(d, k[..., None], axis=-1) - 1.0, axis=-1)
        dY[steps] = scale * d  # back through −log softmax: p − onehot(k)
    else:
        raise ValueError(f"loss_kind must be 'mse' or 'xent', not {loss_kind!r}")
    return value, dY, Y


class Sweep:
    """One model's forward and backward pass through one sequence X [T, B, D]."""

    def __init__(
        self,
        cell: Cell,
        P: Params,
        X: np.ndarray,
        targets: np.ndarray,
        loss_at="last",
        jacobian: bool = False,
        state0: State | None = None,
        loss_kind: str = "mse",
        loss_scale: float | None = None,
        cell_grads: bool = False,
        overlap: bool | None = None,
        input_grads: bool = False,
    ):
        """`targets` None: no readout and no loss (see the module doc). `input_grads`: keep
        ∂L/∂x_t (`input_grads()`). `overlap`: the weight-gradient products of a block on a
        helper thread (None: when they are large enough, see OVERLAP_MIN_MACS). The sums are
        the same either way, bit for bit: the blocks are added in the same order."""
        T, B, D = X.shape
        H = P[cell.h_weight].shape[0]
        self.loss_steps = np.arange(T)[loss_step_index(loss_at, T)]  # 0-based indices of S
        self.cell, self.P, self.X, self.targets, self.loss_at = cell, P, X, targets, loss_at
        self.P_steps = cell.with_transposes(P, B)  # what the steps read
        self.loss_kind, self.loss_scale = loss_kind, loss_scale
        self.T, self.B, self.H = T, B, H
        self.AX_block = np.empty((0, B, cell.gates * H))  # x_t W_x + b_x for one block of steps
        if state0 is None:
            state0 = cell.zero_state(B, H)
        self.state = state0  # s_t after forward_step(t)
        self.hs = [state0[0]]  # h_0..h_T
        self.caches: list[tuple] = [()]  # caches[t] for t = 1..T
        self.dH: list[np.ndarray] = []  # ∂L/∂h_t, the total derivative, for t = T..1
        self.dH_out: dict[int, np.ndarray] = {}  # ∂L/∂h_t through y_t alone (0-based t ∈ S)
        self.dX = np.empty((T, B, D)) if input_grads else None  # ∂L/∂x_t, filled block by block
        # ∂L/∂ax_t and ∂L/∂ah_t of one block of steps, and the weight gradients summed so far
        self.dAX_block = np.empty((BLOCK, B, cell.gates * H))
        self.dAH_block = np.empty_like(self.dAX_block) if cell.h_bias is not None else self.dAX_block
        if overlap is None:  # the block's products: X_blockᵀ dAX, H_prevᵀ dAH (and dAX W_xᵀ)
            overlap = BLOCK * B * cell.gates * H * ((2 if input_grads else 1) * D + H) >= OVERLAP_MIN_MACS
        self.worker: threading.Thread | None = None  # a block's products in flight
        self.worker_error: BaseException | None = None
        # while the helper reads one pair of block buffers, the sweep fills the other (a pair
        # may be one array twice, as the sweep's own)
        spare = np.empty_like(self.dAX_block)
        self.spare_blocks = ((spare, np.empty_like(spare) if self.dAH_block is not self.dAX_block else spare)
                             if overlap else None)
        # np.zeros, not zeros_like: calloc's pages, touched only when the backward sweep adds to
        # them, so the forward sweep of a large network does not hold its gradients' size too
        self.grads = {name: np.zeros(p.shape) for name, p in P.items()}
        self.grad_norm = np.zeros(T + 1)  # ‖∂L/∂h_t‖_F; index t
        # ‖∂L/∂c_t‖_F (the LSTM's total cell-state gradient; index t), when asked for
        self.cell_grad_norm = np.zeros(T + 1) if cell_grads and cell.has_cell_state else None
        self.jacobian = jacobian
        self.jacobian_norm = np.full(T + 1, np.nan) if jacobian else None
        self.loss: float | None = None  # L, once compute_loss() has run
        self.backward_ready = False  # start_backward() has run

    # --- forward ---------------------------------------------------------------------
    def forward_step(self, t: int) -> tuple[State, tuple]:
        """Step t (1-based): s_t from s_{t−1}. Returns (s_t, the step's cache)."""
        k = (t - 1) % BLOCK
        if k == 0:  # the input projections of steps t..t+BLOCK−1: one product
            self.AX_block = self.cell.project(self.X[t - 1:t - 1 + BLOCK], self.P)
        state, cache = self.cell.forward_core(self.AX_block[k], self.state, self.P_steps)
        self.state = state
        self.hs.append(state[0])
        self.caches.append(cache)
        return state, cache

    def start_backward(self) -> None:
        """After the forward sweep: h_0..h_T stacked (`hidden_states()`), ∂L/∂s_T = 0 and, with
        jacobian, M_T = I. `compute_loss()` calls it; for a sweep without a readout its caller
        does (a second call does nothing)."""
        if self.backward_ready:
            return
        self.backward_ready = True
        self.H_all = stack_rows(self.hs)  # h_0..h_T, [T + 1, B, H]
        self.d_state = tuple(np.zeros((self.B, self.H)) for _ in self.cell.state_names)
        if self.jacobian:
            S = self.H * len(self.cell.state_names)
            self.M = np.eye(S)  # ∂s_T/∂s_T, normalised
            self.log_scale = 0.0
            self.top_sv = TopSingularValue(S)

    def compute_loss(self) -> float:
        """L, after the forward sweep (kept in `loss`); also sets up ∂L/∂y."""
        self.start_backward()
        loss, self.dY, self.Y = output_grads(self.H_all[1:], self.P, self.targets, self.loss_at,
                                             self.loss_kind, self.loss_scale)
        # ∂L/∂h_t through y_t alone, for t ∈ S only
        self.dH_out = dict(zip(self.loss_steps.tolist(), self.dY[self.loss_steps] @ self.P["W_hy"].T,
                               strict=True))
        self.loss = loss
        return loss

    # --- backward --------------------------------------------------------------------
    def backward_step(self, t: int, dh_in: np.ndarray | None = None) -> np.ndarray:
        """Step t back (T..1): returns ∂L/∂h_t [B, H], the total derivative; its norm is in
        `grad_norm[t]` and, with jacobian, ‖∂s_T/∂s_t‖₂ in `jacobian_norm[t]`. `dh_in` [B, H]:
        the part of ∂L/∂h_t that comes from outside the sweep (None: none). After t = 1,
        `d_state` holds ∂L/∂s_0."""
        dh = self.d_state[0]
        direct = self.dH_out.get(t - 1)
        if direct is not None:
            dh = dh + direct
        if dh_in is not None:
            dh = dh + dh_in
        self.dH.append(dh)
        self.grad_norm[t] = frobenius(dh)
        d_state = (dh, *self.d_state[1:])
        if self.cell_grad_norm is None:
            self.d_state, d_ax, d_ah = self.cell.backward_core(d_state, self.caches[t], self.P_steps)
        else:  # the LSTM's ∂L/∂c_t, computed once for its norm and for the step
            dc = self.cell.total_cell_grad(d_state, self.caches[t])
            self.cell_grad_norm[t] = frobenius(dc)
            self.d_state, d_ax, d_ah = self.cell.backward_core(d_state, self.caches[t], self.P_steps, dc=dc)
        k = (t - 1) % BLOCK
        self.dAX_block[k] = d_ax
        if self.dAH_block is not self.dAX_block:
            self.dAH_block[k] = d_ah
        if k == 0:
            self._block_done(t - 1, min(t - 1 + BLOCK, self.T))
        if self.jacobian:
            self._jacobian_step(t)
        return dh

    def _block_done(self, start: int, stop: int) -> None:
        """The block of steps start+1..stop is complete: add its weight gradients now, or
        hand them to a helper thread and fill the spare buffers meanwhile."""
        if self.spare_blocks is None:
            self._accumulate_weight_grads(self.dAX_block, self.dAH_block, start, stop)
            return
        self._join_worker()  # done with the spare buffers
        full = (self.dAX_block, self.dAH_block)
        self.worker = threading.Thread(target=self._accumulate_in_worker,
                                       args=(*full, start, stop, np.geterr()),
                                       name="gfl-weight-grads", daemon=True)
        self.worker.start()
        (self.dAX_block, self.dAH_block), self.spare_blocks = self.spare_blocks, full

    def _accumulate_in_worker(self, dAX_block, dAH_block, start: int, stop: int, errors: dict) -> None:
        try:
            with np.errstate(**errors):  # the sweep's caller's error state, not the thread's default
                self._accumulate_weight_grads(dAX_block, dAH_block, start, stop)
        except BaseException as error:  # handed to the sweep's thread by _join_worker
            self.worker_error = error

    def _join_worker(self) -> None:
        if self.worker is not None:
            self.worker.join()
            self.worker = None
        if self.worker_error is not None:
            error, self.worker_error = self.worker_error, None
            raise error

    def _accumulate_weight_grads(self, dAX_block, dAH_block, start: int, stop: int) -> None:
        """Add the weight gradients of steps start+1..stop (0-based start:stop): one product per
        weight for the whole block, `X_blockᵀ dAX_block` and `H_prevᵀ dAH_block`; and, when
        kept, ∂L/∂x_t of those steps, `dAX_block W_xᵀ`."""
        cell, g, n = self.cell, self.grads, stop - start
        dAX = dAX_block[:n].reshape(n * self.B, -1)
        dAH = dAH_block[:n].reshape(n * self.B, -1)
        X = self.X[start:stop].reshape(n * self.B, -1)
        H_prev = self.H_all[start:stop].reshape(n * self.B, -1)  # h_start..h_{stop−1}
        g[cell.x_weight] += X.T @ dAX
        g[cell.h_weight] += H_prev.T @ dAH
        g[cell.x_bias] += dAX.sum(axis=0)
        if cell.h_bias is not None:
            g[cell.h_bias] += dAH.sum(axis=0)
        if self.dX is not None:  # back through x_t W_x
            np.matmul(dAX, self.P[cell.x_weight].T, out=self.dX[start:stop].reshape(n * self.B, -1))

    def _jacobian_step(self, t: int) -> None:
        self.jacobian_norm[t] = np.exp(self.log_scale)
        if t == 1:
            return
        H = self.H
        cache = self.caches[t]
        cache0 = cache if self.B == 1 else tuple(a[:1] for a in cache)  # batch item 0, broadcast over rows
        n = len(self.cell.state_names)
        rows = (self.M,) if n == 1 else tuple(self.M[:, k * H:(k + 1) * H] for k in range(n))
        back, _, _ = self.cell.backward_core(rows, cache0, self.P_steps)
        M = np.concatenate(back, axis=1) if len(back) > 1 else back[0]
        sigma = self.top_sv(M)
        if sigma > 0 and np.isfinite(sigma):
            self.M = M / sigma
            self.log_scale += np.log(sigma)
        else:  # the product vanished exactly (stays 0) or stopped being finite (stays NaN)
            self.M = M
            self.log_scale = -np.inf if sigma == 0 else np.nan

    def param_grads(self) -> Params:
        """∂L/∂P for every parameter, after the backward sweep (the cell's alone without a
        readout)."""
        self._join_worker()
        if self.targets is None:
            return dict(self.grads)
        B, idx = self.B, self.loss_steps
        H_S = self.H_all[1:][idx].reshape(len(idx) * B, -1)
        dY_S = self.dY[idx].reshape(len(idx) * B, -1)
        grads = dict(self.grads)
        grads["W_hy"] = H_S.T @ dY_S
        grads["b_y"] = dY_S.sum(axis=0)
        return grads

    def run(self, checkpoint: Callable[[], None] | None = None) -> float:
        """The whole sweep of a model with its readout: every forward step, the loss, every
        backward step. Returns L. `checkpoint`, when given, is called every CHECKPOINT_STEPS
        steps (it may raise to stop the sweep)."""
        for t in range(1, self.T + 1):
            if checkpoint is not None and t % CHECKPOINT_STEPS == 0:
                checkpoint()
            self.forward_step(t)
        loss = self.compute_loss()
        for t in range(self.T, 0, -1):
            if checkpoint is not None and t % CHECKPOINT_STEPS == 0:
                checkpoint()
            self.backward_step(t)
        return loss

    # --- results, indexed t = 1..T (after the sweeps) -----------------------------------
    def hidden_states(self) -> np.ndarray:
        """h_1..h_T [T, B, H] (after compute_loss)."""
        return self.H_all[1:]

    def outputs(self) -> np.ndarray:
        """y_t [T, B, O], zero outside S (after compute_loss)."""
        return self.Y

    def preactivations(self) -> np.ndarray | None:
        """The vanilla RNN's z_1..z_T [T, B, H]; None for the gated cells."""
        if self.cell.preactivation(self.caches[1]) is None:
            return None
        return stack_rows([self.cell.preactivation(c) for c in self.caches[1:]])

    def state_grads(self, item: int | None = None) -> np.ndarray:
        """∂L/∂h_1..∂L/∂h_T [T, B, H], total derivatives (after the backward sweep); of one
        batch item [T, H] with `item`."""
        rows = self.dH[::-1]  # dH was filled t = T..1
        return stack_rows(rows if item is None else [d[item] for d in rows])

    def grad_norms(self) -> np.ndarray:
        """‖∂L/∂h_t‖_F [T]."""
        return self.grad_norm[1:]

    def jacobian_norms(self) -> np.ndarray | None:
        """‖∂s_T/∂s_t‖₂ [T] of batch item 0, when the sweep carries the Jacobian."""
        return None if self.jacobian_norm is None else self.jacobian_norm[1:]

    def cell_grad_norms(self) -> np.ndarray | None:
        """‖∂L/∂c_t‖_F [T] (the LSTM, when asked for with cell_grads)."""
        return None if self.cell_grad_norm is None else self.cell_grad_norm[1:]

    def input_grads(self) -> np.ndarray | None:
        """∂L/∂x_1..∂L/∂x_T [T, B, D] (after the backward sweep), when asked for with
        input_grads."""
        self._join_worker()  # the last blocks' products may still be in flight
        return self.dX


def forward_outputs(cell: Cell, P: Params, X: np.ndarray, loss_at="last",
                    checkpoint: Callable[[], None] | None = None) -> np.ndarray:
    """The outputs y_t [|S|, B, O] at the steps of S, forward only: no cache is kept, so the
    memory is that of one step (for evaluation on held-out data). `checkpoint` as in
    `Sweep.run`."""
    T, B, _ = X.shape
    steps = np.arange(T)[loss_step_index(loss_at, T)]
    wanted = set(steps.tolist())
    state = cell.zero_state(B, P[cell.h_weight].shape[0])
    hs = []
    for t in range(T):
        if checkpoint is not None and t % CHECKPOINT_STEPS == CHECKPOINT_STEPS - 1:
            checkpoint()
        state, _ = cell.forward_core(cell.project(X[t], P), state, P)
        if t in wanted:
            hs.append(state[0])
    return np.stack(hs) @ P["W_hy"] + P["b_y"]


def composed_bptt(
    cell: Cell, P: Params, X: np.ndarray, targets: np.ndarray, loss_at="last",
    state0: State | None = None, loss_kind: str = "mse", loss_scale: float | None = None,
) -> tuple[float, np.ndarray, Params, State]:
    """The reference: loss, ∂L/∂h_t [T, B, H], ∂L/∂P and ∂L/∂s_0, from the composed step
    functions alone (per-step outer products summed inside the loop)."""
    T, B, _ = X.shape
    H = P[cell.h_weight].shape[0]
    state = state0 if state0 is not None else cell.zero_state(B, H)
    caches, hs = [], []
    for t in range(T):
        state, cache = cell.step_forward(X[t], state, P)
        caches.append(cache)
        hs.append(state[0])
    loss, dY, _ = output_grads(np.stack(hs), P, targets, loss_at, loss_kind, loss_scale)
    dH_out = dY @ P["W_hy"].T
    grads = {name: np.zeros_like(p) for name, p in P.items()}
    grads["W_hy"] = sum(hs[t].T @ dY[t] for t in range(T))
    grads["b_y"] = dY.sum(axis=(0, 1))
    d_state = tuple(np.zeros((B, H)) for _ in cell.state_names)
    dH = np.zeros((T, B, H))
    for t in reversed(range(T)):
        dh = d_state[0] + dH_out[t]
        dH[t] = dh
        d_state, _, terms = cell.step_backward((dh, *d_state[1:]), caches[t], P)
        for name, term in terms.items():
            grads[name] += term
    return loss, dH, grads, d_state
