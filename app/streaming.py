"""Server-Sent Events over a lazy, CPU-bound iterator, without blocking the event loop.

A stream first waits for a compute slot (`limits.Ticket`): while it waits in line it tells the
client its position (`queued` events, at once and then whenever a look every `POSITION_SECONDS`
finds it changed); a wait past the line's time limit ends the stream with an `error` event that
carries `retry_after` (its 200 has gone out, so this is its 503).

Then the core computes in a worker thread; each trip to the thread pulls events for up to
`BATCH_SECONDS` of compute (the first trip returns after the very first event, so it
leaves at once) and hands them back as one chunk of the SSE wire format. The trips of streamed
runs take turns on the worker's compute threads (`ComputeThreads`). A client that
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

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import anyio
from starlette.concurrency import run_in_threadpool

from gradient_flow_lab.app.limits import Busy, Ticket

BATCH_SECONDS = 0.02
# a stream in line looks at its position this often and tells the client when it has changed:
# a line of n streams costs n wake-ups a second, not an event to each of them whenever one moves
POSITION_SECONDS = 1.0
log = logging.getLogger("gradient_flow_lab")


class Stopped(Exception):
    """A computation ended early on purpose; the message is for the client."""


class Checkpoint:
    """A computation's checkpoint, called between its frames and, for a training, inside its
    long steps (core.train.train's `checkpoint`): raises Stopped once its client has gone
    (`gone`, set by `sse_chunks`), the server starts draining, or `seconds` have passed."""

    def __init__(self, seconds: float, limit_name: str, draining: threading.Event):
        self.deadline = time.monotonic() + seconds
        self.seconds, self.limit_name, self.draining = seconds, limit_name, draining
        self.gone = threading.Event()

    def __call__(self) -> None:
        if self.gone.is_set():
            raise Stopped("the client has gone")
        if self.draining.is_set():
            raise Stopped("the server is shutting down; retry in a moment")
        if time.monotonic() > self.deadline:
            raise Stopped(f"stopped after {self.seconds:g} s, the time limit ({self.limit_name})")


def bounded(frames: Iterable, seconds: float, limit_name: str, draining: threading.Event) -> Iterator:
    """`frames`, but raise Stopped once `seconds` have passed or the server starts draining."""
    return checked(frames, Checkpoint(seconds, limit_name, draining))


def checked(frames: Iterable, checkpoint: Checkpoint) -> Iterator:
    """`frames`, with `checkpoint` called after each (it raises Stopped to end them)."""
    for frame in frames:
        yield frame
        checkpoint()


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


class ComputeThreads:
    """The worker's own threads for the trips of streamed runs: `n` trips at once, the others
    wait their turn, first come, first served (the executor's queue); without any (`n` = 0),
    trips go to the shared thread pool as they come.

    Runs of small matrices are bound by Python's global interpreter lock, so it serialises them
    anyway, and threads that contend for it slow each other down: one trip at a time serves the
    default run about 1.7 times as fast as four at once (bench_class.py; runs of large matrices,
    whose products leave the lock, gain from a second thread). Slots still bound how many runs
    are under way, and so their memory; and with one thread, every run allocates in one of the
    C allocator's arenas, whose memory it reuses, where trips on the shared pool's many threads
    left each arena holding its own.
    """

    def __init__(self, n: int):
        self.executor = ThreadPoolExecutor(n, thread_name_prefix="gfl-compute") if n > 0 else None

    async def run(self, fn: Callable, *args, on_cancel: Callable[[], None] | None = None):
        """fn(*args) on these threads. A caller cancelled while the call waits for its turn
        drops it; one cancelled while it runs calls `on_cancel` (which should make fn return
        soon: a Checkpoint's `gone.set`) and waits for its end, so that a generator it
        advances is never closed under it, as the shared pool's callers do (who cannot be
        cancelled before its end)."""
        if self.executor is None:
            return await run_in_threadpool(fn, *args)
        job = self.executor.submit(fn, *args)
        try:
            return await asyncio.wrap_future(job)
        except BaseException:
            if not job.cancel():
                if on_cancel is not None:
                    on_cancel()
                with anyio.CancelScope(shield=True):
                    await asyncio.wait([asyncio.wrap_future(job)])
            raise

    def shutdown(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)


async def sse_chunks(
    events: Iterator[bytes], encode: Callable[[str, dict], bytes], ticket: Ticket, *, done: bool = False,
    threads: ComputeThreads | None = None, checkpoint: Checkpoint | None = None,
) -> AsyncIterator[bytes]:
    """The stream of `events`, computed while `ticket` holds a slot (on `threads`, or the shared
    pool): `queued` events while it waits in line, then chunks of `events` and a `done` event if
    `done` — or an `error` event instead of the rest if the wait runs out (with `retry_after`)
    or the computation fails. A client that disconnects while a chunk computes on `threads`
    sets `checkpoint.gone`: a computation that calls its checkpoint inside long steps (a
    training) stops there and gives its slot back, instead of at the end of the step in
    progress. (On the shared pool a trip cannot be told: it ends with its chunk.)"""
    on_cancel = checkpoint.gone.set if checkpoint is not None else None

    async def trip(*args):
        if threads is None:
            return await run_in_threadpool(*args)
        return await threads.run(*args, on_cancel=on_cancel)

    try:
        deadline, shown = ticket.deadline(), 0
        while ticket.state == Ticket.WAITING:
            position = ticket.position
            if position and position != shown:
                yield encode("queued", {"position": position})
                shown = position
            try:
                await ticket.wait(deadline, look=POSITION_SECONDS)
            except Busy as e:
                yield encode("error", {"detail": e.detail, "retry_after": e.retry_after})
                return
        if not ticket.held:
            return

        def on_error(detail: str) -> bytes:
            return encode("error", {"detail": detail})

        seconds = 0.0
        while True:
            chunk, more, failed = await trip(_pull, events, seconds, on_error)
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
