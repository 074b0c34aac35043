"""Against a real uvicorn process: events arrive while the run is computing, /healthz is not
blocked by running work, a second run over max_concurrent_runs gets 503 + Retry-After and
the slot comes back, and a client that disconnects stops its run (the server's CPU time
stops growing)."""

import os
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer
from sse import Event, SSEParser, StreamReader, loads_strict, parse

# about two seconds of work within the default budget (work_units_max 1.2e9)
LONG = {"models": [{"cell": "rnn", "activation": a} for a in ("sigmoid", "tanh", "relu", "tanh")],
        "seq_len": 2000, "hidden_size": 200, "include": ["grads"]}
LONG_EVENTS = 1 + 2 * 4 * 2000 + 4 + 1
LONG_BATCH = {"models": [{"cell": "lstm"}, {"cell": "lstm"}], "seq_len": 2000, "hidden_size": 200,
              "include": ["grads"]}
SMALL = {"models": [{"cell": "gru"}], "seq_len": 5, "hidden_size": 3}


def start_stream(url: str, body: dict) -> StreamReader:
    reader = StreamReader(url, body)
    assert reader.first_event.wait(30), "no event within 30 s"
    assert reader.error is None, reader.error
    assert reader.status == 200
    return reader


def check_complete(events: list[Event], count: int) -> None:
    assert len(events) == count
    assert events[0].event == "start" and events[-1].event == "done"
    ids = [int(e.id) for e in events]
    assert ids == sorted(set(ids))


def until_ok(request, deadline: float = 5.0) -> httpx.Response:
    """The first 200 from request(), retrying 503s until the deadline."""
    end = time.monotonic() + deadline
    while True:
        r = request()
        if r.status_code != 503 or time.monotonic() > end:
            return r
        time.sleep(0.05)


def test_live_stream_and_batch_agree(live_server):
    r = httpx.post(live_server.url + "/api/runs/stream", json=SMALL, timeout=30)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = parse(r.text)
    check_complete(events, 1 + 2 * 5 + 1 + 1)
    result = loads_strict(httpx.post(live_server.url + "/api/runs", json=SMALL, timeout=30).content)
    (summary,) = [e.data for e in events if e.event == "summary"]
    m = result["models"][0]
    assert (summary["loss"], summary["summary"], summary["param_grad_norm"]) == (
        m["loss"], m["summary"], m["param_grad_norm"])
    backward = sorted((e.data for e in events if e.event == "backward"), key=lambda d: d["t"])
    assert [d["grad_norm"] for d in backward] == m["grad_norm"]
    assert [d["grads"] for d in backward] == m["grads"]


def test_first_event_arrives_long_before_the_run_ends(live_server):
    reader = start_stream(live_server.url, LONG)
    events = reader.result()
    check_complete(events, LONG_EVENTS)
    total = reader.finished - reader.sent
    first = reader.arrivals[0] - reader.sent
    assert total > 0.5, f"the run took {total:.2f} s: too short to tell streaming from buffering"
    assert first < 0.2 * total, f"first event after {first:.2f} s of {total:.2f} s"
    # and events kept arriving during the run, not in one burst at its end
    early = sum(t - reader.sent < 0.7 * total for t in reader.arrivals) / len(events)
    assert early > 0.2, f"only {early:.0%} of the events arrived in the first 70% of the run"


class BatchRunner(threading.Thread):
    """POST /api/runs in the background."""

    def __init__(self, url: str, body: dict):
        super().__init__(daemon=True)
        self.url, self.body, self.response, self.error = url, body, None, None

    def run(self):
        try:
            self.response = httpx.post(self.url + "/api/runs", json=self.body, timeout=60)
        except BaseException as e:  # reported by the test that joins this thread
            self.error = e


@pytest.mark.parametrize("path", ["/api/runs/stream", "/api/runs"])
def test_healthz_answers_while_a_long_run_computes(live_server, path):
    if path == "/api/runs/stream":
        runner = start_stream(live_server.url, LONG)
    else:  # two LSTMs: the longest batch run the budget allows, so /healthz is asked during it
        runner = BatchRunner(live_server.url, LONG_BATCH)
        runner.start()
        time.sleep(0.2)
    latencies = []
    with httpx.Client(timeout=10) as client:
        while runner.is_alive() and len(latencies) < 8:
            t0 = time.perf_counter()
            r = client.get(live_server.url + "/healthz")
            if runner.is_alive():  # only answers given while the run was still going count
                latencies.append(time.perf_counter() - t0)
            assert r.json() == {"status": "ok"}
            time.sleep(0.05)
    if path == "/api/runs/stream":
        check_complete(runner.result(), LONG_EVENTS)
    else:
        runner.join(60)
        assert runner.error is None and runner.response.status_code == 200
    assert len(latencies) >= 3, f"the run ended before /healthz was measured: {latencies}"
    assert max(latencies) < 0.5, latencies


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_over_the_limit_is_refused_over_the_wire(live_server, chunked):
    limit = loads_strict(httpx.get(live_server.url + "/api/meta").content)["limits"]["body_bytes_max"]
    body = b'{"seq_len": 5' + b" " * limit + b"}"
    content = iter([body[i:i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
    r = httpx.post(live_server.url + "/api/runs/stream", content=content,
                   headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code in (413, 422), r.text
    assert "body_bytes_max" in loads_strict(r.content)["detail"]
    assert httpx.get(live_server.url + "/healthz").status_code == 200


@pytest.fixture(scope="module")
def one_slot_server():
    server = LiveServer(env={"GFL_MAX_CONCURRENT_RUNS": "1", "GFL_QUEUE_SECONDS": "0"})  # no line
    yield server
    server.stop()


def test_second_concurrent_run_gets_503_and_the_slot_comes_back(one_slot_server):
    url = one_slot_server.url
    reader = start_stream(url, LONG)
    with httpx.Client(timeout=30) as client:
        for path in ("/api/runs/stream", "/api/runs"):
            r = client.post(url + path, json=SMALL)
            assert r.status_code == 503, r.text
            assert int(r.headers["retry-after"]) >= 1
            assert "max_concurrent_runs" in loads_strict(r.content)["detail"]
        assert client.get(url + "/healthz").json() == {"status": "ok"}
        assert reader.is_alive(), "the first stream ended before the second request was refused"
        check_complete(reader.result(), LONG_EVENTS)
        # once the first run is over its slot is free again
        r = until_ok(lambda: client.post(url + "/api/runs/stream", json=SMALL))
        assert r.status_code == 200, r.text
        check_complete(parse(r.text), 13)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat (fields 14 and 15)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()  # fields[0] is field 3, the state
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_client_that_disconnects_stops_its_run():
    # a run of over 10 s, so that it would still be computing long after the client has left
    # (its size is in events, not seconds: the faster the core, the longer it must be)
    server = LiveServer(env={"GFL_WORK_UNITS_MAX": "1e11", "GFL_MAX_CONCURRENT_RUNS": "1",
                             "GFL_SEQ_LEN_MAX": "8000", "GFL_MEMORY_BYTES_MAX": "1e10",
                             "GFL_RESPONSE_NUMBERS_MAX": "1e8"})
    try:
        pid = server.proc.pid
        T = 8000
        body = {"models": [{"cell": "lstm"}] * 8, "seq_len": T, "hidden_size": 256, "include": ["grads"]}
        total_events = 1 + 2 * 8 * T + 8 + 1
        with httpx.Client(timeout=30) as client:
            with client.stream("POST", server.url + "/api/runs/stream", json=body) as r:
                assert r.status_code == 200
                parser, events, t0 = SSEParser(), [], None
                for text in r.iter_text():
                    events += parser.feed(text)
                    if events and t0 is None:
                        t0, cpu0 = time.perf_counter(), cpu_seconds(pid)
                    if t0 is not None and time.perf_counter() - t0 > 1.0:
                        break
                busy = (cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0)
            # leaving the block closes the half-read response, and with it the connection
        assert events[0].event == "start"
        progress = len(events) / total_events
        assert progress < 0.25, f"{progress:.0%} of the run in 1 s: too short to show that it stops"
        # ~1 s per second on an idle machine; less when other work shares the cores
        assert busy > 0.1, f"the server used only {busy:.2f} s of CPU per second while streaming"

        time.sleep(0.5)  # let the server notice
        before = cpu_seconds(pid)
        time.sleep(1.5)
        after = cpu_seconds(pid)
        idle = (after - before) / 1.5
        assert after - before < 0.2 and idle < 0.25 * busy, (
            f"the server used {idle:.2f} s of CPU per second after the client left, {busy:.2f} before")

        # and the run's slot was given back
        r = until_ok(lambda: httpx.post(server.url + "/api/runs", json=SMALL, timeout=30))
        assert r.status_code == 200, r.text
    finally:
        server.stop()
