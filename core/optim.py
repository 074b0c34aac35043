"""Optimisers and gradient clipping, updating a parameter dict in place.

    SGD with momentum μ (PyTorch's form):  v ← μ v + g,  p ← p − lr v
    Adam (Kingma & Ba 2015):  m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,
                              p ← p − lr · m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵏ),  v̂ = v / (1 − β₂ᵏ)
    clipping by global norm (Pascanu et al. 2013): when ‖g‖ > τ, g ← g · τ / ‖g‖
"""

from dataclasses import dataclass, field

import numpy as np

from gradient_flow_lab.core.cells import Params

OPTIMIZERS = ("sgd", "adam")


def global_norm(grads: Params) -> float:
    """‖g‖ over every parameter, as one vector; scaled by the largest entry first, so entries
    above 1e154 do not overflow the sum of squares."""
    scale = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads.values())
    if scale == 0.0 or not np.isfinite(scale):
        return scale
    return scale * float(np.sqrt(sum(float(np.sum((g / scale) ** 2)) for g in grads.values())))


def clip_by_global_norm(grads: Params, threshold: float | None) -> tuple[float, bool]:
    """Scale `grads` in place so their global norm is at most `threshold`; returns the norm
    before clipping and whether it clipped. A non-finite norm is left alone (and reported)."""
    norm = global_norm(grads)
    if threshold is None or not np.isfinite(norm) or norm <= threshold:
        return norm, False
    scale = threshold / norm
    for g in grads.values():
        g *= scale
    return norm, True


@dataclass
class SGD:
    lr: float = 0.01
    momentum: float = 0.0
    velocity: dict = field(default_factory=dict)

    def step(self, params: Params, grads: Params) -> None:
        for name, g in grads.items():
            if self.momentum:
                v = self.velocity.get(name)
                v = g.copy() if v is None else self.momentum * v + g
                self.velocity[name] = v
                g = v
            params[name] -= self.lr * g


@dataclass
class Adam:
    lr: float = 0.001
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    k: int = 0
    m: dict = field(default_factory=dict)
    v: dict = field(default_factory=dict)

    def step(self, params: Params, grads: Params) -> None:
        self.k += 1
        c1 = 1.0 - self.beta1 ** self.k
        c2 = 1.0 - self.beta2 ** self.k
        for name, g in grads.items():
            m = self.m.setdefault(name, np.zeros_like(g))
            v = self.v.setdefault(name, np.zeros_like(g))
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            params[name] -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


def make_optimizer(name: str, lr: float, momentum: float = 0.0):
    if name == "sgd":
        return SGD(lr=lr, momentum=momentum)
    if name == "adam":
        return Adam(lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose from {list(OPTIMIZERS)}")
