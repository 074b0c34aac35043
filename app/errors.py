"""Error responses of the project's own: always JSON with a `detail` string, never a 500
for anything a client sends, never a stack trace.

FastAPI's default validation handler echoes the rejected input back, and fails with a 500
when that input holds NaN or Infinity (it cannot be written as JSON); this one writes the
field and the message only.
"""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gradient_flow_lab.app.schemas import ErrorSchema
from gradient_flow_lab.app.serialize import JSONResponse

log = logging.getLogger("gradient_flow_lab")

# The error answers of the API, for the OpenAPI schema of each route
ERROR_TEXTS = {
    413: "request body over body_bytes_max",
    422: "invalid input, or over a limit (named)",
    503: "too many runs at once, or a time limit; see Retry-After",
}
ERROR_DOCS = {code: {"model": ErrorSchema, "description": text} for code, text in ERROR_TEXTS.items()}
# The stream routes answer errors as JSON too: given a model, FastAPI would document them under
# the route's media type (text/event-stream), so they name the schema themselves.
STREAM_ERROR_DOCS = {
    code: {"description": text,
           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorSchema"}}}}
    for code, text in ERROR_TEXTS.items()
}


def _loc(loc, kind: str = "") -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) if parts and kind != "json_invalid" else "body"


def _message(err: dict) -> str:
    msg = str(err.get("msg", "invalid"))
    ctx = err.get("ctx") or {}
    if err.get("type") == "json_invalid":  # its loc is ("body", character position)
        where = err.get("loc", ())[-1]
        msg = f"{msg}: {ctx.get('error', 'invalid JSON')} at character {where}"
    return msg


def clean(errors) -> list[dict]:
    """Validation errors without the rejected input (which may not be writable as JSON)."""
    return [{"loc": [str(p) for p in e.get("loc", ())], "msg": _message(e),
             "type": str(e.get("type", "value_error"))} for e in errors]


def describe(errors) -> str:
    """One line naming each field and what is wrong with it."""
    return "; ".join(f"{_loc(e['loc'], e['type'])}: {e['msg']}" for e in clean(errors)) or "invalid request"


async def validation_error(request: Request, exc: RequestValidationError):
    # Each error once: a route reaches its body's validation by two dependencies (the request
    # itself, and the slot that waits only for a valid one), and FastAPI validates the body
    # again for the second, since a failed dependency is not cached.
    errors = list({(tuple(e["loc"]), e["msg"], e["type"]): e for e in exc.errors()}.values())
    return JSONResponse({"detail": describe(errors), "errors": clean(errors)}, status_code=422)


async def http_error(request: Request, exc: StarletteHTTPException):
    if exc.status_code == 400:  # FastAPI's answer to a body it cannot decode (e.g. not UTF-8)
        return JSONResponse({"detail": f"body: {exc.detail}; send UTF-8 JSON",
                             "errors": [{"loc": ["body"], "msg": str(exc.detail), "type": "body_decode"}]},
                            status_code=422)
    return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def unexpected_error(request: Request, exc: Exception):
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
