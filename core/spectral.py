"""The largest singular value of each matrix in a sequence of related square matrices.

The Jacobians ∂s_T/∂s_t of a backward sweep differ by one factor per step and their top
left singular vector settles quickly, so power iteration on M Mᵀ started from the
previous step's vector converges in a few matrix-vector products, where a full SVD per
step costs O(S³). Two safeguards keep it exact:

- the warm start is mixed with a fixed random direction, so it is never (nearly)
  orthogonal to the top singular vector after that vector switches; a tiny top
  component would make the estimate creep up slowly and look converged;
- after `max_iter` products without convergence (nearly equal top singular values
  with a large second one), the value comes from LAPACK.
"""

import numpy as np


class TopSingularValue:
    """σ_max(M) for a sequence of [S, S] matrices, warm-started from call to call."""

    def __init__(self, S: int, rtol: float = 1e-14, max_iter: int = 80, mix: float = 0.1):
        direction = np.random.default_rng(S).standard_normal(S)
        self.direction = direction / np.linalg.norm(direction)
        self.u = self.direction.copy()
        self.rtol = rtol
        self.max_iter = max_iter
        self.mix = mix

    def __call__(self, M: np.ndarray) -> float:
        """σ_max(M). Power iteration on M Mᵀ: ‖Mᵀu‖ → σ_max from below, monotonically;
        stop when the estimate changes by less than rtol relative. Zero M gives 0, M with
        a NaN gives NaN."""
        u = self.u + self.mix * self.direction
        u /= np.sqrt(u @ u)
        sigma = 0.0
        for _ in range(self.max_iter):
            w = u @ M  # Mᵀu in the row-vector convention
            new = float(np.sqrt(w @ w))
            if not np.isfinite(new) or new == 0.0:
                return self._exact(M)
            v = M @ w
            u = v / np.sqrt(v @ v)
            if new - sigma <= self.rtol * new:
                self.u = u
                return new
            sigma = new
        return self._exact(M)

    def _exact(self, M: np.ndarray) -> float:
        if not np.all(np.isfinite(M)):
            return float("nan") if np.isnan(M).any() else float("inf")
        self.u = self.direction.copy()
        return float(np.linalg.svd(M, compute_uv=False)[0])
