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
    """Pure ASGI middleware: refuse a request body over its limit with 413 before it is parsed,
    whether or not the client sent Content-Length.

    Bodies of the paths in `streamed` ({path: (limit, limit name)}, file uploads) pass through
    as they arrive, counted: past the limit the client gets the 413 and the route sees a
    disconnect (it never reads more than the limit). Every other body is read whole first, up
    to `limit` (body_bytes_max), so that a JSON body over it is never parsed at all."""

    def __init__(self, app, limit: int, streamed: dict[str, tuple[int, str]] | None = None):
        self.app = app
        self.limit = limit
        self.streamed = streamed or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit, name = self.streamed.get(scope["path"], (self.limit, "body_bytes_max"))
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await self._refuse(send, limit, name)
        if scope["path"] in self.streamed:
            return await self._stream(scope, receive, send, limit, name)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                return await self._refuse(send, limit, name)
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

    async def _stream(self, scope, receive, send, limit: int, name: str):
        size, refused = 0, False

        async def counted():
            nonlocal size, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            size += len(message.get("body", b""))
            if size > limit:
                refused = True
                await self._refuse(send, limit, name)
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if not refused:  # once refused, whatever the route answers is dropped
                await send(message)

        return await self.app(scope, counted, guarded_send)

    async def _refuse(self, send, limit: int, name: str):
        payload = orjson.dumps({"detail": f"the request body is over {limit} bytes (limit {name})"})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})
