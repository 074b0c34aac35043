"""Guards in front of the work: body size, and the slots of concurrent runs with the line that
waits for them."""

import asyncio
import threading
from collections import deque

import orjson
from fastapi import Depends, HTTPException, Request


class Busy(HTTPException):
    """503 + Retry-After: no slot now, or none within the line's time limit."""

    def __init__(self, detail: str, retry_after: int):
        super().__init__(503, detail=detail, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class RunLimiter:
    """At most `capacity` runs compute at once in this worker. A request that finds every slot
    taken waits in line, first come first served, for up to `queue_seconds`, then gets 503 +
    Retry-After; so does one that finds `queue_length_max` requests in line already, or no line
    at all (`queue_seconds` 0, or `capacity` 0).

    A slot bounds compute, not connections: it is held from the start of the work to its end
    and given back before the last bytes of the answer drain to the client (`Ticket.leave`). A
    slot given back goes straight to the first in line, so a newcomer never overtakes it.

    Thread-safe: a slot may be given back from any thread; each waiting ticket is woken on the
    event loop it waits on.
    """

    def __init__(self, capacity: int, retry_after: int, queue_seconds: float = 0.0, queue_length_max: int = 0,
                 what: str = "runs", limit_name: str = "max_concurrent_runs"):
        self.capacity, self.retry_after = capacity, retry_after
        self.queue_seconds, self.queue_length_max = queue_seconds, queue_length_max
        self.what, self.limit_name = what, limit_name
        self.active = 0  # slots held
        self._line: deque[Ticket] = deque()
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        return len(self._line)

    def enter(self) -> "Ticket":
        """A ticket that holds a slot at once when one is free and nobody waits, else a place at
        the end of the line; Busy when there is no room in line."""
        ticket = Ticket(self, asyncio.get_running_loop())
        with self._lock:
            if self.active < self.capacity and not self._line:
                self.active += 1
                ticket.state = Ticket.HOLDING
                return ticket
            if self.capacity <= 0:
                raise self._busy(f"no {self.what} are taken (limit {self.limit_name} = 0)")
            if self.queue_seconds <= 0:
                raise self._busy(f"{self.active} {self.what} are in progress (limit {self.limit_name})")
            if len(self._line) >= self.queue_length_max:
                raise self._busy(f"{self.active} {self.what} are in progress and {len(self._line)} "
                                 f"wait (limits {self.limit_name}, queue_length_max)")
            self._line.append(ticket)
        return ticket

    def acquire(self) -> None:
        """Take a slot now, without a line (Busy if none is free); give it back with release()."""
        with self._lock:
            if self.active >= self.capacity or self._line:
                raise self._busy(f"{self.capacity} {self.what} are in progress (limit {self.limit_name})")
            self.active += 1

    def release(self) -> None:
        with self._lock:
            served = self._hand_over()
        _wake(served)

    def _hand_over(self) -> "Ticket | None":
        """A slot has been given back (lock held): it goes to the first in line, if any, who is
        returned, to be woken. (The others learn their new place when they next look.)"""
        if not self._line:
            self.active -= 1
            return None
        first = self._line.popleft()
        first.state = Ticket.HOLDING
        return first

    def _busy(self, why: str) -> Busy:
        return Busy(f"the server is busy: {why}; retry in {self.retry_after} s", self.retry_after)


def _wake(ticket: "Ticket | None") -> None:
    if ticket is not None:
        ticket.loop.call_soon_threadsafe(ticket.woken.set)


class Ticket:
    """One request's claim on a RunLimiter: a place in line, then a slot, then nothing
    (`leave()`, which may be called any number of times, from any thread)."""

    WAITING, HOLDING, DONE = "waiting", "holding", "done"
    __slots__ = ("limiter", "loop", "state", "woken")

    def __init__(self, limiter: RunLimiter, loop: asyncio.AbstractEventLoop):
        self.limiter, self.loop = limiter, loop
        self.state = Ticket.WAITING
        self.woken = asyncio.Event()  # set when the slot is ours (or the ticket has left)

    @property
    def held(self) -> bool:
        return self.state == Ticket.HOLDING

    @property
    def position(self) -> int:
        """1 for the first in line; 0 once the ticket holds a slot or has left."""
        with self.limiter._lock:
            return self.limiter._line.index(self) + 1 if self.state == Ticket.WAITING else 0

    def deadline(self) -> float:
        """When a ticket that starts waiting now gives up, in the loop's clock."""
        return self.loop.time() + self.limiter.queue_seconds

    async def wait(self, deadline: float, look: float | None = None) -> None:
        """Until the slot is ours, or for `look` seconds at most (to look at the position again);
        Busy (and out of line) at `deadline`. Cancelled (the client has gone), the ticket leaves
        the line at once."""
        if self.state != Ticket.WAITING:
            return
        until = deadline if look is None else min(deadline, self.loop.time() + look)
        try:
            async with asyncio.timeout_at(until):
                await self.woken.wait()
        except TimeoutError:
            limiter = self.limiter
            with limiter._lock:
                late = self.state == Ticket.WAITING and self.loop.time() >= deadline
                if late:  # and not served in the meantime
                    limiter._line.remove(self)
                    self.state = Ticket.DONE
            if late:
                raise limiter._busy(
                    f"no slot came free within {limiter.queue_seconds:g} s (limits "
                    f"{limiter.limit_name} = {limiter.capacity}, queue_seconds)") from None
        except BaseException:
            self.leave()
            raise

    async def wait_held(self, gone: Request | None = None) -> None:
        """Until the slot is ours (Busy past the line's time limit). With `gone`, the request
        whose body has been read: a client that disconnects meanwhile leaves the line at once
        (then Busy, which nobody reads)."""
        deadline = self.deadline()
        watch = None
        if gone is not None and self.state == Ticket.WAITING:
            async def leave_on_disconnect():
                await _disconnected(gone)
                self.leave()
                self.woken.set()

            watch = asyncio.ensure_future(leave_on_disconnect())
        try:
            while self.state == Ticket.WAITING:
                await self.wait(deadline)
        finally:
            if watch is not None:
                watch.cancel()
        if not self.held:
            raise self.limiter._busy("the client left the line")

    def leave(self) -> None:
        """Give back the slot held, or the place in line."""
        limiter = self.limiter
        served = None
        with limiter._lock:
            if self.state == Ticket.HOLDING:
                served = limiter._hand_over()
            elif self.state == Ticket.WAITING:
                limiter._line.remove(self)
            else:
                return
            self.state = Ticket.DONE
        _wake(served)


async def _disconnected(request: Request) -> None:
    """Returns when the client disconnects (the request's body has been read already)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def slot(limiter_name: str, after):
    """A dependency: a slot of `app.state.<limiter_name>`, waited for in line, held until the
    endpoint returns — declare it with scope="function", so that the answer is sent without the
    slot. `after` (the request's validation) is resolved first: an invalid request never waits."""

    async def hold(request: Request, _=Depends(after)):
        ticket = getattr(request.app.state, limiter_name).enter()
        try:
            await ticket.wait_held(gone=request)
            yield ticket
        finally:
            ticket.leave()

    return hold


def place(limiter_name: str, after):
    """A dependency: a place in line of `app.state.<limiter_name>` (or a slot at once), for a
    stream that waits for its slot itself and tells the client meanwhile
    (`streaming.sse_chunks`, which also gives the slot back when the computation ends); given
    back when the response ends at the latest. `after` as for `slot`."""

    async def hold(request: Request, _=Depends(after)):
        ticket = getattr(request.app.state, limiter_name).enter()
        try:
            yield ticket
        finally:
            ticket.leave()

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
