"""POST /api/runs and POST /api/runs/stream: one run, complete or frame by frame."""

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.sse import EventSourceResponse

from app.limits import slot
from app.resolve import resolve_run
from app.schemas import RUN_EXAMPLES, ErrorSchema, RunRequest, RunResultSchema
from app.serialize import EventEncoder, EventStream, JSONResponse, encode_frames, run_result, sse_doc
from app.streaming import Stopped, bounded, sse_chunks
from core.run import RunSpec, collect, run

router = APIRouter(prefix="/api", tags=["runs"])

ERROR_TEXTS = {
    413: "request body over body_bytes_max",
    422: "invalid input, or over a limit (named)",
    503: "too many runs at once, or a time limit; see Retry-After",
}
ERRORS = {code: {"model": ErrorSchema, "description": text} for code, text in ERROR_TEXTS.items()}
# The stream routes answer errors as JSON too: given a model, FastAPI would document them under
# the route's media type (text/event-stream), so they name the schema themselves.
STREAM_ERRORS = {
    code: {"description": text,
           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorSchema"}}}}
    for code, text in ERROR_TEXTS.items()
}


def run_request(
    request: Request,
    body: RunRequest = Body(default_factory=RunRequest, openapi_examples=RUN_EXAMPLES),
) -> tuple[RunSpec, dict]:
    return resolve_run(body, request.app.state.settings)


run_slot = slot("limiter")


@router.post(
    "/runs",
    response_class=JSONResponse,
    responses={200: {"model": RunResultSchema}, **ERRORS},
    dependencies=[Depends(run_slot)],
)
def post_run(request: Request, resolved: tuple[RunSpec, dict] = Depends(run_request)):
    """One complete run: forward over t = 1..T, then BPTT over t = T..1, for every model."""
    spec, config = resolved
    try:
        result = collect(bounded_run(request, spec))
    except Stopped as e:
        retry = str(request.app.state.settings.retry_after_seconds)
        raise HTTPException(503, detail=str(e), headers={"Retry-After": retry}) from None
    return JSONResponse(run_result(result, config))


def bounded_run(request: Request, spec: RunSpec):
    settings = request.app.state.settings
    return bounded(run(spec), settings.run_seconds_max, "run_seconds_max", request.app.state.draining)


SSE_DOC = sse_doc(
    "Server-Sent Events: start, forward × T·models, backward × T·models, "
        "summary × models, done (or error). Each event's data is a JSON object."
)


@router.post(
    "/runs/stream",
    responses={**SSE_DOC, **STREAM_ERRORS},
    response_class=EventStream,
    dependencies=[Depends(run_slot)],
)
async def stream_run(request: Request, resolved: tuple[RunSpec, dict] = Depends(run_request)):
    """The same run as Server-Sent Events: `start`, `forward` (t = 1..T), `backward`
    (t = T..1), `summary` per model, `done` — or `error` instead of the rest."""
    spec, config = resolved
    encoder = EventEncoder()
    events = encode_frames(bounded_run(request, spec), config, encoder)
    chunks = sse_chunks(
        events,
        on_error=lambda detail: encoder("error", {"detail": detail}),
        done=lambda: encoder("done", {}),
    )
    return EventSourceResponse(chunks)
