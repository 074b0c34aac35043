"""GET /api/explain/…: the worked examples of the page's explainers (core.teaching)."""

from typing import Annotated

from fastapi import APIRouter, Query

from gradient_flow_lab.app.errors import ERROR_DOCS
from gradient_flow_lab.app.serialize import JSONResponse
from gradient_flow_lab.core import teaching

router = APIRouter(prefix="/api/explain", tags=["explain"])

ZIGZAG_ACTIVATIONS = ("sigmoid", "tanh")


@router.get("/zigzag", response_class=JSONResponse, responses={422: ERROR_DOCS[422]})
def zigzag(
    steps: Annotated[int, Query(ge=1, le=2000, description="SGD steps, one sample each")] = 150,
    lr: Annotated[float, Query(gt=0, le=10, allow_inf_nan=False, description="learning rate")] = 0.5,
    seed: Annotated[int, Query(ge=0, le=2**63 - 1, description="draws the samples x_n ~ N(0, I₂)")] = 0,
):
    """The zig-zag of LeCun et al. (1998): one linear unit y = a·w on features a = φ(x), trained
    by SGD from w = (0, 0) towards the teacher's w* = (1, −1), once with sigmoid features (all
    positive: every step moves both weights the same way) and once with tanh features, on the
    same samples. Each model: the path w_0…w_steps, the loss ½·mean((w − w*)·a)² at each w,
    the share of steps whose two gradient components share a sign, the path's length against
    the straight line, and the first step within 10 % of the starting distance (null: never)."""
    models = []
    for name in ZIGZAG_ACTIVATIONS:
        d = teaching.zigzag_descent(name, steps, lr, seed)
        models.append({
            "activation": name, "path": d.path, "loss": d.loss,
            "same_sign_fraction": float(d.same_sign.mean()),
            "path_length": d.path_length, "direct_length": d.direct_length,
            "steps_to_near": d.steps_to_near,
        })
    return JSONResponse({"start": teaching.ZIGZAG_START, "target": teaching.ZIGZAG_TARGET,
                         "near": teaching.ZIGZAG_NEAR, "steps": steps, "lr": lr, "seed": seed,
                         "models": models})
