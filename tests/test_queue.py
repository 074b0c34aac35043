"""The line in front of the compute slots (app/limits.py, app/streaming.py): first come, first
served; a bounded wait, then 503 (or, for a stream whose 200 has gone out, an `error` event
with `retry_after`); `queued` events with the stream's position; a client that walks away
leaves the line at once; a slot given back as soon as the computation ends, before the answer
drains to the client; an invalid request never waits."""

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from conftest import ROOT, LiveServer
from fastapi.testclient import TestClient
from sse import StreamReader, parse

from gradient_flow_lab.app.limits import Busy, RunLimiter, Ticket
from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.app.streaming import ComputeThreads

SMALL = {"models": [{"cell": "gru"}], "seq_len": 5, "hidden_size": 3}
SMALL_EVENTS = 1 + 2 * 5 + 1 + 1
# about two seconds of work: it holds the only slot while the tests queue behind it
LONG = {"models": [{"cell": "rnn", "activation": a} for a in ("sigmoid", "tanh", "relu", "tanh")],
        "seq_len": 2000, "hidden_size": 200, "include": ["grads"]}


# --- the line itself --------------------------------------------------------------------------

def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_slots_go_to_the_line_first_come_first_served():
    async def main():
        limiter = RunLimiter(1, retry_after=2, queue_seconds=10, queue_length_max=10)
        first = limiter.enter()
        assert first.held and limiter.active == 1
        line = [limiter.enter() for _ in range(4)]
        assert [t.position for t in line] == [1, 2, 3, 4]
        served = []

        async def wait(name, ticket):
            await ticket.wait_held()
            served.append(name)

        tasks = [asyncio.create_task(wait(k, t)) for k, t in enumerate(line)]
        await asyncio.sleep(0.01)
        assert served == []
        first.leave()
        await asyncio.sleep(0.01)
        assert served == [0] and [t.position for t in line] == [0, 1, 2, 3]
        # a newcomer while some wait goes to the end of the line, even with a slot coming free
        late = limiter.enter()
        assert not late.held and late.position == 4
        for k in range(1, 4):
            line[k - 1].leave()
            await asyncio.sleep(0.01)
            assert served == list(range(k + 1))
        await asyncio.gather(*tasks)
        line[3].leave()
        await late.wait_held()
        late.leave()
        assert limiter.active == 0 and limiter.waiting == 0

    run(main())


def test_a_wait_past_queue_seconds_is_busy_and_leaves_the_line():
    async def main():
        limiter = RunLimiter(1, retry_after=3, queue_seconds=0.3, queue_length_max=10)
        holder = limiter.enter()
        first, second = limiter.enter(), limiter.enter()
        start = time.monotonic()
        with pytest.raises(Busy) as caught:
            await first.wait_held()
        waited = time.monotonic() - start
        assert 0.25 < waited < 1.5, waited
        assert caught.value.status_code == 503 and caught.value.headers["Retry-After"] == "3"
        assert "queue_seconds" in caught.value.detail and "max_concurrent_runs" in caught.value.detail
        assert first.state == Ticket.DONE and second.position == 1  # the one behind moved up
        holder.leave()
        await second.wait_held()
        second.leave()
        assert limiter.active == 0 and limiter.waiting == 0

    run(main())


@pytest.mark.parametrize(("capacity", "queue_seconds", "limit"), [
    (0, 10, "max_concurrent_runs = 0"),  # runs switched off: no slot will ever come
    (1, 0, "max_concurrent_runs"),  # no line: busy at once, as before the line existed
    (1, 10, "queue_length_max"),  # the line is full
])
def test_no_room_in_line_is_busy_at_once(capacity, queue_seconds, limit):
    async def main():
        limiter = RunLimiter(capacity, retry_after=2, queue_seconds=queue_seconds, queue_length_max=2)
        held = [limiter.enter()] if capacity else []
        waiting = [limiter.enter() for _ in range(2)] if queue_seconds and capacity else []
        with pytest.raises(Busy) as caught:
            limiter.enter()
        assert limit in caught.value.detail
        for t in held + waiting:
            t.leave()
        assert limiter.active == 0 and limiter.waiting == 0

    run(main())


def test_a_cancelled_wait_leaves_the_line_at_once():
    async def main():
        limiter = RunLimiter(1, retry_after=2, queue_seconds=10, queue_length_max=10)
        holder = limiter.enter()
        gone, stays = limiter.enter(), limiter.enter()
        task = asyncio.create_task(gone.wait_held())
        await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.sleep(0)
        assert gone.state == Ticket.DONE and stays.position == 1 and limiter.waiting == 1
        holder.leave()
        await stays.wait_held()
        stays.leave()
        assert limiter.active == 0

    run(main())


def test_a_slot_given_back_from_a_worker_thread_wakes_the_first_in_line():
    async def main():
        limiter = RunLimiter(1, retry_after=2, queue_seconds=10, queue_length_max=10)
        holder = limiter.enter()
        waiter = limiter.enter()
        threading.Timer(0.05, holder.leave).start()
        await waiter.wait_held()
        assert waiter.held and limiter.active == 1
        waiter.leave()
        waiter.leave()  # any number of times
        assert limiter.active == 0

    run(main())


def test_runs_take_turns_on_the_compute_threads_first_come_first_served():
    async def main():
        threads = ComputeThreads(1)
        order, gate = [], threading.Event()

        def batch(name, seconds=0.02):
            order.append(f"{name} in")
            gate.wait(5) if name == "a" else time.sleep(seconds)
            order.append(f"{name} out")
            return name

        a = asyncio.create_task(threads.run(batch, "a"))
        await asyncio.sleep(0.05)
        b = asyncio.create_task(threads.run(batch, "b"))
        c = asyncio.create_task(threads.run(batch, "c"))
        await asyncio.sleep(0.05)
        c.cancel()  # waiting for its turn: dropped at once, never run
        await asyncio.sleep(0)
        assert c.cancelled() or c.done()
        a.cancel()  # running: the cancelled caller waits for the end of its batch
        await asyncio.sleep(0.05)
        assert not a.done()
        gate.set()
        with pytest.raises(asyncio.CancelledError):
            await a
        assert await b == "b"
        assert order == ["a in", "a out", "b in", "b out"]
        threads.shutdown()

    run(main())


# --- through the app (TestClient) -----------------------------------------------------------

def test_meta_reports_the_line():
    app = create_app(Settings(queue_seconds=4, queue_length_max=7))
    limits = TestClient(app).get("/api/meta").json()["limits"]
    assert limits["queue_seconds"] == 4 and limits["queue_length_max"] == 7


@pytest.mark.parametrize("body", [{"seq_len": 0}, {"seq_len": 2000, "hidden_size": 256, "batch_size": 256}],
                         ids=["invalid", "over-the-budget"])
@pytest.mark.parametrize("path", ["/api/runs", "/api/runs/stream"])
def test_an_invalid_request_never_waits_in_line(path, body):
    app = create_app(Settings(max_concurrent_runs=1, queue_seconds=10))
    client = TestClient(app, raise_server_exceptions=False)
    app.state.limiter.acquire()  # another run is in progress
    try:
        start = time.monotonic()
        r = client.post(path, json=body)
        assert r.status_code == 422 and time.monotonic() - start < 2
    finally:
        app.state.limiter.release()


async def _asgi(app, path: str, body: dict, stuck: asyncio.Event, finished: asyncio.Event):
    """One POST through the ASGI app whose client takes no body bytes after the first: every
    later `send` of the body waits until the test lets it go (`finished`)."""
    raw = json.dumps(body).encode()
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 8000),
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]}
    received = False
    bodies = []

    async def receive():
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.body" and message.get("body"):
            bodies.append(message["body"])
            if len(bodies) > 1 or path == "/api/runs":
                stuck.set()
                await finished.wait()

    await app(scope, receive, send)
    return b"".join(bodies)


@pytest.mark.parametrize("path", ["/api/runs", "/api/runs/stream"])
def test_the_slot_is_given_back_before_the_answer_drains(path):
    """A client that takes no bytes: once the run has computed, its slot is free although the
    answer (the last chunk of the stream, or the JSON) has not gone out."""
    async def main():
        app = create_app(Settings(max_concurrent_runs=1))
        stuck, finished = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(_asgi(app, path, SMALL, stuck, finished))
        await asyncio.wait_for(stuck.wait(), 20)
        free = app.state.limiter.active
        finished.set()
        out = await task
        return free, out

    free, out = run(main())
    assert free == 0
    if path == "/api/runs/stream":
        events = parse(out.decode())
        assert [e.event for e in events][-1] == "done" and len(events) == SMALL_EVENTS


# --- over the wire (a real uvicorn, one slot) ----------------------------------------------

def started(s: StreamReader) -> bool:
    return "start" in s.names()


@pytest.fixture(scope="module")
def one_slot():
    server = LiveServer(env={"GFL_MAX_CONCURRENT_RUNS": "1", "GFL_QUEUE_SECONDS": "20",
                             "GFL_MAX_CONCURRENT_TRAININGS": "1"})
    yield server
    server.stop()


def positions(s: StreamReader) -> list[int]:
    return [e.data["position"] for e in s.events if e.event == "queued"]


def test_streams_wait_in_line_told_their_position_and_are_served_in_order(one_slot):
    url = one_slot.url
    long = StreamReader(url, LONG)
    long.wait_for(started)
    second = StreamReader(url, LONG)
    second.wait_for(lambda s: s.events)
    third = StreamReader(url, SMALL)
    third.wait_for(lambda s: s.events)
    # at once, long before the run ahead ends: the position, and nothing else yet
    assert second.names() == ["queued"] and positions(second) == [1]
    assert third.names() == ["queued"] and positions(third) == [2]
    assert second.arrivals[0] - second.sent < 1.0
    assert long.is_alive()
    third.wait_for(lambda s: positions(s) == [2, 1])  # told again once it has moved up
    assert "start" in second.names()
    events = second.result()
    assert events[1].event == "start" and events[-1].event == "done"
    ids = [int(e.id) for e in events]
    assert ids == sorted(set(ids))
    third_events = third.result()
    assert [e.event for e in third_events[:3]] == ["queued", "queued", "start"]
    assert third_events[-1].event == "done" and len(third_events) == 2 + SMALL_EVENTS
    # first come, first served: the second's run started before the third's
    assert second.arrival("start") <= third.arrival("start")
    long.result()


def test_a_stream_that_waits_past_queue_seconds_ends_with_retry_after():
    server = LiveServer(env={"GFL_MAX_CONCURRENT_RUNS": "1", "GFL_QUEUE_SECONDS": "0.5",
                             "GFL_RETRY_AFTER_SECONDS": "3"})
    try:
        long = StreamReader(server.url, LONG)
        long.wait_for(started)
        waiting = StreamReader(server.url, SMALL)
        start = time.monotonic()
        r = httpx.post(server.url + "/api/runs", json=SMALL, timeout=30)  # JSON: a 503 after the wait
        waited = time.monotonic() - start
        events = waiting.result()
        assert long.is_alive(), "the run ahead ended: too short to tell"
        assert r.status_code == 503 and r.headers["retry-after"] == "3"
        assert "queue_seconds" in r.json()["detail"] and 0.4 < waited < 1.5
        assert [e.event for e in events] == ["queued", "error"]
        error = events[-1].data
        assert error["retry_after"] == 3 and "queue_seconds" in error["detail"]
        assert 0.4 < waiting.arrivals[-1] - waiting.arrivals[0] < 1.5
        long.result()
    finally:
        server.stop()


def newcomer_place(url: str, path: str, body: dict) -> tuple[int, StreamReader]:
    """The place in line a new stream is told at once, and the stream."""
    s = StreamReader(url, body, path)
    s.wait_for(lambda s: s.events)
    assert s.names() == ["queued"], s.names()
    return positions(s)[0], s


def walk_away(url: str, path: str, body: dict, kind: str):
    """A request that waits in line, then its client goes (the connection closes)."""
    sock = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
    raw = json.dumps(body).encode()
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(raw)}\r\n\r\n".encode() + raw)
    if kind == "stream":
        head = b""
        while b"event: queued" not in head:
            head += sock.recv(4096)
    else:
        time.sleep(0.3)  # a JSON request waits without a word
    sock.close()


@pytest.mark.parametrize("kind", ["stream", "json"])
def test_a_client_that_walks_away_while_queued_leaves_the_line_at_once(one_slot, kind):
    url = one_slot.url
    long = StreamReader(url, LONG)
    long.wait_for(started)
    path = "/api/runs/stream" if kind == "stream" else "/api/runs"
    walk_away(url, path, SMALL, kind)
    time.sleep(0.2)  # a moment for the server to notice the closed connection
    position, newcomer = newcomer_place(url, "/api/runs/stream", SMALL)
    assert long.is_alive(), "the run ahead ended: too short to tell"
    assert position == 1, "the client that left still holds its place"
    assert newcomer.result()[-1].event == "done"
    long.result()


# a training whose steps take seconds each: one LSTM over long, wide batches
SLOW_TRAINING = {"models": [{"cell": "lstm"}], "task": "adding", "seq_len": 400, "hidden_size": 256,
                 "batch_size": 128, "steps": 20, "eval_every": 20, "eval_size": 10}
QUICK_TRAINING = {"models": [{"cell": "rnn", "activation": "tanh"}], "task": "adding", "seq_len": 5,
                  "hidden_size": 4, "batch_size": 2, "steps": 2, "eval_every": 2, "eval_size": 4}


def test_a_training_that_walks_away_while_queued_leaves_at_once_behind_long_steps(one_slot):
    """The training ahead computes steps of seconds; a client waiting behind it that leaves is
    out of the line at once, not at the end of the step in progress. When the client of the
    training ahead leaves, its slot comes back after the step in progress."""
    url = one_slot.url
    ahead = StreamReader(url, SLOW_TRAINING, "/api/train/stream")
    ahead.wait_for(started)
    walk_away(url, "/api/train/stream", QUICK_TRAINING, "stream")
    time.sleep(0.2)
    position, newcomer = newcomer_place(url, "/api/train/stream", QUICK_TRAINING)
    assert position == 1, "the client that left still holds its place"
    assert ahead.is_alive() and "done" not in ahead.names()
    ahead.leave.set()  # at its next step
    events = newcomer.result()
    assert [e.event for e in events][:2] == ["queued", "start"] and events[-1].event == "done"
    ahead.join(30)
    assert not ahead.is_alive()


def test_the_class_benchmark_short_form_runs_without_errors():
    """benchmarks/bench_class.py --quick: 10 users for 4 s as a class, then as a stress, one
    worker; it prints its figures and fails only on errors (503s and slow answers are figures)."""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_class.py"), "--quick"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "| class, 1 worker " in done.stdout and "| stress, 1 worker " in done.stdout
