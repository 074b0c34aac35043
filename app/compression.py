"""GZip for the page, its assets and small JSON answers — without making big answers slower.

Starlette's GZipMiddleware compresses every response at level 9 on every request: plotly.min.js
(4.6 MB) costs about 0.3 s of CPU per page load, and a 15 MB run answer took 17× its compute
time. Here:

- static files (/static, /vendor) are compressed once at level 9 and kept, keyed by path and
  ETag (content-versioned URLs make them immutable anyway);
- other answers with a known length (HTML, JSON) are compressed at level 1 when they are
  between MIN_BYTES and MAX_DYNAMIC_BYTES; a larger run answer goes out as it is: on the
  loopback or a LAN, compressing 15 MB of full-precision floats costs more than it saves;
- streams (no Content-Length, e.g. SSE) pass through untouched.
"""

import gzip

from starlette.concurrency import run_in_threadpool

MIN_BYTES = 1000
MAX_DYNAMIC_BYTES = 1_000_000
COMPRESSIBLE = (b"text/", b"application/json", b"application/javascript", b"image/svg+xml")
STATIC_PREFIXES = ("/static/", "/vendor/")


class Compression:
    def __init__(self, app):
        self.app = app
        self.cache: dict[tuple[str, bytes], bytes] = {}

    async def __call__(self, scope, receive, send):
        if (scope["type"] != "http" or scope["method"] == "HEAD"
                or b"gzip" not in dict(scope["headers"]).get(b"accept-encoding", b"")):
            return await self.app(scope, receive, send)
        path = scope["path"]
        static = path.startswith(STATIC_PREFIXES)
        start: dict | None = None
        chunks: list[bytes] = []

        async def send_compressed(message):
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                length = int(headers.get(b"content-length", b"-1"))
                wanted = (
                    message["status"] == 200
                    and length >= MIN_BYTES
                    and (static or length <= MAX_DYNAMIC_BYTES)
                    and headers.get(b"content-type", b"").startswith(COMPRESSIBLE)
                    and b"content-encoding" not in headers
                )
                if not wanted:
                    start = None
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            etag = dict(headers).get(b"etag", b"")
            # compression runs in a worker thread: plotly.min.js at level 9 takes ~0.3 s
            if static and etag:
                key = (path, etag)
                if key not in self.cache:
                    self.cache[key] = await run_in_threadpool(gzip.compress, body, 9, mtime=0)
                packed = self.cache[key]
            else:
                packed = await run_in_threadpool(gzip.compress, body, 1, mtime=0)
            headers += [(b"content-encoding", b"gzip"), (b"content-length", str(len(packed)).encode()),
                         (b"vary", b"Accept-Encoding")]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": packed})

        return await self.app(scope, receive, send_compressed)
