"""What a route asks FastAPI for, one alias per request kind: the request resolved against the
settings (`ResolvedRun`, `ResolvedTrain`) and a slot of the server's concurrency limit, or a
place in the line that waits for one."""

from typing import Annotated, NamedTuple

from fastapi import Body, Depends, Request

from gradient_flow_lab.app.limits import Ticket, place, slot
from gradient_flow_lab.app.resolve import invalid, resolve_run, resolve_train
from gradient_flow_lab.app.schemas import RUN_EXAMPLES, TRAIN_EXAMPLES, RunRequest, TrainRequest
from gradient_flow_lab.app.weights import UNPACKED_FACTOR, load_network
from gradient_flow_lab.core.run import RunSpec
from gradient_flow_lab.core.train import TrainSpec


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


def stream_request(request: Request, run: Run = Depends(run_request)) -> Run:
    """A run to stream: one seed (a run over `seeds` is POST /api/runs's)."""
    if run.config.get("seeds"):
        raise invalid([(("seeds",), "applies to POST /api/runs only: a stream runs one seed; "
                                    "send seed instead")])
    return run


def train_request(
    request: Request,
    body: TrainRequest = Body(default_factory=TrainRequest, openapi_examples=TRAIN_EXAMPLES),
) -> Training:
    return Training(*resolve_train(body, request.app.state.settings))


ResolvedRun = Annotated[Run, Depends(run_request)]
ResolvedStream = Annotated[Run, Depends(stream_request)]
ResolvedTrain = Annotated[Training, Depends(train_request)]

# Slots are asked for once the request is valid: an invalid request never waits in line.
# dependencies=[…] of a JSON route: a slot, waited for in line (503 past queue_seconds), held
# until the endpoint returns, so that the answer is sent without it
RUN_SLOT = Depends(slot("limiter", after=run_request), scope="function")
# a stream's place in line, or its slot at once: the stream waits itself and tells the client
RunPlace = Annotated[Ticket, Depends(place("limiter", after=run_request))]
StreamPlace = Annotated[Ticket, Depends(place("limiter", after=stream_request))]
TrainPlace = Annotated[Ticket, Depends(place("train_limiter", after=train_request))]
