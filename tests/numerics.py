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


def recorded_sweep(sweep, state0=None):
    """Step a fresh `core.bptt.Sweep` through forward, loss and backward, keeping what its
    steps returned: the states s_t (one [T + 1, B, H] array per component, index t = 0..T),
    the total ∂L/∂h_t [T + 1, B, H] (index t; index 0 is ∂L/∂h_0) and, for t = T..1, the
    d_state just before step t goes back (∂L/∂s_t through the steps after t only). Only the
    documented return values are read, not the sweep's storage."""
    T, B, H = sweep.T, sweep.B, sweep.H
    s0 = state0 if state0 is not None else sweep.cell.zero_state(B, H)
    states = [[np.array(s)] for s in s0]
    for t in range(1, T + 1):
        state, _ = sweep.forward_step(t)
        for store, s in zip(states, state, strict=True):
            store.append(np.array(s))
    sweep.compute_loss()
    dH = np.zeros((T + 1, B, H))
    later = {}
    for t in range(T, 0, -1):
        later[t] = tuple(np.array(d) for d in sweep.d_state)
        dH[t] = sweep.backward_step(t)
    dH[0] = sweep.d_state[0]
    return [np.stack(s) for s in states], dH, later
