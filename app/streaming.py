"""Server-Sent Events over a lazy, CPU-bound iterator, without blocking the event loop.

A stream first waits for a compute slot (`limits.Ticket`): while it waits in line it tells the
client its position (`queued` events); a wait past the line's time limit ends the stream with an
`error` event that carries `retry_after` (its 200 has gone out, so this is its 503).

Then the core computes in a worker thread; each trip to the thread pulls events for up to
`BATCH_SECONDS` of compute (the first trip returns after the very first event, so it
leaves at once) and hands them back as one chunk of the SSE wire format. A client that
disconnects cancels the response between trips; the iterator is then closed, so no
orphaned work goes on beyond the batch in progress.

Memory per client stays bounded: a stream in line holds its request and no computed data (the
core's generators start with the first trip); a computing stream holds its run's working
memory (estimated and capped by `memory_bytes_max`) and one chunk, and only `capacity` of them
compute at once, because the computation waits for the client: the next trip starts when the
previous chunk has been handed to the server, which takes it only when the connection's send
buffer has drained below its high-water mark (uvicorn's flow control). The slot is given back
as soon as the last event has been computed, so a stream that drains its last chunk to a slow
client holds that chunk (≤ one batch) and no slot.

`bounded` ends a computation early, with a reason a client can read, when it runs past its
time limit or when the server is shutting down (SIGTERM): a stream then ends with an `error`
event instead of a cut connection, and a JSON answer is a 503.
"""

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator

from starlette.concurrency import run_in_threadpool

from app.limits import Busy, Ticket

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
    events: Iterator[bytes], encode: Callable[[str, dict], bytes], ticket: Ticket, *, done: bool = False
) -> AsyncIterator[bytes]:
    """The stream of `events`, computed while `ticket` holds a slot: `queued` events while it
    waits in line, then chunks of `events` and a `done` event if `done` — or an `error` event
    instead of the rest if the wait runs out (with `retry_after`) or the computation fails."""
    try:
        deadline, shown = ticket.deadline(), 0
        while ticket.state == Ticket.WAITING:
            position = ticket.position
            if position and position != shown:
                yield encode("queued", {"position": position})
                shown = position
            try:
                await ticket.wait(deadline)
            except Busy as e:
                yield encode("error", {"detail": e.detail, "retry_after": e.retry_after})
                return
        if not ticket.held:
            return

        def on_error(detail: str) -> bytes:
            return encode("error", {"detail": detail})

        seconds = 0.0
        while True:
            chunk, more, failed = await run_in_threadpool(_pull, events, seconds, on_error)
            seconds = BATCH_SECONDS
            if more:
                yield chunk
                continue
            ticket.leave()  # computed: the last chunk drains without the slot
            yield chunk + encode("done", {}) if done and not failed else chunk
            return
    finally:
        ticket.leave()
        close = getattr(events, "close", None)
        if close is not None:
            close()
