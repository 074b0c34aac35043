"""POST /api/train/stream: train models on a long-range task, progress as Server-Sent Events."""

from fastapi import APIRouter, Body, Depends, Request
from fastapi.sse import EventSourceResponse

from app.limits import slot
from app.resolve import resolve_train
from app.routers.runs import STREAM_ERRORS
from app.schemas import TRAIN_EXAMPLES, TrainRequest
from app.serialize import EventEncoder, EventStream, encode_train, sse_doc
from app.streaming import bounded, sse_chunks
from core.train import TrainSpec, train

router = APIRouter(prefix="/api", tags=["train"])

SSE_DOC = sse_doc(
    "Server-Sent Events: start, then progress (per model, every progress_every "
        "steps) and eval (per model, every eval_every steps), then done — or error."
)


def train_request(
    request: Request,
    body: TrainRequest = Body(default_factory=TrainRequest, openapi_examples=TRAIN_EXAMPLES),
) -> tuple[TrainSpec, dict]:
    return resolve_train(body, request.app.state.settings)


train_slot = slot("train_limiter")


@router.post("/train/stream", responses={**SSE_DOC, **STREAM_ERRORS}, response_class=EventStream,
             dependencies=[Depends(train_slot)])
async def stream_train(request: Request, resolved: tuple[TrainSpec, dict] = Depends(train_request)):
    """Train every model on the same batches; a client that disconnects stops the training."""
    spec, config = resolved
    encoder = EventEncoder()
    settings = request.app.state.settings
    frames = bounded(train(spec), settings.train_seconds_max, "train_seconds_max", request.app.state.draining)
    chunks = sse_chunks(
        encode_train(frames, config, encoder),
        on_error=lambda detail: encoder("error", {"detail": detail}),
    )
    return EventSourceResponse(chunks)
