"""POST /api/sweeps, GET /api/sweeps[/{id}], GET /api/sweeps/{id}/events, DELETE /api/sweeps/{id}:
many runs or trainings on Dask (app/sweeps.py), kept in the store."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request
from fastapi.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from gradient_flow_lab.app.errors import ERROR_DOCS, STREAM_ERROR_DOCS
from gradient_flow_lab.app.serialize import EventEncoder, EventStream, JSONResponse, sse_doc
from gradient_flow_lab.app.store import UNFINISHED
from gradient_flow_lab.app.sweep_schemas import (
    SWEEP_EXAMPLES,
    SWEEP_ID,
    SweepDetail,
    SweepRequest,
    SweepStatus,
)
from gradient_flow_lab.app.sweeps import (
    SweepEngine,
    plan_sweep,
    plan_view,
    status_view,
    sweep_document,
    sweep_progress,
)
from gradient_flow_lab.app.weights import UNPACKED_FACTOR, load_network

router = APIRouter(prefix="/api", tags=["sweeps"])

SweepId = Annotated[str, Path(pattern=SWEEP_ID, description="sha256:… as POST /api/sweeps answered")]
# an event stream looks at the store this often when no news has come from this server (a sweep
# computed by another worker process or replica)
POLL_SECONDS = 1.0
ERROR_SCHEMA = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorSchema"}}}
NOT_FOUND_DOCS = {404: {"description": "no sweep with this id in the store", "content": ERROR_SCHEMA}}


def engine_of(request: Request) -> SweepEngine:
    return request.app.state.sweeps


def networks_of(request: Request):
    """The uploaded networks a point's models may name (as for POST /api/runs)."""
    state = request.app.state
    unpacked_max = UNPACKED_FACTOR * state.settings.weights_bytes_max
    return lambda id_: load_network(id_, state.store(), state.networks, unpacked_max)


def found(row: dict | None, id_: str) -> dict:
    if row is None:
        raise HTTPException(404, detail=f"no sweep {id_} in the store; submit it (POST /api/sweeps)")
    return row


@router.post("/sweeps", status_code=201, response_class=JSONResponse,
             responses={200: {"model": SweepStatus, "description": "known already: its status"},
                        201: {"model": SweepStatus, "description": "a new sweep, queued"}, **ERROR_DOCS})
def post_sweep(request: Request, body: Annotated[SweepRequest, Body(openapi_examples=SWEEP_EXAMPLES)]):
    """Start a sweep: every combination of the grid's values × every seed is one point (a run
    or a training). The same sweep asked again is the same id: answered from the store when it
    is finished (200), followed when it is computing (200), resumed from its finished points
    when it failed or was cancelled (200)."""
    state = request.app.state
    plan = plan_sweep(body, state.settings, networks_of(request))
    row, created = engine_of(request).submit(plan)
    return JSONResponse(status_view(row), status_code=201 if created else 200)


@router.post("/sweeps/plan", response_class=JSONResponse, responses=ERROR_DOCS)
def plan(request: Request, body: Annotated[SweepRequest, Body(openapi_examples=SWEEP_EXAMPLES)]):
    """A sweep's size and an estimate of its time, without starting it: its id, its points
    (and those a grid value makes invalid, with their errors), its work units and the seconds
    they should take on the cluster's workers (an upper estimate). The same 422s as POST."""
    state = request.app.state
    return JSONResponse(plan_view(plan_sweep(body, state.settings, networks_of(request)),
                                  engine_of(request).workers()))


@router.get("/sweeps", response_class=JSONResponse, responses=ERROR_DOCS)
def list_sweeps(request: Request, limit: Annotated[int, Query(ge=1, le=200)] = 50):
    """The most recent sweeps in the store (id, kind, status, total, done), newest first."""
    engine_of(request).start_once()
    return JSONResponse(request.app.state.store().sweeps(limit))


@router.get("/sweeps/{sweep_id}", response_class=JSONResponse,
            responses={200: {"model": SweepDetail}, **NOT_FOUND_DOCS, **ERROR_DOCS})
def get_sweep(request: Request, sweep_id: SweepId):
    """The sweep's status, its canonical request and its results so far: one per finished point
    and model, in the order the points finished; the points that ended in an error apart."""
    row = found(engine_of(request).status(sweep_id), sweep_id)
    return JSONResponse(sweep_document(request.app.state.store(), row))


@router.delete("/sweeps/{sweep_id}", response_class=JSONResponse,
               responses={200: {"model": SweepStatus}, **NOT_FOUND_DOCS, **ERROR_DOCS})
def delete_sweep(request: Request, sweep_id: SweepId):
    """Cancel the sweep's unfinished points (those computing stop within a second); its
    finished points stay, and submitting it again resumes it."""
    return JSONResponse(status_view(found(engine_of(request).cancel(sweep_id), sweep_id)))


SSE_DOC = sse_doc(
    "Server-Sent Events: start (the status and the canonical request), then result (one per "
    "finished point: what is finished already first, then each as it finishes) with progress "
    "after each batch, then done — or error (the sweep failed or was cancelled)."
)


@router.get("/sweeps/{sweep_id}/events", response_class=EventStream,
            responses={**SSE_DOC, **NOT_FOUND_DOCS, **STREAM_ERROR_DOCS})
async def sweep_events(request: Request, sweep_id: SweepId):
    """Follow a sweep. A client may connect at any time, and leave: the sweep goes on."""
    engine = engine_of(request)
    row = found(await run_in_threadpool(engine.status, sweep_id), sweep_id)
    return EventSourceResponse(follow(engine, request.app.state.store(), row))


async def follow(engine: SweepEngine, store, row: dict):
    """The events of a sweep: start, the finished points, then the new ones as they come."""
    encode = EventEncoder()
    id_ = row["id"]
    news = asyncio.Event()
    leave = engine.follow(id_, asyncio.get_running_loop(), news)
    try:
        yield encode("start", {**status_view(row), "request": row["request"]})
        seen = errors = 0
        after = 0
        while True:
            news.clear()
            row = await run_in_threadpool(engine.status, id_)
            if row is None:
                yield encode("error", {"detail": f"the sweep {id_} is no longer in the store"})
                return
            points = await run_in_threadpool(store.sweep_points, id_, after)
            if points:
                after = points[-1][0]
                seen += len(points)
                errors += sum(1 for _, p in points if p["error"])
                yield b"".join(encode("result", p) for _, p in points) + encode(
                    "progress", sweep_progress(row, seen, errors))
            if row["status"] not in UNFINISHED:  # read before the points: they are all in
                final = {**status_view(row), "done": seen, "errors": errors}
                if row["status"] == "done":
                    yield encode("done", final)
                else:
                    detail = row["detail"] or f"the sweep is {row['status']}"
                    yield encode("error", {**final, "detail": detail})
                return
            try:
                await asyncio.wait_for(news.wait(), POLL_SECONDS)
            except TimeoutError:
                pass
    finally:
        leave()
