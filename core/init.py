"""Weight initialisation, with an explicit numpy.random.Generator.

Weights are drawn block by block: every H-wide gate block of W_x [D, G·H] and of
W_h [H, G·H] is its own matrix, so an LSTM's recurrent H×H blocks look like a
vanilla RNN's W_hh under the same scheme.

    xavier      Glorot uniform, U(±√(6 / (fan_in + fan_out))) per block
    orthogonal  every block (semi-)orthogonal, from the QR of a Gaussian matrix
    normal      N(0, std²) everywhere
    identity    recurrent blocks = I (Le et al. 2015, "IRNN"); the rest Glorot uniform

`sigma_max`, when given, rescales every recurrent H×H block so that its largest
singular value equals it — the σ_max(W_hh) of the Pascanu et al. (2013) bound.
Biases are zero, or N(0, bias_std²) when bias_std > 0; the LSTM's forget-gate block is
then shifted by `forget_bias`.
"""

from dataclasses import dataclass

import numpy as np

from gradient_flow_lab.core.cells import Cell, Params

INIT_SCHEMES = ("xavier", "orthogonal", "normal", "identity")


@dataclass(frozen=True)
class InitSpec:
    scheme: str = "xavier"
    std: float = 0.1
    sigma_max: float | None = None
    forget_bias: float = 1.0
    bias_std: float = 0.0


def _glorot(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    limit = np.sqrt(6.0 / (n + m))
    return rng.uniform(-limit, limit, size=(n, m))


def _orthogonal(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    a = rng.standard_normal((max(n, m), min(n, m)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # make the factorisation unique (Mezzadri 2007)
    return q if n >= m else q.T


def _block(rng: np.random.Generator, spec: InitSpec, n: int, m: int, recurrent: bool):
    scheme = spec.scheme
    if scheme == "normal":
        return rng.normal(0.0, spec.std, size=(n, m))
    if scheme == "orthogonal":
        return _orthogonal(rng, n, m)
    if scheme == "identity" and recurrent:
        return np.eye(n)
    if scheme in ("xavier", "identity"):
        return _glorot(rng, n, m)
    raise ValueError(f"unknown init scheme {scheme!r}; choose from {list(INIT_SCHEMES)}")


def rescale_spectral(W: np.ndarray, sigma_max: float) -> np.ndarray:
    """W scaled so that its largest singular value is sigma_max (a zero W stays zero)."""
    s = np.linalg.norm(W, 2)
    return W * (sigma_max / s) if s > 0 else W


def init_params(
    cell: Cell, D: int, H: int, O: int | None, spec: InitSpec, rng: np.random.Generator,
    readout_width: int | None = None,
) -> Params:
    """Fresh parameters for `cell`, drawn in the order of `cell.param_shapes`. O None: the
    cell's alone, no readout (a layer below the top of a stack); `readout_width`: the rows of
    W_hy when it reads more than one H-wide state (2H for a bidirectional top layer; default H)."""
    G = cell.gates
    P: Params = {}
    shapes = cell.param_shapes(D, H, 1 if O is None else O)
    if O is None:
        del shapes["W_hy"], shapes["b_y"]
    elif readout_width is not None:
        shapes["W_hy"] = (readout_width, O)
    for name, shape in shapes.items():
        if len(shape) == 2:
            n, width = shape
            blocks = width // H if name in (cell.x_weight, cell.h_weight) else 1
            recurrent = name == cell.h_weight
            parts = []
            for _ in range(blocks):
                W = _block(rng, spec, n, width // blocks, recurrent)
                if recurrent and spec.sigma_max is not None:
                    W = rescale_spectral(W, spec.sigma_max)
                parts.append(W)
            P[name] = np.concatenate(parts, axis=1)
        elif spec.bias_std > 0:
            P[name] = rng.normal(0.0, spec.bias_std, size=shape)
        else:
            P[name] = np.zeros(shape)
    if cell.name == "lstm":
        P[cell.x_bias][H:2 * H] += spec.forget_bias
    assert P[cell.h_weight].shape == (H, G * H)
    return P


def recurrent_sigma_max(cell: Cell, P: Params) -> float:
    """The largest singular value over the recurrent H×H blocks of W_h (each from the largest
    eigenvalue of BᵀB: exact to rounding, and several times cheaper than an SVD)."""
    W = P[cell.h_weight]
    H = W.shape[0]
    blocks = [W[:, k * H:(k + 1) * H] for k in range(cell.gates)]
    if not all(np.isfinite(B).all() for B in blocks):
        return float("nan")
    return max(float(np.sqrt(max(np.linalg.eigvalsh(B.T @ B)[-1], 0.0))) for B in blocks)
