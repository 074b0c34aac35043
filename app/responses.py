"""The API's response classes (FastAPI's), apart from app/serialize.py so that serialising a run
needs no web framework: the Python package (gradient_flow_lab.runs) writes the same JSON
without importing FastAPI."""

from fastapi.responses import JSONResponse as FastAPIJSONResponse
from fastapi.responses import Response

from gradient_flow_lab.app.serialize import dumps


class JSONResponse(FastAPIJSONResponse):
    """application/json written by orjson: numpy arrays natively, non-finite floats as null.
    (A JSONResponse subclass, so that OpenAPI documents the answers as JSON.)"""

    def render(self, content) -> bytes:
        return dumps(content)


class EventStream(Response):
    """For the OpenAPI schema only: the stream routes return FastAPI's EventSourceResponse; naming
    it as their response class would switch FastAPI to its generator-based SSE mode."""

    media_type = "text/event-stream"
