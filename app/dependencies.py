"""What a route asks FastAPI for, one alias per request kind: the request resolved against the
settings (`ResolvedRun`, `ResolvedTrain`) and a slot of the server's concurrency limit."""

from typing import Annotated, NamedTuple

from fastapi import Body, Depends, Request

from app.limits import slot
from app.resolve import resolve_run, resolve_train
from app.schemas import RUN_EXAMPLES, TRAIN_EXAMPLES, RunRequest, TrainRequest
from app.weights import UNPACKED_FACTOR, load_network
from core.run import RunSpec
from core.train import TrainSpec


class Run(NamedTuple):
    spec: RunSpec
    config: dict  # the request with every default filled in


class Training(NamedTuple):
    spec: TrainSpec
    config: dict


def run_request(
    request: Request,
    body: RunRequest = Body(default_factory=RunRequest, openapi_examples=RUN_EXAMPLES),
) -> Run:
    state = request.app.state
    unpacked_max = UNPACKED_FACTOR * state.settings.weights_bytes_max

    def networks(id_: str):
        return load_network(id_, state.store(), state.networks, unpacked_max)

    return Run(*resolve_run(body, state.settings, networks))


def train_request(
    request: Request,
    body: TrainRequest = Body(default_factory=TrainRequest, openapi_examples=TRAIN_EXAMPLES),
) -> Training:
    return Training(*resolve_train(body, request.app.state.settings))


ResolvedRun = Annotated[Run, Depends(run_request)]
ResolvedTrain = Annotated[Training, Depends(train_request)]

# dependencies=[…] of a route: hold a slot for as long as its response lasts, or answer 503
RUN_SLOT = Depends(slot("limiter"))
TRAIN_SLOT = Depends(slot("train_limiter"))
