"""POST /api/train/stream: train models on a long-range task, progress as Server-Sent Events."""

from fastapi import APIRouter, Request
from fastapi.sse import EventSourceResponse

from gradient_flow_lab.app.dependencies import ResolvedTrain, TrainPlace
from gradient_flow_lab.app.errors import STREAM_ERROR_DOCS
from gradient_flow_lab.app.serialize import EventEncoder, EventStream, encode_train, sse_doc
from gradient_flow_lab.app.streaming import Checkpoint, checked, sse_chunks
from gradient_flow_lab.app.trained import keep_trained
from gradient_flow_lab.core.train import train

router = APIRouter(prefix="/api", tags=["train"])

SSE_DOC = sse_doc(
    "Server-Sent Events: queued while waiting for a slot (its position), then start, then "
        "progress (per model, every progress_every steps) and eval (per model, every "
        "eval_every steps), then done (each model's trained weights kept: its `weights` id) — or error."
)


@router.post("/train/stream", responses={**SSE_DOC, **STREAM_ERROR_DOCS}, response_class=EventStream)
async def stream_train(request: Request, resolved: ResolvedTrain, ticket: TrainPlace):
    """Train every model on the same batches; a client that disconnects stops the training
    within a few time steps, or leaves the line at once while it waits for a slot (`queued`
    events)."""
    encoder = EventEncoder()
    state = request.app.state
    # called between frames and every few time steps inside a step: a long step stops within a
    # fraction of a second when the client goes, the time limit passes or the server drains
    check = Checkpoint(state.settings.train_seconds_max, "train_seconds_max", state.draining)
    frames = checked(train(resolved.spec, check), check)
    frames = keep_trained(frames, state.store(), resolved.spec)  # the trained models, kept as weights
    return EventSourceResponse(sse_chunks(encode_train(frames, resolved.config, encoder), encoder, ticket,
                                          threads=state.train_threads, checkpoint=check))
