"""Worked examples for the page's explainers, small enough to compute on every request.

The zig-zag (LeCun et al. 1998, "Efficient BackProp" §4.3): a linear unit y = a·w fed by
features a = φ(x). The gradient of one sample's loss ½(y − y*)² is e·a with e = y − y*, so
when every feature is positive (sigmoid outputs) both weights of a step move the same way:
the path from w_0 to a target whose weights have opposite signs can only advance by
alternating steps towards (+,+) and (−,−), a staircase. Zero-centred features (tanh) let a
step point anywhere, and the path heads for the target.
"""

from dataclasses import dataclass

import numpy as np

from gradient_flow_lab.core.activations import get_activation

ZIGZAG_START = (0.0, 0.0)
ZIGZAG_TARGET = (1.0, -1.0)  # weights of opposite sign: the direction sigmoid features cannot take
ZIGZAG_NEAR = 0.1  # "reached": within this fraction of the starting distance to the target


@dataclass
class Descent:
    activation: str
    path: np.ndarray  # [steps + 1, 2]: w_0 … w_steps
    loss: np.ndarray  # [steps + 1]: ½ mean_n ((w − w*)·a_n)² over the samples, at each w
    same_sign: np.ndarray  # [steps]: the step's two gradient components share a sign (or one is 0)
    path_length: float  # Σ ‖w_{n+1} − w_n‖
    direct_length: float  # ‖w* − w_0‖
    steps_to_near: int | None  # the first n with ‖w_n − w*‖ ≤ ZIGZAG_NEAR ‖w_0 − w*‖


def zigzag_samples(steps: int, seed: int) -> np.ndarray:
    """x_n ~ N(0, I₂), n = 1..steps [steps, 2]: the same for every activation."""
    return np.random.default_rng([seed, 7]).standard_normal((steps, 2))


def sample_grad(w: np.ndarray, a: np.ndarray, y_target: float) -> np.ndarray:
    """∂/∂w of ½(a·w − y*)²: (a·w − y*) a."""
    return (a @ w - y_target) * a


def zigzag_descent(activation: str, steps: int = 150, lr: float = 0.5, seed: int = 0) -> Descent:
    """Stochastic gradient descent, one sample per step, from ZIGZAG_START towards the
    teacher's weights ZIGZAG_TARGET (y*_n = a_n·w*), on features a_n = φ(x_n)."""
    phi = get_activation(activation).phi
    A = phi(zigzag_samples(steps, seed))  # [steps, 2]
    w_target = np.array(ZIGZAG_TARGET)
    w = np.array(ZIGZAG_START)
    path = np.empty((steps + 1, 2))
    path[0] = w
    same = np.empty(steps, dtype=bool)
    with np.errstate(all="ignore"):  # a large lr diverges: a result, not an error
        for n, a in enumerate(A):
            g = sample_grad(w, a, a @ w_target)
            same[n] = g[0] * g[1] >= 0
            w = w - lr * g
            path[n + 1] = w
        d = path - w_target
        gram = A.T @ A / steps  # mean a aᵀ: the loss is ½ dᵀ G d
        loss = 0.5 * np.einsum("ni,ij,nj->n", d, gram, d)
        distance = np.linalg.norm(d, axis=1)
        path_length = float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())
    near = distance <= ZIGZAG_NEAR * distance[0]
    return Descent(activation, path, loss, same, path_length, float(distance[0]),
                   int(np.argmax(near)) if near.any() else None)
