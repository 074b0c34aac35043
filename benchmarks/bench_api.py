"""The HTTP layer's cost on top of the core, measured against a real uvicorn server.

    .venv/bin/python benchmarks/bench_api.py [--quick]

Starts `uvicorn app.main:app` in a subprocess on a free loopback port and, for the default
request (`{}`) and a large one, times over one kept-alive httpx connection:

- the first SSE frame of POST /api/runs/stream (from sending the request to the first
  body chunk, which holds the `start` event);
- the whole stream, and POST /api/runs (the JSON answer), each ÷ the core's compute time
  for the same run, `collect(run(spec))` in this process with the spec the server builds
  (`app.resolve.resolve_run`);
- serialisation alone, `dumps(run_result(result, config))`, ÷ the same compute time; and,
  to tell encoding from transport, the run with every frame SSE-encoded in this process
  (`app.serialize.encode_frames`), ÷ the same compute time.

Every figure is the median of interleaved repeats after a warm-up, the status too; the ratio
of the fastest repeats is shown beside it, as a check on load from other processes. Nothing
is asserted on them.
"""

import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the working tree's app and core

import httpx

from benchmarks.common import (
    best,
    free_port,
    interleaved,
    load_line,
    machine_line,
    median,
    ms,
    parse_args,
    status,
    table,
    wait_healthy,
)
from gradient_flow_lab.app.resolve import resolve_run
from gradient_flow_lab.app.schemas import RunRequest
from gradient_flow_lab.app.serialize import EventEncoder, dumps, encode_frames, run_result
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.core.run import collect, run

ROOT = Path(__file__).resolve().parent.parent
DEFAULT: dict = {}
THREE_MODELS = [{"cell": "rnn", "activation": "sigmoid"}, {"cell": "rnn", "activation": "tanh"},
                {"cell": "lstm"}]


def large(T: int, H: int) -> dict:
    return {"models": THREE_MODELS, "seq_len": T, "hidden_size": H, "include": ["hidden", "grads"]}


@contextmanager
def live_server():
    """uvicorn serving app.main:app on a free loopback port; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            def log_text() -> str:
                log.seek(0)
                return log.read().decode(errors="replace")

            wait_healthy(url, proc, 30, log_text)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


class Stream:
    """POST /api/runs/stream, read to the end: remembers when the first chunk came."""

    def __init__(self, client: httpx.Client, body: dict):
        self.client, self.body = client, body
        self.first: list[float] = []
        self.last_body = b""

    def __call__(self):
        start = time.perf_counter()
        chunks = []
        with self.client.stream("POST", "/api/runs/stream", json=self.body) as r:
            r.raise_for_status()
            for chunk in r.iter_raw():
                if not chunks:
                    self.first.append(time.perf_counter() - start)
                chunks.append(chunk)
        self.last_body = b"".join(chunks)


class PostJSON:
    """POST /api/runs, read to the end: remembers when the response headers came (the server
    sends them with the body, once the whole answer is computed and serialised)."""

    def __init__(self, client: httpx.Client, body: dict):
        self.client, self.body = client, body
        self.headers: list[float] = []
        self.size = 0

    def __call__(self):
        start = time.perf_counter()
        with self.client.stream("POST", "/api/runs", json=self.body) as r:
            self.headers.append(time.perf_counter() - start)
            r.raise_for_status()
            self.size = len(r.read())


def check_stream(body: bytes, events_expected: int) -> int:
    """The number of events; the stream must start with `start` and end with `done`."""
    events = body.count(b"event: ")
    assert body.startswith(b"event: start"), body[:80]
    assert b"event: done" in body[-200:], body[-200:]
    assert events == events_expected, (events, events_expected)
    return events


def bench_request(client: httpx.Client, name: str, body: dict, repeats: int, first_frame_ms: float | None):
    spec, config = resolve_run(RunRequest(**body), Settings())
    result = collect(run(spec))
    stream, post_json = Stream(client, body), PostJSON(client, body)
    warmup = 2
    samples = interleaved({
        "compute": lambda: collect(run(spec)),
        "stream": stream,
        "json": post_json,
        "serialise": lambda: dumps(run_result(result, config)),
        "encode": lambda: b"".join(encode_frames(run(spec), config, EventEncoder())),
    }, repeats, warmup)
    t, fastest = median(samples), best(samples)
    first = statistics.median(stream.first[warmup:])
    headers = statistics.median(post_json.headers[warmup:])
    n_models, T = len(spec.models), spec.seq_len
    events = check_stream(stream.last_body, 1 + 2 * T * n_models + n_models + 1)

    compute = t["compute"]
    label = (f"{name}: {n_models} models, T={T}, H={spec.hidden_size}, include "
             f"{','.join(config['include'])}")
    size = f"{events} events, {len(stream.last_body) / 1e6:.2f} MB; JSON {post_json.size / 1e6:.2f} MB"
    rows = [[label, "core compute, collect(run(spec))", f"{ms(compute)} ms ({size})", "", ""]]
    limit = first_frame_ms
    rows.append(["", "first SSE frame", f"{ms(first)} ms", f"< {limit:g} ms" if limit else "",
                 status(first * 1e3 < limit) if limit else ""])
    for key, what, detail in (("stream", "stream total ÷ compute", ""),
                              ("json", "POST /api/runs ÷ compute", f"; headers at {ms(headers)} ms")):
        ratio = t[key] / compute
        rows.append(["", what, f"{ratio:.2f} ({ms(t[key])} ms{detail}; best-of ratio "
                     f"{fastest[key] / fastest['compute']:.2f})", "≤ 1.3", status(ratio <= 1.3)])
    rows.append(["", "serialise ÷ compute", f"{t['serialise'] / compute:.2f} ({ms(t['serialise'])} ms)",
                 "", ""])
    rows.append(["", "run + SSE encoding in process ÷ compute",
                 f"{t['encode'] / compute:.2f} ({ms(t['encode'])} ms)", "", ""])
    return rows


def main():
    args = parse_args(__doc__.splitlines()[0])
    if args.quick:
        cases = [("default", DEFAULT, 5), ("large", large(200, 64), 3)]
    else:
        cases = [("default", DEFAULT, 21), ("large", large(1000, 128), 7)]

    print(f"# bench_api{' --quick' if args.quick else ''}\n")
    print(f"{machine_line()}; uvicorn (1 worker) and this client on the same machine, one kept-alive "
          "httpx connection. Median of interleaved repeats after 2 warm-ups.\n")
    with live_server() as url, httpx.Client(base_url=url, timeout=120) as client:
        rtt = median(interleaved({"healthz": lambda: client.get("/healthz").raise_for_status()}, 21))
        rows = [["", "HTTP round trip, GET /healthz", f"{ms(rtt['healthz'])} ms", "", ""]]
        for name, body, repeats in cases:
            rows += bench_request(client, f"{name} (×{repeats})", body, repeats,
                                  first_frame_ms=50 if name == "default" else None)
    print(table(["request", "measure", "value", "target", "status"], rows))
    print(f"\n{load_line()}")


if __name__ == "__main__":
    main()
