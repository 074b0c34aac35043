"""Activation functions as data: one table maps a name to (φ, φ', γ = sup φ').

Every φ' here is written as a function of the *output* h = φ(z), not of the
pre-activation z — each of these derivatives can be, and the cells cache h anyway:

    sigmoid  φ' = h (1 − h)          γ = 1/4
    tanh     φ' = 1 − h²             γ = 1
    relu     φ' = 1[h > 0]           γ = 1
    linear   φ' = 1                  γ = 1

NaN propagates through every φ and φ' (relu's step is `np.heaviside(h, 0)`, which
keeps NaN; `h > 0` would silently turn it into 0 and hide an overflow).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """σ(z) = 1 / (1 + e^−z), PyTorch's formula: e^−z overflows to inf for z < −709.78, which
    gives exactly 0 (as it should below z ≈ −745) without a warning. `out` may be z itself."""
    e = np.negative(z, out=out)
    with np.errstate(over="ignore"):
        np.exp(e, out=e)
    e += 1.0
    return np.reciprocal(e, out=e)


def _sigmoid_grad(h: np.ndarray) -> np.ndarray:
    d = 1.0 - h
    d *= h
    return d


def _tanh_grad(h: np.ndarray) -> np.ndarray:
    d = h * h
    return np.subtract(1.0, d, out=d)


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def _relu_grad(h: np.ndarray) -> np.ndarray:
    return np.heaviside(h, 0.0)


def _identity(z: np.ndarray) -> np.ndarray:
    return z


def _linear_grad(h: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(h), np.nan, 1.0)


@dataclass(frozen=True)
class Activation:
    """φ with its derivative expressed through the output: dphi(φ(z)) = φ'(z)."""

    name: str
    phi: Callable[[np.ndarray], np.ndarray]
    dphi: Callable[[np.ndarray], np.ndarray]
    gamma: float  # sup_z φ'(z), the factor in the Pascanu et al. bound
    bounded: bool  # |φ(z)| ≤ 1 for every z


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", sigmoid, _sigmoid_grad, 0.25, bounded=True),
        Activation("tanh", np.tanh, _tanh_grad, 1.0, bounded=True),
        Activation("relu", _relu, _relu_grad, 1.0, bounded=False),
        Activation("linear", _identity, _linear_grad, 1.0, bounded=False),
    )
}


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}") from None
