"""What a Dask worker runs for one point of a sweep: `compute_point`, a whole run or training.

A worker imports this module from the installed `gradient_flow_lab` (the same image as the
server); it needs the core and, to hear that its sweep has been cancelled, distributed's
`Event` — nothing of the web layer.

A point stops within a fraction of a second of being asked: `PointCheckpoint` is called
between the steps of the run or training (and inside long training steps) and raises when the
point's time limit has passed or when its sweep's cancel event is set (looked at on the
scheduler at most every `CANCEL_LOOK_SECONDS`).
"""

import logging
import math
import time

from gradient_flow_lab.core.sweep_points import run_metrics, train_metrics

CANCEL_LOOK_SECONDS = 0.2
log = logging.getLogger("gradient_flow_lab")


class PointStopped(Exception):
    """A point's computation ended early on purpose; the message is for the client."""


class PointCheckpoint:
    """Raise PointStopped once `seconds` have passed (limit `limit_name`), or once the Dask
    event named `cancel` is set (None: no cancel event, e.g. outside a cluster)."""

    def __init__(self, seconds: float, limit_name: str, cancel: str | None = None):
        self.deadline = time.monotonic() + seconds
        self.seconds, self.limit_name = seconds, limit_name
        self.event = None
        if cancel is not None:
            from distributed import Event

            self.event = Event(cancel)
        self.next_look = time.monotonic() + CANCEL_LOOK_SECONDS

    def __call__(self) -> None:
        now = time.monotonic()
        if now > self.deadline:
            raise PointStopped(f"stopped after {self.seconds:g} s, the time limit ({self.limit_name})")
        if self.event is not None and now >= self.next_look:
            self.next_look = now + CANCEL_LOOK_SECONDS
            if self.event.is_set():
                raise PointStopped("the sweep was cancelled")


def finite_or_none(metrics: dict) -> tuple[dict, list[str]]:
    """The metrics with every number that is not finite as None, and the names of those."""
    out, nonfinite = {}, []
    for name, value in metrics.items():
        if isinstance(value, float) and not math.isfinite(value):
            out[name] = None
            nonfinite.append(name)
        else:
            out[name] = value
    return out, nonfinite


def compute_point(kind: str, spec, seconds: float, cancel: str | None = None) -> dict:
    """One point: {"results": [{"label", "metrics", "nonfinite"} per model (and "baseline" for
    a training)]}, or {"error": …}
    when it stopped or failed. `spec`: a core RunSpec (kind "run") or TrainSpec ("train")."""
    limit = "run_seconds_max" if kind == "run" else "train_seconds_max"
    try:
        checkpoint = PointCheckpoint(seconds, limit, cancel)
        per_model = run_metrics(spec, checkpoint) if kind == "run" else train_metrics(spec, checkpoint)
    except PointStopped as e:
        return {"error": str(e)}
    except Exception as e:  # the point's error, not the sweep's: the others go on
        log.exception("a sweep point failed")
        return {"error": f"the computation failed ({type(e).__name__}); it has been logged on the worker"}
    results = []
    for model in per_model:
        metrics, nonfinite = finite_or_none(model["metrics"])
        extra = {"baseline": model["baseline"]} if "baseline" in model else {}
        results.append({"label": model["label"], "metrics": metrics, "nonfinite": nonfinite, **extra})
    return {"results": results}
