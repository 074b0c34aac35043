"""The explorer page."""

from pathlib import Path

import plotly
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(tags=["pages"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request):
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "index.html", {
        "version": request.app.version,
        "static": request.app.state.static_prefix,
        "plotly_js": PLOTLY_VERSIONED,
    })


PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_VERSIONED = f"/vendor/plotly-{plotly.__version__}.min.js"  # cached for a year


@router.get("/vendor/plotly.min.js", include_in_schema=False)
@router.get(PLOTLY_VERSIONED, include_in_schema=False)
def plotly_js():
    """Plotly.js from the installed `plotly` package: the page works with no internet."""
    return FileResponse(PLOTLY_JS, media_type="text/javascript")
