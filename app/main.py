"""The ASGI application: `uvicorn app.main:app`."""

import logging

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app import __version__, errors
from app.compression import Compression
from app.limits import BodySizeLimit, RunLimiter
from app.paths import STATIC, TEMPLATES
from app.routers import meta, pages, runs, train
from app.routers.pages import PLOTLY_VERSIONED
from app.security import SecurityHeaders, asset_version
from app.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    logging.getLogger("gradient_flow_lab").setLevel(settings.log_level.upper())
    app = FastAPI(
        title="Gradient Flow Lab",
        version=__version__,
        description="Exact backpropagation through time for RNN, LSTM and GRU, computed live. "
        "See docs/api.md for the contract and curl examples.",
    )
    app.state.settings = settings
    app.state.limiter = RunLimiter(settings.max_concurrent_runs, settings.retry_after_seconds)
    app.state.train_limiter = RunLimiter(settings.max_concurrent_trainings, settings.retry_after_seconds,
                                         what="trainings", limit_name="max_concurrent_trainings")
    app.state.templates = Jinja2Templates(directory=TEMPLATES)
    errors.install(app)
    app.include_router(pages.router)
    app.include_router(meta.router)
    app.include_router(runs.router)
    app.include_router(train.router)
    static_prefix = f"/static/{asset_version(STATIC, __version__)}"
    app.state.static_prefix = static_prefix
    app.mount(static_prefix, StaticFiles(directory=STATIC), name="static-versioned")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # outermost last: every response, a 413 included, gets the security headers
    app.add_middleware(BodySizeLimit, limit=settings.body_bytes_max)
    app.add_middleware(Compression)  # page, assets, small JSON; not streams, not huge answers
    app.add_middleware(SecurityHeaders, immutable_prefixes=(static_prefix + "/", PLOTLY_VERSIONED))
    return app


app = create_app()
