"""The explorer page."""

import re
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from gradient_flow_lab.app import i18n
from gradient_flow_lab.app.catalogue import catalogue_json, lessons_json, palette_css
from gradient_flow_lab.core.catalogue import MODEL_KINDS

router = APIRouter(tags=["pages"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request):
    """The page, in the language of the URL's `lang` or else of Accept-Language."""
    lang = i18n.choose(request.query_params.get("lang"), request.headers.get("accept-language"))
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "index.html", {
        "version": request.app.version,
        "static": request.app.state.static_prefix,
        "plotly_js": PLOTLY_VERSIONED,
        "lang": lang,
        "languages": i18n.LANGUAGES,
        "t": i18n.translator(lang),
        "messages": i18n.messages_json(lang),
        "catalogue": catalogue_json(),
        "palette_css": palette_css(),
        "lessons": lessons_json(),
        "page_models": [k for k in MODEL_KINDS if k.page],
    }, headers={"Vary": "Accept-Language"})


# plotly.js from the installed `plotly` package (found, not imported), the one the Python figures
# draw with; its version (in the file's first lines) names the URL that is cached for a year
PLOTLY_JS = Path(find_spec("plotly").submodule_search_locations[0]) / "package_data" / "plotly.min.js"
with PLOTLY_JS.open("rb") as _head:
    PLOTLY_JS_VERSION = re.search(rb"plotly\.js v(\S+)", _head.read(200)).group(1).decode()
PLOTLY_VERSIONED = f"/vendor/plotly-{PLOTLY_JS_VERSION}.min.js"


@router.get("/vendor/plotly.min.js", include_in_schema=False)
@router.get(PLOTLY_VERSIONED, include_in_schema=False)
def plotly_js():
    """Plotly.js from the installed `plotly` package, served by the app: no internet needed."""
    return FileResponse(PLOTLY_JS, media_type="text/javascript")


SWAGGER = Path(fastapi_offline.__file__).parent / "static"  # Swagger UI 5, for /docs offline
SWAGGER_FILES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}
SWAGGER_PREFIX = f"/vendor/swagger-{version('fastapi-offline')}"


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def api_docs(request: Request):
    """The OpenAPI schema in Swagger UI, with nothing from the internet."""
    return request.app.state.templates.TemplateResponse(request, "docs.html", {
        "static": request.app.state.static_prefix,
        "openapi_url": request.app.openapi_url,
        "swagger_js": f"{SWAGGER_PREFIX}/swagger-ui-bundle.js",
        "swagger_css": f"{SWAGGER_PREFIX}/swagger-ui.css",
    })


@router.get(SWAGGER_PREFIX + "/{name}", include_in_schema=False)
def swagger_file(name: str):
    if name not in SWAGGER_FILES:
        raise HTTPException(404, detail="not found")
    return FileResponse(SWAGGER / name, media_type=SWAGGER_FILES[name])
