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
        ok = g >= HORIZON_FRACTION * g[0]
    if ok.all():
        return None
    first_fail = int(np.argmin(ok))
    return max(first_fail - 1, 0)


def first_nonfinite_forward(
    hidden: np.ndarray, Y: np.ndarray, loss: float, preactivations: np.ndarray | None = None
) -> int | None:
    """The first t (1..T) at which h_t (hidden [T, B, H]), an output y_t or, when given, a
    pre-activation z_t (preactivations [T, B, H]) is not finite; T when only the loss is not.
    (An LSTM's |c_t| ≤ t cannot overflow without h_t.)"""
    bad = ~np.isfinite(Y).all(axis=(1, 2)) | ~np.isfinite(hidden).all(axis=(1, 2))
    if preactivations is not None:
        bad |= ~np.isfinite(preactivations).all(axis=(1, 2))
    if bad.any():
        return int(np.argmax(bad)) + 1
    return None if np.isfinite(loss) else len(Y)


def last_nonfinite(values: np.ndarray) -> int | None:
    """The largest t (1..T) whose entry of values [T, …] is not finite: the first to go,
    in a sweep that runs t = T..1."""
    bad = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    return int(len(bad) - np.argmax(bad[::-1])) if bad.any() else None
