"""The largest singular value of each matrix in a sequence of related square matrices.

The Jacobians ∂s_T/∂s_t of a backward sweep differ by one factor per step and their top
left singular vector settles quickly, so power iteration on M Mᵀ started from the previous
step's vector gets close in a few matrix-vector products, where a full SVD per step costs a
great deal more. Power iteration alone cannot tell convergence from a crawl (nearly equal top
singular values and a start that barely sees the top one look the same), so every estimate is
certified:

- λ = uᵀ(MMᵀ)u for a unit u is a Rayleigh quotient, so λ ≤ σ_max² always;
- if λ(1 + δ) I − MMᵀ is positive definite (its Cholesky factorisation exists), then
  σ_max² < λ(1 + δ).

So a certified estimate is within δ/2 = 5e−10 relative of σ_max. An estimate that fails the
test is replaced by LAPACK's exact value. Both costs are O(S³), but a product and a Cholesky
factorisation are several times cheaper than an SVD.
"""

import numpy as np

CERTIFY_RTOL = 1e-9  # δ, on σ_max²


class TopSingularValue:
    """σ_max(M) for a sequence of [S, S] matrices, warm-started from call to call."""

    def __init__(self, S: int, rtol: float = 1e-11, max_iter: int = 30):
        direction = np.random.default_rng(S).standard_normal(S)
        self.direction = direction / np.linalg.norm(direction)
        self.u = self.direction.copy()
        self.rtol = rtol
        self.max_iter = max_iter
        self.exact_calls = 0  # how often LAPACK answered (for benchmarks and tests)
        # After a failed certificate, go straight to LAPACK for the next `skip` calls, backing
        # off exponentially: in a stretch of nearly equal top singular values (an orthogonal
        # W_hh in the linear regime) power iteration would only waste its products.
        self.skip = 0
        self.backoff = 0

    def __call__(self, M: np.ndarray) -> float:
        """σ_max(M): zero M gives 0, M with a NaN gives NaN."""
        if self.skip > 0:
            self.skip -= 1
            return self._exact(M)
        G = M @ M.T  # the left Gram matrix: σ_max(M)² = λ_max(G), and its top vector settles
        u = self.u
        lam = 0.0
        for _ in range(self.max_iter):
            v = G @ u
            new = float(u @ v)  # a Rayleigh quotient of G (u is a unit vector): ≤ λ_max
            if not np.isfinite(new) or new <= 0.0:
                break
            u = v / np.sqrt(v @ v)
            if new - lam <= self.rtol * new:
                if self._certified(G, new):
                    self.u = u
                    self.backoff = 0
                    return float(np.sqrt(new))
                break
            lam = new
        self.backoff = min(2 * self.backoff + 1, 31)
        self.skip = self.backoff
        return self._exact(M)

    @staticmethod
    def _certified(G: np.ndarray, lam: float) -> bool:
        """Whether λ_max(G) < λ(1 + δ): the Cholesky test of the module doc."""
        C = np.negative(G)
        C.flat[:: C.shape[0] + 1] += lam * (1.0 + CERTIFY_RTOL)
        try:
            np.linalg.cholesky(C)
        except np.linalg.LinAlgError:
            return False
        return True

    def _exact(self, M: np.ndarray) -> float:
        self.exact_calls += 1
        self.u = self.direction.copy()
        if not np.all(np.isfinite(M)):
            return float("nan") if np.isnan(M).any() else float("inf")
        scale = float(np.abs(M).max())
        if scale == 0.0:
            return 0.0
        Ms = M / scale  # so that MᵀM cannot overflow
        return scale * float(np.sqrt(max(np.linalg.eigvalsh(Ms.T @ Ms)[-1], 0.0)))
