"""Sweeps: many runs or trainings, one per point of a grid × seeds, computed on Dask.

`plan_sweep` turns a SweepRequest into its points: every combination of the grid's values
(dotted paths into the base request) × every seed, each point's request validated and resolved
on its own exactly as POST /api/runs or /api/train/stream would (so a value that makes one
point invalid gives that point an error; the others compute). The sweep's id is the SHA-256 of
its canonical request (the base with every default filled in, sorted keys): the same sweep
asked again is the same id.

`SweepEngine` computes the points on a Dask cluster — an embedded `LocalCluster` of processes
started on first use (`sweep_workers`, default the number of cores), or the existing cluster
at `dask_scheduler` — one task per point (app/sweep_tasks.py), results taken as they finish
(`as_completed`) and kept in the store (app/store.py) one by one, so that a sweep survives the
browser that started it, a second client reads what is finished and then follows, and a
resubmission after a failure or a cancel computes only the points that are missing.

A sweep being computed is touched in the store every `sweep_heartbeat_seconds`; one left
unfinished and untouched for three times as long belongs to a server that has stopped and is
reported failed (on the engine's start, and whenever it is read).
"""

import hashlib
import itertools
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import UnionType
from typing import Any, Union, get_args, get_origin

import orjson
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from gradient_flow_lab.app.errors import describe
from gradient_flow_lab.app.limits import Busy
from gradient_flow_lab.app.resolve import invalid, resolve_run, resolve_train
from gradient_flow_lab.app.schemas import RunRequest, TrainRequest
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.app.store import UNFINISHED, Store
from gradient_flow_lab.app.sweep_schemas import SweepRequest
from gradient_flow_lab.app.sweep_tasks import compute_point
from gradient_flow_lab.core.run import work_units
from gradient_flow_lab.core.train import train_work_units

log = logging.getLogger("gradient_flow_lab")

REQUESTS: dict[str, type[BaseModel]] = {"run": RunRequest, "train": TrainRequest}
# what a point costs beyond its work units: building it, its frames and metrics, the task
# (≈ 13 ms for a T = 10, H = 4 run on this busy 2-core machine, benchmarks/bench_sweep.py)
POINT_SECONDS = 0.01
SATURATION = float("inf")  # distributed.scheduler.worker-saturation of the embedded cluster
STALE_HEARTBEATS = 3  # a computing sweep untouched for this many heartbeats has lost its server
STOPPED = "the server computing it stopped; submit the sweep again to resume from its finished points"


# --- planning: the request → its points ----------------------------------------------------

@dataclass
class Point:
    index: int
    values: dict[str, Any]  # the grid's values at this point, by dotted path
    seed: int
    spec: Any = None  # the core's RunSpec or TrainSpec; None when the point is invalid
    error: str | None = None
    units: float = 0.0  # estimated work units


@dataclass
class Plan:
    id: str
    kind: str
    request: dict  # canonical
    points: list[Point]
    seconds: float  # a point's time limit

    @property
    def total(self) -> int:
        return len(self.points)


def grid_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every dotted path of fields of a request schema, into its nested objects."""
    paths = []
    for name, info in model.model_fields.items():
        path = prefix + name
        paths.append(path)
        annotation = info.annotation
        options = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
        for arg in options:  # an object, or an object or null (not into lists)
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                paths += grid_paths(arg, path + ".")
    return paths


SEED_FIELDS = ("seed", "seeds")  # set by the sweep's `seeds`


def grid_path_names(kind: str) -> list[str]:
    """The paths a grid of this kind may vary: every field but the seeds."""
    return [p for p in grid_paths(REQUESTS[kind]) if p not in SEED_FIELDS]


def with_value(body: dict, path: str, value) -> dict:
    """A copy of `body` with the field at the dotted `path` set to `value`; only the objects
    along the path are copied."""
    head, _, rest = path.partition(".")
    out = dict(body)
    if not rest:
        out[head] = value
    else:
        inner = out.get(head)
        out[head] = with_value(inner if isinstance(inner, dict) else {}, rest, value)
    return out


def canonical(obj) -> bytes:
    """The bytes a sweep's id hashes: keys sorted, and integral numbers written one way (1.0 as
    1), so that a value means the same whichever JSON wrote it — a browser sends the float 1.0
    of a preset as 1."""
    return orjson.dumps(_integral_as_int(obj), option=orjson.OPT_SORT_KEYS)


def _integral_as_int(obj):
    if isinstance(obj, float) and obj.is_integer() and abs(obj) < 2**53:
        return int(obj)
    if isinstance(obj, dict):
        return {k: _integral_as_int(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_integral_as_int(v) for v in obj]
    return obj


def sweep_id(request: dict) -> str:
    return "sha256:" + hashlib.sha256(canonical(request)).hexdigest()


def plan_sweep(req: SweepRequest, settings: Settings, networks: Callable = lambda id_: None) -> Plan:
    """The sweep's points, each resolved; RequestValidationError (a 422 naming the field) for a
    sweep that is wrong as a whole: an unknown path, an empty grid or axis, repeated values or
    seeds, a base that is invalid by itself, too many points, over the work budget, or no point
    that can be computed."""
    kind, schema = req.kind, REQUESTS[req.kind]
    errors: list[tuple[tuple, str]] = []
    known = grid_path_names(kind)
    if not req.grid:
        errors.append((("grid",), "give at least one dotted path and its values, e.g. "
                                  "{\"seq_len\": [50, 100]}"))
    for path, values in req.grid.items():
        if path not in known:
            hint = " (vary the seed with the sweep's `seeds`)" if path in SEED_FIELDS else ""
            errors.append((("grid", path), f"unknown field of a {schema.__name__}{hint}; known paths: "
                                           f"{', '.join(known)}"))
        elif not values:
            errors.append((("grid", path), "needs at least one value"))
        elif len({canonical(v) for v in values}) < len(values):
            errors.append((("grid", path), "has a value twice"))
    if len(set(req.seeds)) < len(req.seeds):
        errors.append((("seeds",), "has a seed twice"))
    raw_base = {k: v for k, v in req.base.items() if k not in SEED_FIELDS}  # the sweep's seeds rule
    try:
        base = schema.model_validate(raw_base)
    except ValidationError as e:
        errors += [(("base", *err["loc"]), err["msg"]) for err in e.errors()]
        base = None
    total = len(req.seeds)
    for values in req.grid.values():
        total *= len(values)
    if total > settings.sweep_points_max:
        errors.append((("grid",), f"the sweep has {total} points (combinations × seeds), over the limit "
                                  f"sweep_points_max = {settings.sweep_points_max}"))
    if errors:
        raise invalid(errors)

    request = {"kind": kind, "base": base.model_dump(mode="json", exclude=set(SEED_FIELDS)),
               "grid": {path: req.grid[path] for path in sorted(req.grid)}, "seeds": req.seeds}
    axes = list(request["grid"].items())
    points = []
    for index, (combo, seed) in enumerate(itertools.product(
            itertools.product(*(values for _, values in axes)), req.seeds)):
        values = {path: v for (path, _), v in zip(axes, combo, strict=True)}
        body = dict(raw_base)
        for path, v in values.items():
            body = with_value(body, path, v)
        body["seed"] = seed
        points.append(resolve_point(Point(index, values, seed), kind, body, settings, networks))

    valid = [p for p in points if p.error is None]
    if not valid:
        raise invalid([(("grid",), f"no point of the sweep can be computed; the first: {points[0].error}")])
    units = sum(p.units for p in valid)
    if units > settings.sweep_work_units_max:
        raise invalid([(("grid",), f"the sweep needs about {units:.3g} work units, over the limit "
                                   f"sweep_work_units_max = {settings.sweep_work_units_max:.3g}; fewer "
                                   "points or smaller ones")])
    seconds = settings.run_seconds_max if kind == "run" else settings.train_seconds_max
    return Plan(sweep_id(request), kind, request, points, seconds)


def resolve_point(point: Point, kind: str, body: dict, settings: Settings, networks: Callable) -> Point:
    """The point with its spec and work units, or with the error that makes it invalid."""
    try:
        if kind == "run":
            point.spec, _ = resolve_run(RunRequest.model_validate(body), settings, networks)
            point.units = sum(work_units(point.spec))
        else:
            point.spec, _ = resolve_train(TrainRequest.model_validate(body), settings)
            point.units = train_work_units(point.spec)
    except (ValidationError, RequestValidationError) as e:
        point.error = describe(e.errors())
    return point


def point_record(plan: Plan, point: Point, outcome: dict) -> tuple[dict, bool]:
    """What the store keeps of a finished point (and a `result` event carries): its place, its
    grid values, its seed, and a result per model in GET /api/sweeps/{id}'s shape — or its
    error. Whether it failed."""
    head = {"index": point.index, "point": point.values, "seed": point.seed}
    if "error" in outcome:
        return {**head, "results": [], "error": outcome["error"]}, True
    return {**head, "results": [{**head, "model": i, **r} for i, r in enumerate(outcome["results"])],
            "error": None}, False


def plan_view(plan: Plan, workers: int | None) -> dict:
    """POST /api/sweeps/plan: the sweep's size and an estimate of its time, before it starts.
    The work units are the budgets' estimated nanoseconds of one core on the reference machine
    (pessimistic for large points), plus POINT_SECONDS a point; a point is never split, so the
    longest point bounds the time from below."""
    valid = [p for p in plan.points if p.error is None]
    compute = sum(p.units * 1e-9 + POINT_SECONDS for p in valid)
    longest = max((p.units * 1e-9 + POINT_SECONDS for p in valid), default=0.0)
    return {"id": plan.id, "kind": plan.kind, "total": plan.total, "valid": len(valid),
            "models": len(plan.request["base"]["models"]) if "models" not in plan.request["grid"] else None,
            "work_units": sum(p.units for p in valid), "compute_seconds": compute,
            "longest_point_seconds": longest,
            "workers": workers, "estimated_seconds": max(longest, compute / workers) if workers else None,
            "point_errors": [{"index": p.index, "point": p.values, "seed": p.seed, "error": p.error}
                             for p in plan.points if p.error is not None]}


def failure_or(outcome) -> dict:
    """A task's outcome, or the error of a task that failed outside the point's own function
    (its worker died, it was cancelled)."""
    if isinstance(outcome, BaseException):
        return {"error": f"the point's worker failed: {type(outcome).__name__}: {outcome}"}
    return outcome


def status_view(row: dict) -> dict:
    """A sweep's status as the API answers it."""
    return {k: row[k] for k in ("id", "kind", "status", "total", "done", "errors", "detail")}


def sweep_progress(row: dict, done: int | None = None, errors: int | None = None) -> dict:
    """How far a sweep is: points done of total, the rate of the points computed since it
    started running (this time), the time left at that rate (None until a point is computed)."""
    done = row["done"] if done is None else done
    errors = row["errors"] if errors is None else errors
    end = time.time() if row["status"] in UNFINISHED else row["updated"]
    elapsed = max(end - row["started"], 1e-9)
    computed = max(done - row["resumed_from"], 0) if row["status"] != "queued" else 0
    rate = computed / elapsed if computed else None
    left = row["total"] - done
    return {"done": done, "total": row["total"], "errors": errors, "status": row["status"],
            "elapsed_seconds": elapsed, "points_per_second": rate,
            "eta_seconds": (left / rate if rate else None) if left else 0.0}


def sweep_document(store: Store, row: dict) -> dict:
    """GET /api/sweeps/{id}: the status, the canonical request, a result per finished point and
    model (in the order the points finished), and the points that ended in an error."""
    points = [p for _, p in store.sweep_points(row["id"])]
    return {**status_view(row), "request": row["request"],
            "results": [r for p in points for r in p["results"]],
            "point_errors": [{k: p[k] for k in ("index", "point", "seed", "error")}
                             for p in points if p["error"]]}


# --- the engine ------------------------------------------------------------------------------

@dataclass
class Job:
    """A sweep being computed by this server."""

    plan: Plan
    todo: list[Point]
    cancel_name: str = field(default_factory=lambda: f"gfl-cancel-{uuid.uuid4().hex}")
    cancelled: threading.Event = field(default_factory=threading.Event)
    futures: list = field(default_factory=list)
    thread: threading.Thread | None = None


class SweepEngine:
    """The sweeps this server computes, on its Dask client (made on first use)."""

    def __init__(self, settings: Settings, store: Callable[[], Store]):
        self.settings, self.store = settings, store
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        self._client = None
        self._cluster = None
        self._client_lock = threading.Lock()
        self._waiters: dict[str, set] = {}
        self._closed = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self._started = False
        self._start_lock = threading.Lock()

    # --- the cluster ---------------------------------------------------------------------
    def client(self):
        """The Dask client: of the cluster at `dask_scheduler`, or of an embedded LocalCluster
        of `sweep_workers` processes (one thread each) started now."""
        with self._client_lock:
            if self._client is None:
                from distributed import Client, LocalCluster

                if self.settings.dask_scheduler:
                    self._client = Client(self.settings.dask_scheduler, timeout=10, set_as_default=False)
                else:
                    import dask

                    workers = self.settings.sweep_workers or os.cpu_count() or 1
                    # every point sent to the workers at once (no queue on the scheduler): a
                    # worker then starts its next point without a round trip to the scheduler,
                    # a few ms a point on a busy machine (benchmarks/bench_sweep.py); work
                    # stealing still evens out the workers
                    with dask.config.set({"distributed.scheduler.worker-saturation": SATURATION}):
                        # no dashboard; the scheduler's own HTTP routes on a free loopback port
                        self._cluster = LocalCluster(
                            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                            silence_logs=logging.WARNING)
                    self._client = Client(self._cluster, set_as_default=False)
            return self._client

    def workers(self) -> int | None:
        """The cluster's workers: counted once it is in use; before, the embedded cluster's
        size, or None (an external cluster not yet asked)."""
        client = self._client
        if client is not None:
            return len(client.scheduler_info(n_workers=-1).get("workers", {}))
        return None if self.settings.dask_scheduler else self.settings.sweep_workers or os.cpu_count() or 1

    # --- sweeps ------------------------------------------------------------------------------
    def start_once(self) -> None:
        """On first use: the sweeps left unfinished by a server that stopped are failed."""
        with self._start_lock:
            if self._started:
                return
            self.store().fail_stale_sweeps(time.time() - self.stale_seconds(), STOPPED)
            self._started = True

    def stale_seconds(self) -> float:
        return STALE_HEARTBEATS * self.settings.sweep_heartbeat_seconds

    def status(self, id_: str) -> dict | None:
        """A sweep's row (None when unknown); one left unfinished by a stopped server is failed
        first."""
        self.start_once()
        store = self.store()
        row = store.sweep(id_)
        if (row is not None and row["status"] in UNFINISHED and id_ not in self.jobs
                and row["updated"] < time.time() - self.stale_seconds()):
            store.set_sweep_status(id_, "failed", STOPPED, only_if=UNFINISHED)
            row = store.sweep(id_)
        return row

    def submit(self, plan: Plan) -> tuple[dict, bool]:
        """Start the sweep, or resume it, or find it: (its status row, whether it is new)."""
        self.start_once()
        store = self.store()
        with self.lock:
            row = self.status(plan.id)
            if row is not None and (row["status"] == "done" or plan.id in self.jobs
                                    or row["status"] in UNFINISHED):
                return row, False  # finished, or computing here or on another replica
            if len(self.jobs) >= self.settings.max_concurrent_sweeps:
                raise Busy(f"the server is busy: {len(self.jobs)} sweeps are computing (limit "
                           f"max_concurrent_sweeps); retry in {self.settings.retry_after_seconds} s",
                           self.settings.retry_after_seconds)
            created = row is None and store.create_sweep(plan.id, plan.kind, plan.request, plan.total)
            if not created:
                store.set_sweep_status(plan.id, "queued", restarted=True)
            finished = store.sweep_indices(plan.id)
            job = Job(plan, [p for p in plan.points if p.index not in finished])
            self.jobs[plan.id] = job
            job.thread = threading.Thread(target=self._drive, args=(job,), daemon=True,
                                          name=f"gfl-sweep-{plan.id[7:15]}")
            job.thread.start()
            self._ensure_heartbeat()
        return store.sweep(plan.id), created

    def cancel(self, id_: str) -> dict | None:
        """Cancel a sweep's unfinished points; its row (None when unknown)."""
        row = self.status(id_)
        if row is None:
            return None
        job = self.jobs.get(id_)
        if job is not None:
            self._stop(job)
        if row["status"] in UNFINISHED:  # here, or on another replica (its heartbeat sees it)
            self.store().set_sweep_status(id_, "cancelled", "cancelled by a DELETE", only_if=UNFINISHED)
        self.notify(id_)
        return self.store().sweep(id_)

    def _stop(self, job: Job) -> None:
        """Stop a job's points: those waiting are dropped, those computing stop at their next
        checkpoint (the cancel event, which stays set: a point looks at it only every
        CANCEL_LOOK_SECONDS, and its name is the job's own)."""
        job.cancelled.set()
        client = self._client
        if client is None:
            return
        try:
            from distributed import Event

            Event(job.cancel_name, client=client).set()
            if job.futures:
                client.cancel(job.futures)
        except Exception:
            log.exception("sweep %s: cancelling its points failed", job.plan.id)

    def _drive(self, job: Job) -> None:
        """The job's thread: submit its points, keep each result as it comes."""
        plan, store = job.plan, self.store()
        final, detail = "done", None
        try:
            self._keep(plan, [(p, {"error": p.error}) for p in job.todo if p.error is not None])
            todo = [p for p in job.todo if p.error is None]
            if todo and not job.cancelled.is_set():
                client = self.client()
                # the rate of progress counts from here: the cluster is up, the invalid points kept
                store.set_sweep_status(plan.id, "running", only_if=("queued",), restarted=True)
                from distributed import as_completed

                by_key = {f"gfl-{plan.id[7:19]}-{p.index}-{uuid.uuid4().hex[:8]}": p for p in todo}
                n = len(todo)
                job.futures = client.map(compute_point, [plan.kind] * n, [p.spec for p in todo],
                                         [plan.seconds] * n, [job.cancel_name] * n, key=list(by_key),
                                         pure=False)
                if job.cancelled.is_set():  # cancelled while submitting
                    self._stop(job)
                # what has finished since the last look, kept in one transaction: many short
                # points cost one write each batch, not each point
                done = as_completed(job.futures, loop=client.loop, with_results=True, raise_errors=False)
                for batch in done.batches():
                    if job.cancelled.is_set():
                        break
                    self._keep(plan, [(by_key[future.key], failure_or(outcome)) for future, outcome in batch])
            if job.cancelled.is_set():
                final, detail = "cancelled", "cancelled by a DELETE"
        except Exception as e:
            log.exception("sweep %s failed", plan.id)
            final, detail = "failed", f"the sweep failed: {type(e).__name__}: {e}"
        finally:
            if self._closed.is_set() and final != "done":
                final, detail = "failed", STOPPED
            with self.lock:
                store.set_sweep_status(plan.id, final, detail,
                                       only_if=UNFINISHED if final != "cancelled" else None)
                self.jobs.pop(plan.id, None)
            self.notify(plan.id)

    def _keep(self, plan: Plan, finished: list[tuple[Point, dict]]) -> None:
        """Keep finished points (each with its outcome) and tell the followers."""
        if not finished:
            return
        rows = []
        for point, outcome in finished:
            record, failed = point_record(plan, point, outcome)
            rows.append((point.index, orjson.dumps(record), failed))
        self.store().put_sweep_points(plan.id, rows)
        self.notify(plan.id)

    # --- the heartbeat -------------------------------------------------------------------
    def _ensure_heartbeat(self) -> None:
        if self._heartbeat is None:
            self._heartbeat = threading.Thread(target=self._beat, daemon=True, name="gfl-sweep-heartbeat")
            self._heartbeat.start()

    def _beat(self) -> None:
        """Touch the sweeps computing here; stop those cancelled in the store by another
        replica."""
        while not self._closed.wait(self.settings.sweep_heartbeat_seconds):
            ids = list(self.jobs)
            try:
                store = self.store()
                store.touch_sweeps(ids)
                for id_ in ids:
                    row = store.sweep(id_)
                    job = self.jobs.get(id_)
                    if row is not None and row["status"] == "cancelled" and job is not None:
                        self._stop(job)
            except Exception:
                log.exception("the sweeps' heartbeat failed")

    # --- clients that follow a sweep -----------------------------------------------------
    def notify(self, id_: str) -> None:
        """Wake the event streams that follow this sweep (from any thread)."""
        for loop, event in list(self._waiters.get(id_, ())):
            loop.call_soon_threadsafe(event.set)

    def follow(self, id_: str, loop, event) -> Callable[[], None]:
        """Register an asyncio event to be set on news of the sweep; returns the unregister."""
        with self.lock:
            self._waiters.setdefault(id_, set()).add((loop, event))

        def leave():
            with self.lock:
                waiters = self._waiters.get(id_)
                if waiters is not None:
                    waiters.discard((loop, event))
                    if not waiters:
                        del self._waiters[id_]

        return leave

    def close(self) -> None:
        """Stop every sweep computing here (they are failed: a restart resumes them) and the
        cluster."""
        self._closed.set()
        for job in list(self.jobs.values()):
            self._stop(job)
        for job in list(self.jobs.values()):
            if job.thread is not None:
                job.thread.join(10)
        with self._client_lock:
            for closable in (self._client, self._cluster):
                if closable is not None:
                    try:
                        closable.close()
                    except Exception:
                        log.debug("closing the Dask client or cluster failed", exc_info=True)
            self._client = self._cluster = None
