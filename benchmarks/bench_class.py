"""A lecture hall on one small server: a class of users streaming the default run, and a stress.

    .venv/bin/python benchmarks/bench_class.py [--root DIR] [--workers 1 2] [--users 40]
        [--seconds 20] [--together] [--env GFL_NAME=VALUE …] [--quick]

For each worker count, starts uvicorn serving the app of the checkout `--root` (default: this
one) with `--workers N` on a free loopback port, warms it up, and runs two scenarios against it:

- **class**: `--users` simulated students (default 40), each with its own kept-alive connection
  like a browser tab, for `--seconds` (default 20): think for 1–3 s (uniform; the first time,
  reading the lesson that has just opened, so the class presses Run within two seconds of each
  other; `--together`: all at the same instant), then stream the default run
  (POST /api/runs/stream `{}`, read to `done`), again. A 503,
  or a stream that ends with an `error` event carrying `retry_after` (a place in line that
  waited its `queue_seconds` out), is the server saying "busy": the user waits Retry-After,
  as the page does, and tries again.
- **stress**: as many clients streaming the default run back to back, without thinking, for
  the same time (a 503 costs a pause of `BUSY_PAUSE`).

Meanwhile a separate process probes GET /healthz every 50 ms on a fresh connection. After the
stress the server must still be healthy: /healthz answers, and one more stream completes.

Reported per scenario: the streams completed, the 503s (and queue time-outs), the errors
(any other status, a cut or refused connection, a stream without `done`), how many streams
waited in line (a `queued` event), the stream latency from request to its last byte (p50,
p95, max) and to its `start` event, /healthz p50/p99/max, and the CPU the server and the users
used (the server's per completed stream). Targets (printed, never
asserted): class on one worker 0 × 503, 0 errors, stream p95 < 300 ms; stress 0 errors and the
server healthy after. The exit status is 1 only when a scenario had errors.

Before/after: run it once with `--root` at a checkout of the commit before a change (e.g.
`git worktree add /tmp/before HEAD~1`, or `git archive HEAD~1 | tar -x -C /tmp/before`) and
once at this one, back to back, on the same machine: it is shared, so the load average is
printed with the figures.
"""

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the working tree's benchmarks

import httpx

from benchmarks.bench_load import error_lines, prober, quantile
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
THINK = (1.0, 3.0)
BUSY_PAUSE = 0.2
STREAM_P95_TARGET_MS = 300
TIMEOUT = httpx.Timeout(60.0)


@contextmanager
def serve(root: Path, workers: int, env: dict | None = None):
    """uvicorn serving `root`'s app.main:app with `--workers N` on a free loopback port."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--app-dir", str(root),
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--log-level", "warning"]
    with tempfile.TemporaryDirectory(prefix="gfl-bench-class-") as data:
        full_env = {**os.environ, "PYTHONPATH": str(root), "GFL_LOG_LEVEL": "warning", "GFL_DATA_DIR": data,
                    **(env or {})}
        with serve_process(command, f"http://127.0.0.1:{port}", workers, root, full_env) as server:
            yield server


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its children (uvicorn's workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


@dataclass
class Tally:
    latency: list[float] = field(default_factory=list)  # request → last byte, completed streams
    to_start: list[float] = field(default_factory=list)  # request → the `start` event
    queued: int = 0  # completed streams that waited in line
    busy: Counter = field(default_factory=Counter)  # "503", "queue time-out"
    server_cpu: float = 0.0  # seconds of CPU the server used meanwhile
    client_cpu: float = 0.0  # and the simulated users (this process)
    load: float = 0.0  # the 1-minute load average before
    errors: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def error(self, kind: str, what: str):
        self.errors[kind] += 1
        if len(self.examples) < 5:
            self.examples.append(f"{kind}: {what}")


async def stream_default(client: httpx.AsyncClient, tally: Tally) -> float:
    """One stream of the default run; returns the seconds to wait before the next (0, or the
    Retry-After of a busy answer)."""
    start = time.perf_counter()
    started = None
    head = b""  # the bytes up to the `start` event (a `queued` event or more before it)
    tail = b""
    try:
        async with client.stream("POST", "/api/runs/stream", json={}) as r:
            if r.status_code == 503:
                await r.aread()
                tally.busy["503"] += 1
                return float(r.headers.get("retry-after", BUSY_PAUSE))
            if r.status_code != 200:
                await r.aread()
                tally.error(f"HTTP {r.status_code}", r.text[:200])
                return BUSY_PAUSE
            async for chunk in r.aiter_raw():
                if started is None:
                    head += chunk
                    if b"event: start" in head:
                        started = time.perf_counter()
                tail = (tail + chunk)[-512:]
    except httpx.HTTPError as e:
        tally.error(type(e).__name__, str(e))
        return BUSY_PAUSE
    if b"event: done" in tail:
        tally.latency.append(time.perf_counter() - start)
        tally.to_start.append(started - start)
        tally.queued += b"event: queued" in head
        return 0.0
    if b"event: error" in tail and b'"retry_after"' in tail:
        tally.busy["queue time-out"] += 1
        return float(tail.rsplit(b'"retry_after":', 1)[1].split(b"}", 1)[0].split(b",", 1)[0])
    tally.error("stream without done", tail[-200:].decode(errors="replace"))
    return BUSY_PAUSE


async def user(url: str, until: float, tally: Tally, rng: random.Random, think: bool, together: bool):
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT) as client:
        if think and not together:  # the lesson opens; everyone reads a little before the first Run
            await asyncio.sleep(rng.uniform(*THINK))
        while time.perf_counter() < until:
            wait = await stream_default(client, tally)
            if wait:
                await asyncio.sleep(wait)
            elif think:
                await asyncio.sleep(rng.uniform(*THINK))


def drive(server: Server, users: int, seconds: float, think: bool, together: bool = False
          ) -> tuple[Tally, float]:
    tally = Tally(load=os.getloadavg()[0])
    cpu0, mine0 = cpu_seconds(server.proc.pid), time.process_time()
    start = time.perf_counter()

    async def everyone():
        await asyncio.gather(*(user(server.url, start + seconds, tally, random.Random(seed), think, together)
                               for seed in range(users)))

    asyncio.run(everyone())
    tally.server_cpu = cpu_seconds(server.proc.pid) - cpu0
    tally.client_cpu = time.process_time() - mine0
    return tally, time.perf_counter() - start


def healthy_after(url: str) -> tuple[bool, str]:
    """/healthz answers and one more stream of the default run completes."""
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            hz = client.get("/healthz").status_code
            r = client.post("/api/runs/stream", json={})
            done = r.status_code == 200 and "event: done" in r.text[-300:]
        return hz == 200 and done, f"/healthz {hz}, a stream {'completed' if done else r.status_code}"
    except httpx.HTTPError as e:
        return False, f"{type(e).__name__} {e}"


def warm_up(url: str, workers: int):
    with httpx.Client(base_url=url, timeout=TIMEOUT, headers={"Connection": "close"}) as client:
        for _ in range(4 * workers):
            client.post("/api/runs/stream", json={}).raise_for_status()


def row(label: str, tally: Tally, elapsed: float, probed: dict) -> list[str]:
    xs, hz = tally.latency, probed["latencies"]
    p = (lambda q: ms(quantile(xs, q))) if xs else (lambda q: "-")
    return [label, str(len(xs)), f"{len(xs) / elapsed:.1f}", str(tally.busy["503"]),
            str(tally.busy["queue time-out"]), str(sum(tally.errors.values())), str(tally.queued),
            ms(statistics.median(xs)) if xs else "-", p(0.95), ms(max(xs)) if xs else "-",
            ms(quantile(tally.to_start, 0.95)) if xs else "-",
            ms(statistics.median(hz)) if hz else "-", ms(quantile(hz, 0.99)) if hz else "-",
            ms(max(hz)) if hz else "-", str(probed["failures"]),
            f"{tally.server_cpu / elapsed:.2f} / {tally.client_cpu / elapsed:.2f}",
            ms(tally.server_cpu / len(xs)) if xs else "-", f"{tally.load:.1f}"]


HEADER = ["scenario", "streams", "/s", "503s", "queue time-outs", "errors", "queued",
          "p50 ms", "p95 ms", "max ms", "start p95 ms", "/healthz p50", "p99", "max", "fails",
          "CPU server / users", "server CPU ms per stream", "load before"]


def run_for(root: Path, workers: int, users: int, seconds: float, env: dict, together: bool
            ) -> tuple[list[list[str]], dict]:
    with serve(root, workers, env) as server:
        with httpx.Client(timeout=10) as client:
            limits = client.get(server.url + "/api/meta").json()["limits"]
        warm_up(server.url, workers)
        with prober(server.url) as idle:
            time.sleep(2)
        with prober(server.url) as probed_class:
            tally_class, elapsed_class = drive(server, users, seconds, think=True, together=together)
        time.sleep(1)
        with prober(server.url) as probed_stress:
            tally_stress, elapsed_stress = drive(server, users, seconds, think=False)
        healthy, how = healthy_after(server.url)
        log_errors = error_lines(server)
    w = f"{workers} worker{'s' if workers > 1 else ''}"
    rows = [[f"idle, {w}", "", "", "", "", "", "", "", "", "", "",
             ms(statistics.median(idle["latencies"])), ms(quantile(idle["latencies"], 0.99)),
             ms(max(idle["latencies"])), str(idle["failures"]), "", "", ""],
            row(f"class, {w}", tally_class, elapsed_class, probed_class),
            row(f"stress, {w}", tally_stress, elapsed_stress, probed_stress)]
    return rows, {"class": tally_class, "stress": tally_stress, "healthy": healthy, "how": how,
                  "log_errors": log_errors, "limits": limits}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app is served")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--users", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--quick", action="store_true", help="10 users for 4 s, one worker")
    parser.add_argument("--together", action="store_true",
                        help="the class presses its first Run all in the same instant")
    parser.add_argument("--env", action="append", default=[], metavar="GFL_NAME=VALUE",
                        help="a setting of the server (e.g. GFL_MAX_CONCURRENT_RUNS=2); repeatable")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    users = args.users or (10 if args.quick else 40)
    seconds = args.seconds or (4.0 if args.quick else 20.0)
    workers = [1] if args.quick and args.workers == [1, 2] else args.workers
    root = args.root.resolve()
    commit = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%h %s"],
                            capture_output=True, text=True).stdout.strip()[:100]

    print(f"# bench_class{' --quick' if args.quick else ''}: {root}"
          + (f" ({commit})" if commit else "") + "\n")
    print(f"{machine_line()}; server and clients on the same machine ({cpu_count()} cores); load "
          f"average before: {os.getloadavg()[0]:.1f}. {users} users for {seconds:g} s; class: think "
          f"{THINK[0]:g}–{THINK[1]:g} s before each stream"
          + (" (the first Run all at once)" if args.together else "") + "; stress: back to back."
          + (f" Server settings: {' '.join(args.env)}." if args.env else "") + "\n")
    rows, failed = [], False
    for n in workers:
        more, out = run_for(root, n, users, seconds, env, args.together)
        rows += more
        limits = out["limits"]
        print(f"{n} worker{'s' if n > 1 else ''}: max_concurrent_runs {limits['max_concurrent_runs']}, "
              f"queue_seconds {limits.get('queue_seconds', '— (no queue)')}; after the stress: "
              f"{out['how']} ({status(out['healthy'])})")
        for name in ("class", "stress"):
            for example in out[name].examples:
                print(f"  {name}, e.g. {example}")
        for line in out["log_errors"][:5]:
            print(f"  server log: {line[:300]}")
        c = out["class"]
        if n == 1:
            p95 = quantile(c.latency, 0.95) * 1e3 if c.latency else float("inf")
            ok = not c.busy and not c.errors and p95 < STREAM_P95_TARGET_MS
            print(f"  class on one worker: {sum(c.busy.values())} busy, {sum(c.errors.values())} errors, "
                  f"stream p95 {p95:.0f} ms (target 0, 0, < {STREAM_P95_TARGET_MS} ms: {status(ok)})")
        s = out["stress"]
        print(f"  stress: {sum(s.errors.values())} errors, healthy after: {out['healthy']} "
              f"(target 0 and yes: {status(not s.errors and out['healthy'])})")
        failed |= bool(c.errors or s.errors or not out["healthy"])
    print()
    print(table(HEADER, rows))
    print("\nLatencies are client-side, from sending the request to the last byte (`start p95`: to "
          "the `start` event), over the completed streams; a stream that waited in line counts its "
          "wait. /healthz: every 50 ms on a fresh connection, from another process; `idle` is the "
          "2 s before the class. CPU: seconds per second of the server's processes and of the "
          "simulated users' process (both on the same cores).")
    print(f"\n{load_line()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
