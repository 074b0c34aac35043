"""Comparison helpers shared by the numerical tests."""

import numpy as np


def rel_err(a, b) -> float:
    """‖a − b‖ / max(‖a‖, ‖b‖), norm-wise over the whole array (0 when both are 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return float(np.linalg.norm(a - b) / scale) if scale > 0 else 0.0


def numeric_grad(f, a: np.ndarray, eps: float) -> np.ndarray:
    """∂f/∂a by central differences, perturbing `a` in place (and restoring it)."""
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        old = a[idx]
        a[idx] = old + eps
        f_plus = f()
        a[idx] = old - eps
        f_minus = f()
        a[idx] = old
        g[idx] = (f_plus - f_minus) / (2 * eps)
    return g
