"""Structured logs: one JSON object per line on stderr, for requests and for errors.

    {"ts": "2026-11-30T01:52:03.120Z", "level": "INFO", "logger": "gradient_flow_lab.access",
     "msg": "request", "method": "POST", "path": "/api/runs", "status": 200, "ms": 41.3,
     "bytes": 113516, "client": "127.0.0.1"}

Stack traces go to the log (as "exc"), never to a client.
"""

import json
import logging
import time
from datetime import UTC, datetime

LOGGER = "gradient_flow_lab"
FIELDS = ("method", "path", "status", "ms", "bytes", "client", "complete")


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update({k: getattr(record, k) for k in FIELDS if hasattr(record, k)})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure(level: str) -> None:
    """A JSON handler on the project's logger (once per process)."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(level.upper())
    if not any(isinstance(h.formatter, JSONFormatter) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JSONFormatter())
        logger.addHandler(handler)
        logger.propagate = False


class AccessLog:
    """Pure ASGI middleware: one line per request when its answer is complete (or the client
    went away mid-stream: "complete": false)."""

    def __init__(self, app):
        self.app = app
        self.log = logging.getLogger(LOGGER + ".access")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        info = {"status": 500, "bytes": 0, "complete": False}

        async def logged_send(message):
            if message["type"] == "http.response.start":
                info["status"] = message["status"]
            elif message["type"] == "http.response.body":
                info["bytes"] += len(message.get("body", b""))
                if not message.get("more_body", False):
                    info["complete"] = True
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        finally:
            client = scope.get("client")
            self.log.info("request", extra={
                "method": scope["method"], "path": scope["path"], "status": info["status"],
                "ms": round((time.perf_counter() - start) * 1000, 1), "bytes": info["bytes"],
                "client": client[0] if client else None, "complete": info["complete"],
            })
