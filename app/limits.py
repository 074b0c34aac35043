"""Guards in front of the work: body size, concurrent runs."""

import threading

import orjson
from fastapi import HTTPException, Request


class RunLimiter:
    """At most `capacity` runs at once in this worker; the rest get 503 + Retry-After."""

    def __init__(self, capacity: int, retry_after: int, what: str = "runs",
                 limit_name: str = "max_concurrent_runs"):
        self.what, self.limit_name = what, limit_name
        self.capacity = capacity
        self.retry_after = retry_after
        self.active = 0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            if self.active >= self.capacity:
                raise HTTPException(
                    503,
                    detail=f"the server is busy: {self.capacity} {self.what} are in progress "
                    f"(limit {self.limit_name}); retry in {self.retry_after} s",
                    headers={"Retry-After": str(self.retry_after)},
                )
            self.active += 1

    def release(self) -> None:
        with self._lock:
            self.active -= 1


def slot(limiter_name: str):
    """A dependency that holds one slot of `app.state.<limiter_name>` for as long as the
    response lasts (a stream included), or answers 503 when none is free."""

    async def hold(request: Request):
        limiter: RunLimiter = getattr(request.app.state, limiter_name)
        limiter.acquire()
        try:
            yield
        finally:
            limiter.release()

    return hold


class BodySizeLimit:
    """Pure ASGI middleware: refuse a request body over `limit` bytes with 413 before it is
    parsed, whether or not the client sent Content-Length."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._refuse(send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.limit:
                return await self._refuse(send)
            chunks.append(body)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    async def _refuse(self, send):
        payload = orjson.dumps({"detail": f"the request body is over {self.limit} bytes "
                                          "(limit body_bytes_max)"})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})
