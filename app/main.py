"""The ASGI application: `uvicorn app.main:app`."""

import asyncio
import logging
import signal
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from gradient_flow_lab import __version__
from gradient_flow_lab.app import errors, logs
from gradient_flow_lab.app.catalogue import gamma_label
from gradient_flow_lab.app.compression import Compression
from gradient_flow_lab.app.limits import BodySizeLimit, RunLimiter
from gradient_flow_lab.app.paths import STATIC, TEMPLATES
from gradient_flow_lab.app.routers import explain, meta, pages, runs, sweeps, theory, train, weights
from gradient_flow_lab.app.routers.pages import PLOTLY_VERSIONED
from gradient_flow_lab.app.security import SecurityHeaders, asset_version
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.app.store import Store
from gradient_flow_lab.app.streaming import ComputeThreads
from gradient_flow_lab.app.sweeps import SweepEngine
from gradient_flow_lab.app.weights import NetworkCache

log = logging.getLogger(__name__)


def drain_on_signals(draining: threading.Event) -> None:
    """On SIGTERM or SIGINT, set `draining` (running streams end with an `error` event that
    says so) and pass the signal on to uvicorn, which stops accepting and waits for them."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)

        def handler(signum, frame, previous=previous):
            draining.set()
            if callable(previous):
                previous(signum, frame)

        try:
            signal.signal(sig, handler)
        except ValueError:  # not the main thread (e.g. under TestClient): nothing to drain
            return


NETWORK_CACHE_BYTES = 256 * 2**20  # parsed networks kept in memory, per worker


def lazy(make):
    """A function that makes its value on the first call and returns that value ever after."""
    lock, made = threading.Lock(), []

    def get():
        with lock:
            if not made:
                made.append(make())
            return made[0]

    return get


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level)
    draining = threading.Event()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        drain_on_signals(draining)
        # the sweeps a stopped server left unfinished are failed now, not when first read
        try:
            await asyncio.to_thread(app.state.sweeps.start_once)
        except Exception:  # a store that cannot be opened yet: its first use says so
            log.warning("the store could not be read at the start", exc_info=True)
        yield
        draining.set()
        app.state.compute_threads.shutdown()
        app.state.train_threads.shutdown()
        app.state.sweeps.close()  # its sweeps fail (a restart resumes them); its cluster stops

    app = FastAPI(
        lifespan=lifespan,
        docs_url=None,  # served by app.routers.pages from the installed Swagger UI: no CDN
        redoc_url=None,
        title="Gradient Flow Lab",
        version=__version__,
        description="Exact backpropagation through time for RNN, LSTM and GRU, computed live. "
        "See docs/api.md for the contract and curl examples.",
    )
    app.state.settings = settings
    app.state.draining = draining
    line = {"queue_seconds": settings.queue_seconds, "queue_length_max": settings.queue_length_max}
    app.state.limiter = RunLimiter(settings.max_concurrent_runs, settings.retry_after_seconds, **line)
    app.state.train_limiter = RunLimiter(settings.max_concurrent_trainings, settings.retry_after_seconds,
                                         **line, what="trainings", limit_name="max_concurrent_trainings")
    app.state.compute_threads = ComputeThreads(settings.compute_threads)
    # the trainings' own threads (each holds a slot of train_limiter): a trip there can be told
    # that its client has gone, so a long training step stops within a fraction of itself
    app.state.train_threads = ComputeThreads(max(settings.max_concurrent_trainings, 1))
    app.state.store = lazy(lambda: Store.open(settings))  # opened on first use
    app.state.networks = NetworkCache(NETWORK_CACHE_BYTES)
    app.state.sweeps = SweepEngine(settings, app.state.store)  # its Dask cluster on first use
    app.state.templates = Jinja2Templates(directory=TEMPLATES)
    app.state.templates.env.filters["gamma_label"] = gamma_label
    errors.install(app)
    app.include_router(pages.router)
    app.include_router(meta.router)
    app.include_router(runs.router)
    app.include_router(train.router)
    app.include_router(explain.router)
    app.include_router(weights.router)
    app.include_router(sweeps.router)
    app.include_router(theory.router)
    static_prefix = f"/static/{asset_version(STATIC, __version__)}"
    app.state.static_prefix = static_prefix
    app.mount(static_prefix, StaticFiles(directory=STATIC), name="static-versioned")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # outermost last: every response, a 413 included, gets the security headers
    multipart_slack = 64 * 1024  # the form's boundaries and fields around the file
    app.add_middleware(BodySizeLimit, limit=settings.body_bytes_max, streamed={
        "/api/weights": (settings.weights_bytes_max + multipart_slack, "weights_bytes_max")})
    app.add_middleware(Compression)  # page, assets, small JSON; not streams, not huge answers
    app.add_middleware(SecurityHeaders, immutable_prefixes=(static_prefix + "/", PLOTLY_VERSIONED))
    app.add_middleware(logs.AccessLog)
    return app


app = create_app()
