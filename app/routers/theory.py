"""GET /api/theory/mean-field and /api/theory/critical-line: the mean-field theory of the random
vanilla RNN (core/meanfield.py), to draw over a measured phase diagram."""

import math
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from gradient_flow_lab.app.errors import ERROR_DOCS
from gradient_flow_lab.app.resolve import invalid
from gradient_flow_lab.app.serialize import JSONResponse
from gradient_flow_lab.core.meanfield import critical_line, mean_field

router = APIRouter(prefix="/api/theory", tags=["theory"])

POINTS_MAX = 200
Bounded = Literal["tanh", "sigmoid"]
DEFAULT_SIGMA_B = [round(0.05 * k, 2) for k in range(21)]  # 0, 0.05, …, 1


def _std(sigma_w: float, hidden_size: int | None) -> float | None:
    """init.std of the lab's "normal" scheme that gives this σ_w: σ_w / √H."""
    return None if hidden_size is None or not math.isfinite(sigma_w) else sigma_w / math.sqrt(hidden_size)


@router.get("/mean-field", response_class=JSONResponse, responses=ERROR_DOCS)
def get_mean_field(
    sigma_w: Annotated[list[float], Query(min_length=1, max_length=POINTS_MAX, description=(
        "σ_w: W_hh's entries ~ N(0, σ_w²/H); repeat the parameter for several"))],
    sigma_b: Annotated[list[float], Query(max_length=POINTS_MAX,
                                          description="σ_b: b_h ~ N(0, σ_b²)")] = (0.0,),
    activation: Bounded = "tanh",
):
    """q*, χ₁ and the predicted decay rate √χ₁ of ‖∂L/∂h_t‖ per step, for every (σ_w, σ_b)."""
    _check(sigma_w, "sigma_w", 0.0, 10.0, positive=True)
    _check(sigma_b, "sigma_b", 0.0, 10.0)
    if len(sigma_w) * len(sigma_b) > POINTS_MAX:
        _refuse("sigma_w", f"{len(sigma_w)} × {len(sigma_b)} combinations, over {POINTS_MAX}")
    points = []
    for w in sigma_w:
        for b in sigma_b:
            mf = mean_field(w, b, activation)
            points.append({"sigma_w": w, "sigma_b": b, "q_star": mf.q_star, "chi_1": mf.chi_1,
                           "decay_rate": mf.decay_rate})
    return JSONResponse({"activation": activation, "points": points})


@router.get("/critical-line", response_class=JSONResponse, responses=ERROR_DOCS)
def get_critical_line(
    sigma_b: Annotated[list[float] | None, Query(max_length=POINTS_MAX, description=(
        "the σ_b at which to find the critical σ_w (default 0, 0.05, …, 1)"))] = None,
    activation: Bounded = "tanh",
    hidden_size: Annotated[int | None, Query(ge=1, le=4096, description=(
        "with it, each point also gives init_std = σ_w/√H, the lab's init.std for scheme normal"))] = None,
):
    """The critical line χ₁ = 1: for each σ_b, the σ_w above which gradients explode and below
    which they vanish (null where there is none below σ_w = 100)."""
    values = DEFAULT_SIGMA_B if sigma_b is None else sigma_b
    _check(values, "sigma_b", 0.0, 10.0)
    line = critical_line(values, activation)
    return JSONResponse({"activation": activation, "points": [
        {"sigma_b": b, "sigma_w": w, "init_std": _std(w, hidden_size), "bias_std": b}
        for b, w in zip(values, line.tolist(), strict=True)]})


def _check(values: list[float], name: str, lo: float, hi: float, positive: bool = False) -> None:
    for v in values:
        if not math.isfinite(v) or v < lo or v > hi or (positive and v <= lo):
            low = f"> {lo:g}" if positive else f">= {lo:g}"
            _refuse(name, f"must be finite, {low} and <= {hi:g}, got {v!r}")


def _refuse(name: str, msg: str):
    raise invalid([((name,), msg)])
