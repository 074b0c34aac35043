"""Server-Sent Events over a lazy, CPU-bound iterator, without blocking the event loop.

The core computes in a worker thread; each trip to the thread pulls events for up to
`BATCH_SECONDS` of compute (the first trip returns after the very first event, so it
leaves at once) and hands them back as one chunk of the SSE wire format. A client that
disconnects cancels the response between trips; the iterator is then closed, so no
orphaned work goes on beyond the batch in progress.

`bounded` ends a computation early, with a reason a client can read, when it runs past its
time limit or when the server is shutting down (SIGTERM): a stream then ends with an `error`
event instead of a cut connection, and a JSON answer is a 503.
"""

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator

from starlette.concurrency import run_in_threadpool

BATCH_SECONDS = 0.02
log = logging.getLogger("gradient_flow_lab")


class Stopped(Exception):
    """A computation ended early on purpose; the message is for the client."""


def bounded(frames: Iterable, seconds: float, limit_name: str, draining: threading.Event) -> Iterator:
    """`frames`, but raise Stopped once `seconds` have passed or the server starts draining."""
    deadline = time.monotonic() + seconds
    for frame in frames:
        yield frame
        if draining.is_set():
            raise Stopped("the server is shutting down; retry in a moment")
        if time.monotonic() > deadline:
            raise Stopped(f"stopped after {seconds:g} s, the time limit ({limit_name})")


def _pull(events: Iterator[bytes], seconds: float, on_error: Callable[[str], bytes]):
    """Events for up to `seconds`: (chunk, more, failed)."""
    parts = []
    start = time.perf_counter()
    try:
        for event in events:
            parts.append(event)
            if time.perf_counter() - start >= seconds:
                return b"".join(parts), True, False
    except Stopped as e:
        parts.append(on_error(str(e)))
        return b"".join(parts), False, True
    except Exception:
        log.exception("a stream failed mid-way")
        parts.append(on_error("the computation failed mid-way; it has been logged"))
        return b"".join(parts), False, True
    return b"".join(parts), False, False


async def sse_chunks(
    events: Iterator[bytes], on_error: Callable[[str], bytes], done: Callable[[], bytes] = lambda: b""
) -> AsyncIterator[bytes]:
    """Chunks of `events`, then `done()`; `on_error(detail)` instead of the rest if one fails."""
    seconds = 0.0
    try:
        while True:
            chunk, more, failed = await run_in_threadpool(_pull, events, seconds, on_error)
            seconds = BATCH_SECONDS
            if more:
                yield chunk
                continue
            yield chunk if failed else chunk + done()
            return
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
