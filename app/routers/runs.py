"""POST /api/runs and POST /api/runs/stream: one run, complete or frame by frame."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.sse import EventSourceResponse

from gradient_flow_lab.app.dependencies import RUN_SLOT, ResolvedRun, ResolvedStream, StreamPlace
from gradient_flow_lab.app.errors import ERROR_DOCS, STREAM_ERROR_DOCS
from gradient_flow_lab.app.schemas import RunResultSchema, SeedsResultSchema
from gradient_flow_lab.app.serialize import (
    EventEncoder,
    EventStream,
    JSONResponse,
    encode_frames,
    run_result,
    seeds_result,
    sse_doc,
)
from gradient_flow_lab.app.streaming import Stopped, bounded, sse_chunks
from gradient_flow_lab.core.run import RunSpec, collect, run
from gradient_flow_lab.core.seeds import collect_seeds
from gradient_flow_lab.core.seeds import frames as seed_frames

router = APIRouter(prefix="/api", tags=["runs"])


@router.post(
    "/runs",
    response_class=JSONResponse,
    responses={200: {"model": RunResultSchema | SeedsResultSchema, "description": (
        "RunResult; with `seeds`, SeedsResult: the quantiles of ‖∂L/∂h_t‖ over the seeds")}, **ERROR_DOCS},
    dependencies=[RUN_SLOT],
)
async def post_run(request: Request, resolved: ResolvedRun):
    """One complete run: forward over t = 1..T, then BPTT over t = T..1, for every model. With
    `seeds`, the run at each seed in turn, answered in quantiles over them (SeedsResult)."""
    seeds = resolved.config.get("seeds")

    def answer() -> JSONResponse:  # computed and serialised in its turn on the compute threads
        if seeds:
            frames = bounded_run(request, resolved.spec, seeds)
            return JSONResponse(seeds_result(collect_seeds(frames, tuple(seeds)), resolved.config))
        return JSONResponse(run_result(collect(bounded_run(request, resolved.spec)), resolved.config))

    try:
        return await request.app.state.compute_threads.run(answer)
    except Stopped as e:
        retry = str(request.app.state.settings.retry_after_seconds)
        raise HTTPException(503, detail=str(e), headers={"Retry-After": retry}) from None


def bounded_run(request: Request, spec: RunSpec, seeds: list[int] | None = None):
    """The run's frames (with `seeds`: (seed index, frame) of each seed's run) under the time limit."""
    settings = request.app.state.settings
    frames = run(spec) if seeds is None else seed_frames(spec, seeds)
    return bounded(frames, settings.run_seconds_max, "run_seconds_max", request.app.state.draining)


SSE_DOC = sse_doc(
    "Server-Sent Events: queued while waiting for a slot (its position), then start, "
        "forward × T·models, backward × T·models, summary × models, done (or error). Each "
        "event's data is a JSON object."
)


@router.post(
    "/runs/stream",
    responses={**SSE_DOC, **STREAM_ERROR_DOCS},
    response_class=EventStream,
)
async def stream_run(request: Request, resolved: ResolvedStream, ticket: StreamPlace):
    """The same run as Server-Sent Events: `queued` (its position in line) while it waits for a
    slot, then `start`, `forward` (t = 1..T), `backward` (t = T..1), `summary` per model, `done`
    — or `error` instead of the rest."""
    encoder = EventEncoder()
    events = encode_frames(bounded_run(request, resolved.spec), resolved.config, encoder)
    return EventSourceResponse(sse_chunks(events, encoder, ticket, done=True,
                                          threads=request.app.state.compute_threads))
