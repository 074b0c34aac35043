"""Gradient-flow analysis of a finished sweep: the bound and the summary numbers.

All arrays here hold t = 1..T at indices 0..T−1.
"""

import numpy as np

HORIZON_FRACTION = 1e-3


def pascanu_bound(gamma: float, sigma_max: float, T: int) -> np.ndarray:
    """(γ σ_max)^(T−t) for t = 1..T: Pascanu et al. (2013)'s bound on ‖∂h_T/∂h_t‖₂ for
    h_t = φ(x_t W_xh + h_{t−1} W_hh + b_h), from ‖diag(φ')‖ ≤ γ and ‖W_hh‖₂ = σ_max."""
    with np.errstate(over="ignore"):
        return np.power(gamma * sigma_max, np.arange(T - 1, -1, -1, dtype=np.float64))


def log10_grad_ratio(grad_norm: np.ndarray) -> float:
    """log10(‖∂L/∂h_1‖ / ‖∂L/∂h_T‖); NaN or ±inf when either end is 0 or not finite."""
    with np.errstate(all="ignore"):
        return float(np.log10(grad_norm[0]) - np.log10(grad_norm[-1]))


def memory_horizon(grad_norm: np.ndarray) -> int | None:
    """The largest k with ‖∂L/∂h_{T−j}‖ ≥ 10⁻³ ‖∂L/∂h_T‖ for every j ≤ k; None when that
    holds all the way back to t = 1. A non-finite norm fails the test (k = 0 when
    ‖∂L/∂h_T‖ itself is not finite)."""
    g = grad_norm[::-1]  # g[j] = ‖∂L/∂h_{T−j}‖
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(g) & (g >= HORIZON_FRACTION * g[0])  # (∞ ≥ anything: not finite fails too)
    if ok.all():
        return None
    first_fail = int(np.argmin(ok))
    return max(first_fail - 1, 0)


def first_nonfinite_forward(
    hidden: np.ndarray, Y: np.ndarray | None, loss: float | None,
    preactivations: np.ndarray | None = None,
) -> int | None:
    """The first t (1..T) at which h_t (hidden [T, B, H]), an output y_t or, when given, a
    pre-activation z_t (preactivations [T, B, H]) is not finite; T when only the loss is not.
    (An LSTM's |c_t| ≤ t cannot overflow without h_t.) Y and loss None: a layer below the
    readout, its own states alone."""
    bad = ~np.isfinite(hidden).all(axis=(1, 2))
    if Y is not None:
        bad |= ~np.isfinite(Y).all(axis=(1, 2))
    if preactivations is not None:
        bad |= ~np.isfinite(preactivations).all(axis=(1, 2))
    if bad.any():
        return int(np.argmax(bad)) + 1
    return None if loss is None or np.isfinite(loss) else len(hidden)


def last_nonfinite(values: np.ndarray) -> int | None:
    """The largest t (1..T) whose entry of values [T, …] is not finite: the first to go,
    in a sweep that runs t = T..1."""
    bad = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    return int(len(bad) - np.argmax(bad[::-1])) if bad.any() else None


def sign_uniform_fractions(hidden: np.ndarray, grads: np.ndarray, dphi) -> np.ndarray:
    """The zig-zag statistic of a vanilla RNN run, for t = 2..T (batch item 0).

    One step's contribution to ∂L/∂W_hh is the outer product h_{t−1}ᵀ δ_t, δ_t = ∂L/∂z_t =
    ∂L/∂h_t ⊙ φ'(z_t). Its column k — the gradient of unit k's incoming weights — is
    h_{t−1} δ_{t,k}: every entry has the sign of h_{t−1,j} times that of δ_{t,k}. With sigmoid,
    h > 0, so every column is sign-uniform: all of unit k's incoming weights must move the
    same way, and reaching a mixed target takes a zig-zag (LeCun et al. 1998). With tanh,
    h_{t−1} has both signs and only a column with δ_{t,k} = 0 is sign-uniform.

    So column k is mixed exactly when h_{t−1} has entries of both signs and δ_{t,k} ≠ 0, and
    the statistic costs O(T·H), not the O(T·H²) of the outer products. (A NaN has no sign:
    it makes no entry positive or negative.)

    hidden, grads: [T, H] (h_t and ∂L/∂h_t); dphi: φ' from the output. Returns [T − 1]: the
    fraction of units whose column has no two nonzero entries of opposite sign.
    """
    delta = grads[1:] * dphi(hidden[1:])  # δ_t for t = 2..T
    h_prev = hidden[:-1]  # h_{t−1}
    with np.errstate(invalid="ignore"):
        both_signs = (h_prev > 0).any(axis=1) & (h_prev < 0).any(axis=1)  # [T − 1]
        nonzero = (delta > 0) | (delta < 0)  # [T − 1, H]
    return (~(both_signs[:, None] & nonzero)).mean(axis=1)
