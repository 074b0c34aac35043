"""Load: concurrent clients on loopback, a mix of page loads, JSON runs and streams.

    .venv/bin/python benchmarks/bench_load.py [--quick] [--clients C] [--seconds D]

For 1 and then 2 workers, starts `gradient-flow-lab serve --workers N` on a free loopback port
(GFL_HOST, GFL_PORT) and runs C asyncio clients (default 8; --quick 4) for D seconds (default
20; --quick 5). Each client has its own kept-alive httpx connection pool, like a browser tab,
and loops over a weighted mix:

- a page load: GET /, then the page's scripts and stylesheet found in its HTML (the versioned
  main.js, train.js, page.css and the plotly.js bundle), fetched together as a browser with a
  cold cache would;
- POST /api/runs with the default body `{}`, and with a medium body (`MEDIUM`);
- POST /api/runs/stream with `{}`, read to its `done` event.

A separate process probes GET /healthz every 50 ms on a fresh connection (so with 2 workers
it reaches both) and records the latency.

A 503 is the server's `max_concurrent_runs` limit (4 runs per worker by default) answering
with Retry-After: designed behaviour, counted apart; the client then waits `BUSY_PAUSE`
seconds before its next request rather than honour the full Retry-After, to keep the load
on. Errors are every other failure: a 5xx other than 503, any other unexpected status, a
refused or cut connection, a timeout, a stream without `done`. Latencies are those of the
successful answers, client-side, from sending the request to the last byte.

Last, a runs-only phase (4 clients posting `{}` for a quarter of D, a fresh connection per
request so that kept-alive connections do not pin the clients to one worker) gives the
throughput of the default request. The machine is shared: the load average is printed with the figures.
"""

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the working tree's app and core

import httpx

from benchmarks.common import (
    Server,
    cpu_count,
    free_port,
    load_line,
    machine_line,
    ms,
    serve_process,
    status,
    table,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT: dict = {}
MEDIUM = {"models": [{"cell": "rnn", "activation": "sigmoid"}, {"cell": "rnn", "activation": "tanh"},
                     {"cell": "lstm"}], "seq_len": 200, "hidden_size": 32}
MIX = (("page", 2), ("run {}", 4), ("run medium", 2), ("stream {}", 2))
ASSET = re.compile(r'(?:href|src)="(/(?:static|vendor)/[^"]+\.(?:js|css))"')
PROBE_INTERVAL = 0.05
HEALTHZ_TARGET_MS = 100
BUSY_PAUSE = 0.2
TIMEOUT = httpx.Timeout(60.0)


# --- the server -------------------------------------------------------------------------

@contextmanager
def serve(workers: int = 1, env: dict | None = None):
    """`gradient-flow-lab serve --workers N` on a free loopback port; yields a Server.

    With one worker, uvicorn serves in the process it starts in, so `proc.pid` is the
    worker's pid. The log (JSON lines, level warning: errors only) is kept for the caller.
    """
    port = free_port()
    cli = Path(sys.executable).with_name("gradient-flow-lab")
    command = [str(cli)] if cli.exists() else [sys.executable, "-m", "gradient_flow_lab"]
    env = {**os.environ, "GFL_HOST": "127.0.0.1", "GFL_PORT": str(port), "GFL_LOG_LEVEL": "warning",
           **(env or {})}
    with serve_process([*command, "serve", "--workers", str(workers)], f"http://127.0.0.1:{port}",
                       workers, ROOT, env) as server:
        yield server


def error_lines(server: Server) -> list[str]:
    """The server's log lines at level ERROR or above (uvicorn's own lines included)."""
    return [line for line in server.log_text().splitlines()
            if '"level": "ERROR"' in line or '"level": "CRITICAL"' in line or "Traceback" in line
            or line.startswith("ERROR")]


# --- the clients -------------------------------------------------------------------------

@dataclass
class Tally:
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    busy: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def error(self, kind: str, what: str):
        self.errors[kind] += 1
        if len(self.examples) < 5:
            self.examples.append(f"{kind}: {what}")


def outcome(tally: Tally, kind: str, r: httpx.Response, start: float, ok: bool = True) -> bool:
    """Record a finished response; True when it was a success."""
    if r.status_code == 503 and "retry-after" in r.headers:
        tally.busy[kind] += 1
    elif r.status_code != 200:
        tally.error(kind, f"HTTP {r.status_code} {r.text[:200]!r}")
    elif not ok:
        tally.error(kind, "stream ended without `done`")
    else:
        tally.latency[kind].append(time.perf_counter() - start)
        return True
    return False


async def get(client: httpx.AsyncClient, tally: Tally, kind: str, path: str) -> httpx.Response | None:
    start = time.perf_counter()
    try:
        r = await client.get(path)
    except httpx.HTTPError as e:
        tally.error(kind, f"{type(e).__name__} {e}")
        return None
    return r if outcome(tally, kind, r, start) else None


async def page_load(client: httpx.AsyncClient, tally: Tally):
    start = time.perf_counter()
    r = await get(client, tally, "GET / (HTML)", "/")
    if r is None:
        return
    assets = ASSET.findall(r.text)
    if not any("main.js" in a for a in assets) or not any(a.endswith(".css") for a in assets) \
            or not any("plotly" in a for a in assets):
        tally.error("GET / (HTML)", f"assets missing from the page: {assets}")
    got = await asyncio.gather(*(get(client, tally, "asset", a) for a in assets))
    if all(got):
        tally.latency["page load (HTML + assets)"].append(time.perf_counter() - start)


async def post_run(client: httpx.AsyncClient, tally: Tally, kind: str, body: dict):
    start = time.perf_counter()
    try:
        r = await client.post("/api/runs", json=body)
    except httpx.HTTPError as e:
        tally.error(kind, f"{type(e).__name__} {e}")
        return
    if outcome(tally, kind, r, start) and not r.content.startswith(b'{"config"'):
        tally.error(kind, f"unexpected body {r.content[:80]!r}")


async def stream_run(client: httpx.AsyncClient, tally: Tally, kind: str, body: dict):
    start = time.perf_counter()
    try:
        async with client.stream("POST", "/api/runs/stream", json=body) as r:
            tail = b""
            async for chunk in r.aiter_raw():
                tail = (tail + chunk)[-256:]
    except httpx.HTTPError as e:
        tally.error(kind, f"{type(e).__name__} {e}")
        return
    outcome(tally, kind, r, start, ok=r.status_code != 200 or b"event: done" in tail)


async def pause_if_busy(tally: Tally, busy_before: int):
    if sum(tally.busy.values()) > busy_before:
        await asyncio.sleep(BUSY_PAUSE)


async def client_loop(url: str, until: float, tally: Tally, mix, seed: int, headers: dict):
    rng = random.Random(seed)
    kinds, weights = zip(*mix, strict=True)
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT, headers=headers) as client:
        while time.perf_counter() < until:
            kind = rng.choices(kinds, weights)[0]
            busy = sum(tally.busy.values())
            if kind == "page":
                await page_load(client, tally)
            elif kind == "run {}":
                await post_run(client, tally, kind, DEFAULT)
            elif kind == "run medium":
                await post_run(client, tally, kind, MEDIUM)
            elif kind == "stream {}":
                await stream_run(client, tally, kind, DEFAULT)
            await pause_if_busy(tally, busy)


async def drive(url: str, clients: int, seconds: float, mix, headers: dict | None = None
                ) -> tuple[Tally, float]:
    tally = Tally()
    start = time.perf_counter()
    await asyncio.gather(*(client_loop(url, start + seconds, tally, mix, seed, headers or {})
                           for seed in range(clients)))
    return tally, time.perf_counter() - start


# --- the /healthz prober, in its own process so the clients' work does not delay it ------

def probe(url: str, interval: float, stop, results):
    latencies, failures = [], 0
    with httpx.Client(timeout=5, headers={"Connection": "close"}) as client:
        next_at = time.perf_counter()
        while not stop.is_set():
            start = time.perf_counter()
            try:
                ok = client.get(url + "/healthz").status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - start)
            else:
                failures += 1
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
    results.put((latencies, failures))


@contextmanager
def prober(url: str):
    """Yields a dict that holds, once the block ends, the latencies and failure count."""
    ctx = multiprocessing.get_context("spawn")
    stop, results = ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=probe, args=(url, PROBE_INTERVAL, stop, results))
    proc.start()
    out: dict = {}
    try:
        time.sleep(0.5)  # the child imports httpx before it probes
        yield out
    finally:
        stop.set()
        out["latencies"], out["failures"] = results.get(timeout=30)
        proc.join(10)


# --- report ----------------------------------------------------------------------------

def quantile(xs: list[float], q: float) -> float:
    if len(xs) == 1:
        return xs[0]
    return statistics.quantiles(xs, n=100, method="inclusive")[round(q * 100) - 1]


def rows_for(tally: Tally, elapsed: float) -> list[list[str]]:
    kinds = sorted({*tally.latency, *tally.busy, *tally.errors})
    rows = []
    for kind in kinds:
        xs = tally.latency.get(kind, [])
        rows.append([kind, str(len(xs)), f"{len(xs) / elapsed:.1f}",
                     ms(statistics.median(xs)) if xs else "-", ms(quantile(xs, 0.99)) if xs else "-",
                     str(tally.busy[kind]), str(tally.errors[kind])])
    return rows


def warm_up(url: str, workers: int):
    """First-request costs out of the figures: each worker compresses a static file once (at
    level 9, then cached), so load the page on fresh connections until every worker likely
    has, and post a run."""
    with httpx.Client(base_url=url, timeout=TIMEOUT, headers={"Connection": "close"}) as client:
        for _ in range(4 * workers):
            html = client.get("/").text
            for asset in ASSET.findall(html):
                client.get(asset)
            client.post("/api/runs", json=DEFAULT)


def healthz_line(probed: dict) -> tuple[str, float]:
    hz = probed["latencies"]
    p99 = quantile(hz, 0.99) if hz else float("inf")
    return (f"{len(hz)} answers, {probed['failures']} failures, p50 "
            f"{ms(statistics.median(hz)) if hz else '-'} ms, p99 {ms(p99)} ms, "
            f"max {ms(max(hz)) if hz else '-'} ms"), p99


def run_for(workers: int, clients: int, seconds: float) -> float:
    """The mixed load, then the runs-only phase, against one server; returns runs/s of `{}`."""
    with serve(workers) as server:
        warm_up(server.url, workers)
        with prober(server.url) as idle:
            time.sleep(2)
        with prober(server.url) as probed:
            tally, elapsed = asyncio.run(drive(server.url, clients, seconds, MIX))
        runs_seconds = max(3.0, seconds / 4)
        runs_tally, runs_elapsed = asyncio.run(drive(server.url, 4, runs_seconds, (("run {}", 1),),
                                                     headers={"Connection": "close"}))
        errors = error_lines(server)

    print(f"## {workers} worker{'s' if workers > 1 else ''}: {clients} clients for {elapsed:.1f} s\n")
    rows = rows_for(tally, elapsed)
    total = sum(len(v) for k, v in tally.latency.items() if k != "page load (HTML + assets)")
    rows.append(["all requests", str(total), f"{total / elapsed:.1f}", "", "",
                 str(sum(tally.busy.values())), str(sum(tally.errors.values()))])
    print(table(["kind", "ok", "ok/s", "p50 ms", "p99 ms", "503s", "errors"], rows))
    line, p99 = healthz_line(probed)
    verdict = status(p99 * 1e3 < HEALTHZ_TARGET_MS and not probed["failures"])
    print(f"\nGET /healthz every {PROBE_INTERVAL * 1e3:.0f} ms on a fresh connection, under that load: "
          f"{line} (target p99 < {HEALTHZ_TARGET_MS} ms: {verdict}); idle, for 2 s before it: "
          f"{healthz_line(idle)[0]}")
    errors_total = sum(tally.errors.values()) + sum(runs_tally.errors.values())
    print(f"errors: {errors_total} (target 0: {status(errors_total == 0)})")
    for example in tally.examples + runs_tally.examples:
        print(f"  e.g. {example}")
    if errors:
        print("server log errors:\n  " + "\n  ".join(errors[:10]))
    xs = runs_tally.latency["run {}"]
    rate = len(xs) / runs_elapsed
    print(f"\nruns only: 4 clients posting {{}} on a fresh connection each time (so that with 2 workers "
          f"the kernel spreads them) for {runs_elapsed:.1f} s: {len(xs)} runs, {rate:.1f} runs/s, "
          f"p50 {ms(statistics.median(xs)) if xs else '-'} ms, {runs_tally.busy['run {}']} 503s, "
          f"{sum(runs_tally.errors.values())} errors\n")
    return rate, errors_total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 clients for 5 s per worker count")
    parser.add_argument("--clients", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    clients = args.clients or (4 if args.quick else 8)
    seconds = args.seconds or (5.0 if args.quick else 20.0)

    print(f"# bench_load{' --quick' if args.quick else ''}\n")
    print(f"{machine_line()}; server and clients on the same machine ({cpu_count()} cores in this "
          f"process's affinity mask, nproc {os.cpu_count()} on the host); load average before: "
          f"{os.getloadavg()[0]:.1f}.")
    print(f"Mix (weights): {', '.join(f'{k} {w}' for k, w in MIX)}; medium = {MEDIUM}.\n")
    results = {w: run_for(w, clients, seconds) for w in args.workers}
    rates = {w: rate for w, (rate, _) in results.items()}
    if 1 in rates:
        print(f"One worker sustains about {rates[1]:.0f} runs/s of the default request "
              f"(POST /api/runs {{}}, 4 clients, no other load)"
              + (f"; two workers about {rates[2]:.0f}." if 2 in rates else "."))
    print(f"\n{load_line()}")
    return 1 if any(errors for _, errors in results.values()) else 0  # 503s are by design


if __name__ == "__main__":
    sys.exit(main())
