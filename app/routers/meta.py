"""Health and what the server offers."""

from fastapi import APIRouter, Request

from app import __version__
from app.catalogue import catalogue
from app.fields import INCLUDE
from app.resolve import resolve_run
from app.schemas import RunRequest, TrainRequest
from app.settings import Settings
from core.activations import ACTIVATIONS
from core.cells import CELLS
from core.init import INIT_SCHEMES
from core.inputs import INPUT_KINDS
from core.tasks import TASKS, Task

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
        "tasks": [{"name": name, "metric": Task(name, 50).metric} for name in TASKS],
    }
