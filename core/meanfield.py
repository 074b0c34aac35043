"""Mean-field theory of the random vanilla RNN: how fast a gradient shrinks or grows per step.

For h_t = φ(z_t), z_t = h_{t−1} W_hh + b_h with W_hh's entries drawn from N(0, σ_w²/H) and b_h's
from N(0, σ_b²), and H large, every unit's pre-activation is Gaussian with a variance q_t that
follows the length map (Poole et al. 2016; Schoenholz et al. 2017; Chen, Pennington &
Schoenholz 2018)

    q_t = σ_w² E_z[φ(√q_{t−1} z)²] + σ_b²,        z ~ N(0, 1),

to its fixed point q*. Back through one step, ∂L/∂h_{t−1} = (∂L/∂h_t ⊙ φ′(z_t)) W_hhᵀ, so the
squared gradient norm is multiplied on average by

    χ₁ = σ_w² E_z[φ′(√q* z)²],

and ‖∂L/∂h_t‖ by √χ₁ per step back in time: χ₁ < 1 is the ordered phase (gradients vanish),
χ₁ > 1 the chaotic one (they explode), χ₁ = 1 the critical line in the (σ_w, σ_b) plane. For
tanh with σ_b = 0, q* = 0 up to σ_w = 1 and χ₁ = σ_w² there: the line starts at σ_w = 1.

In the lab: init scheme "normal" draws every weight from N(0, std²), so σ_w = std·√H, and
σ_b = bias_std; the inputs must be silent after the first step (input kind "impulse") for the
map above to be the whole dynamics. The measured counterpart of √χ₁ is a run's `decay_rate`
(`core.sweep_points.decay_rate`).

The Gaussian expectations are Gauss–Hermite sums (`numpy.polynomial.hermite_e`, the
probabilists' weight e^{−z²/2}) with QUADRATURE_POINTS nodes: accurate to about 1e-10 for
q* ≲ 10 (σ_w up to about 3 for tanh), the range of the phase diagram. Bounded activations
only (tanh, sigmoid): an unbounded φ has no fixed point in its chaotic phase.
"""

import math
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from gradient_flow_lab.core.activations import get_activation

QUADRATURE_POINTS = 101
_NODES, _WEIGHTS = hermegauss(QUADRATURE_POINTS)
_WEIGHTS = _WEIGHTS / math.sqrt(2.0 * math.pi)  # Σ w f(z) = E[f(z)] for z ~ N(0, 1)
BISECTIONS = 200  # halvings of a bracket: far below rounding
SIGMA_W_MAX = 100.0  # the critical line is looked for in (0, SIGMA_W_MAX]


def gaussian_mean(f, q: float) -> float:
    """E[f(√q z)], z ~ N(0, 1), by Gauss–Hermite quadrature."""
    return float(_WEIGHTS @ f(math.sqrt(max(q, 0.0)) * _NODES))


def _phi(activation: str):
    a = get_activation(activation)
    if not a.bounded:
        raise ValueError(f"the mean-field map here needs a bounded activation, not {activation!r}")
    return a.phi, (lambda z: a.dphi(a.phi(z)))  # φ′ through the output, as the table gives it


def length_map(q: float, sigma_w: float, sigma_b: float, activation: str = "tanh") -> float:
    """One step of the variance map: σ_w² E[φ(√q z)²] + σ_b²."""
    phi, _ = _phi(activation)
    return sigma_w**2 * gaussian_mean(lambda u: phi(u) ** 2, q) + sigma_b**2


def fixed_point(sigma_w: float, sigma_b: float, activation: str = "tanh") -> float:
    """q*: the stable fixed point of the length map, by bisection of q − map(q) (q* = 0 for an
    odd φ with σ_b = 0 and the map's slope σ_w² φ′(0)² ≤ 1 at 0)."""
    phi, dphi = _phi(activation)

    def excess(q: float) -> float:  # map(q) − q
        return sigma_w**2 * gaussian_mean(lambda u: phi(u) ** 2, q) + sigma_b**2 - q

    odd_zero = sigma_b == 0 and phi(np.zeros(1))[0] == 0
    if odd_zero and sigma_w**2 * dphi(np.zeros(1))[0] ** 2 <= 1:
        return 0.0
    lo = 1e-12 if odd_zero else 0.0  # above the unstable fixed point 0
    hi = sigma_w**2 + sigma_b**2 + 1.0  # map(q) ≤ σ_w² + σ_b² for |φ| ≤ 1
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        if excess(mid) > 0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * hi:
            break
    return 0.5 * (lo + hi)


def chi_1(sigma_w: float, sigma_b: float, activation: str = "tanh") -> float:
    """χ₁ = σ_w² E[φ′(√q* z)²]: the mean factor of ‖∂L/∂h‖² per step back."""
    _, dphi = _phi(activation)
    q = fixed_point(sigma_w, sigma_b, activation)
    return sigma_w**2 * gaussian_mean(lambda u: dphi(u) ** 2, q)


@dataclass(frozen=True)
class MeanField:
    sigma_w: float
    sigma_b: float
    q_star: float
    chi_1: float

    @property
    def decay_rate(self) -> float:
        """√χ₁: the predicted factor of ‖∂L/∂h_t‖ per step back in time."""
        return math.sqrt(self.chi_1)


def mean_field(sigma_w: float, sigma_b: float, activation: str = "tanh") -> MeanField:
    return MeanField(sigma_w, sigma_b, fixed_point(sigma_w, sigma_b, activation),
                     chi_1(sigma_w, sigma_b, activation))


def critical_sigma_w(sigma_b: float, activation: str = "tanh") -> float:
    """The σ_w at which χ₁ = 1 for this σ_b (χ₁ grows with σ_w), by bisection; NaN when χ₁
    stays below 1 up to SIGMA_W_MAX."""
    lo, hi = 0.0, SIGMA_W_MAX
    if chi_1(hi, sigma_b, activation) < 1:
        return float("nan")
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        if chi_1(mid, sigma_b, activation) < 1:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13:
            break
    return 0.5 * (lo + hi)


def critical_line(sigma_b: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """σ_w on the critical line χ₁ = 1 for each σ_b: the boundary between vanishing (below)
    and exploding (above) gradients."""
    return np.array([critical_sigma_w(float(b), activation) for b in np.asarray(sigma_b, dtype=float)])
