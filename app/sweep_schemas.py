"""Request and response schemas of the sweeps (POST /api/sweeps, docs/api.md "Sweeps").

The grid's values are any JSON: each point's request is validated on its own, as a RunRequest
or a TrainRequest, so that a value that makes one point invalid gives that point an error and
leaves the others to compute (app/sweeps.py).
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from gradient_flow_lab.app.schemas import SEED_MAX, Num, Strict
from gradient_flow_lab.core.sweep_points import RUN_METRICS, TRAIN_METRICS

SweepKind = Literal["run", "train"]
SweepStatusName = Literal["queued", "running", "done", "cancelled", "failed"]
SWEEP_ID = r"^sha256:[0-9a-f]{64}$"
Seed = Annotated[int, Field(ge=0, le=SEED_MAX, strict=True)]

SWEEP_EXAMPLES = {
    "sigma_max": {
        "summary": "where tanh stops vanishing: σ_max × activation, 3 seeds",
        "value": {"kind": "run",
                  "base": {"seq_len": 100, "hidden_size": 32, "init": {"scheme": "orthogonal"},
                           "include": []},
                  "grid": {"init.sigma_max": [0.5, 1, 2, 4],
                           "models": [[{"cell": "rnn", "activation": "tanh"}],
                                      [{"cell": "rnn", "activation": "relu"}]]},
                  "seeds": [0, 1, 2]},
    },
    "success": {
        "summary": "a small success-rate sweep: the adding problem over T, 2 models, 2 seeds",
        "value": {"kind": "train",
                  "base": {"task": "adding", "hidden_size": 16, "batch_size": 32, "steps": 200,
                           "eval_every": 50, "eval_size": 200,
                           "models": [{"cell": "rnn", "activation": "tanh"}, {"cell": "lstm"}]},
                  "grid": {"seq_len": [10, 20]},
                  "seeds": [0, 1]},
    },
}


class SweepRequest(Strict):
    """Every combination of the grid's values × every seed is one point."""

    kind: SweepKind = Field("run", description="each point is a run (RunRequest) or a training "
                                                "(TrainRequest)")
    base: dict[str, Any] = Field(default_factory=dict, description=(
        "a RunRequest or TrainRequest (by kind) that every point starts from; its seed is replaced by "
        "each of `seeds`"))
    grid: dict[str, list[Any]] = Field(description=(
        "dotted paths of fields of `base` (\"seq_len\", \"init.sigma_max\", \"models\", \"optimizer.lr\") "
        "→ the values to try; at least one path, each with at least one value"))
    seeds: list[Seed] = Field(default_factory=lambda: [0], min_length=1,
                              description=f"the seeds of every combination, each 0…{SEED_MAX}, no repeats")


class SweepStatus(BaseModel):
    id: str = Field(pattern=SWEEP_ID, description="SHA-256 of the canonical request")
    kind: SweepKind
    status: SweepStatusName
    total: int = Field(description="points: grid combinations × seeds")
    done: int = Field(description="points finished (with results or with an error)")
    errors: int = Field(description="finished points that ended in an error")
    detail: str | None = Field(None, description="why a sweep failed or was cancelled")


class SweepModelResult(BaseModel):
    """One finished point's numbers for one of its models."""

    index: int = Field(description="the point's place in the sweep (0…total−1)")
    point: dict[str, Any] = Field(description="the grid's values at this point, by dotted path")
    seed: int
    model: int = Field(description="the model's index in the point's request")
    label: str
    metrics: dict[str, Num | bool | int | None] = Field(description=(
        f"run sweeps: {', '.join(RUN_METRICS)}; train sweeps: {', '.join(TRAIN_METRICS)}; a number "
        "that is not finite is null and named in `nonfinite`"))
    nonfinite: list[str] = Field(description="the metrics whose value was not a finite number")


class SweepPointError(BaseModel):
    """A point that could not be computed: its request was invalid, or its computation stopped."""

    index: int
    point: dict[str, Any]
    seed: int
    error: str


class SweepDetail(SweepStatus):
    request: dict = Field(description="the canonical request: the base with every default filled in")
    results: list[SweepModelResult] = Field(description="one per finished point and model, in the "
                                                        "order the points finished")
    point_errors: list[SweepPointError] = Field(description="the finished points that ended in an error")
