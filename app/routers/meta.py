"""Health and what the server offers."""

from fastapi import APIRouter, Request

from gradient_flow_lab import __version__
from gradient_flow_lab.app.catalogue import catalogue
from gradient_flow_lab.app.fields import INCLUDE
from gradient_flow_lab.app.resolve import resolve_run
from gradient_flow_lab.app.schemas import RunRequest, TrainRequest
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.app.sweep_presets import PRESETS
from gradient_flow_lab.app.sweeps import grid_path_names
from gradient_flow_lab.core.activations import ACTIVATIONS
from gradient_flow_lab.core.cells import CELLS
from gradient_flow_lab.core.init import INIT_SCHEMES
from gradient_flow_lab.core.inputs import INPUT_KINDS
from gradient_flow_lab.core.sweep_points import RUN_METRICS, TRAIN_METRICS
from gradient_flow_lab.core.tasks import TASKS, Task

router = APIRouter(tags=["meta"])


@router.get("/healthz")
async def healthz() -> dict:
    """Cheap, answered on the event loop: never waits for running work."""
    return {"status": "ok"}


@router.get("/api/meta")
async def meta(request: Request) -> dict:
    """Cells, activations (with γ = sup φ'), the model catalogue, the fields of an answer, input
    kinds, init schemes, limits, defaults."""
    settings = request.app.state.settings
    return {
        "version": __version__,
        "cells": list(CELLS),
        "activations": [{"name": a.name, "gamma": a.gamma} for a in ACTIVATIONS.values()],
        "input_kinds": list(INPUT_KINDS),
        "init_schemes": list(INIT_SCHEMES),
        "include": list(INCLUDE),
        **catalogue(),  # "models" (key, label, γ, gates) and "fields" (which include, cells, event)
        "limits": settings.limits(),
        # the request {} with every default filled in (resolved against the stock limits, so
        # that the defaults show even where an operator set tighter ones)
        "defaults": resolve_run(RunRequest(), Settings())[1],
        "train_defaults": TrainRequest().model_dump(),
        # metric_baseline: the chance level of the held-out metric (adding: MSE 1/6, copy:
        # accuracy 1/8, temporal order: 1/4); a train sweep's points carry theirs at their length
        "tasks": [{"name": name, "metric": task.metric, "metric_baseline": task.metric_baseline}
                  for name, task in ((name, Task(name, 50)) for name in TASKS)],
        "sweeps": {"metrics": {"run": list(RUN_METRICS), "train": list(TRAIN_METRICS)},
                   "paths": {kind: grid_path_names(kind) for kind in ("run", "train")},
                   "presets": PRESETS},
    }
