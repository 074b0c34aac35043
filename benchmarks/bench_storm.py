"""Disconnect storm: streams opened and dropped mid-way; the server must go back to idle.

    .venv/bin/python benchmarks/bench_storm.py [--quick] [--streams N]

Starts `gradient-flow-lab serve` (1 worker, so the process it starts is the worker) with
max_concurrent_runs = BATCH, warms it up, and takes a baseline of its resident memory
(VmRSS in /proc/<pid>/status) and CPU time (utime + stime in /proc/<pid>/stat). Then opens
N streams (default 100; --quick 20) of a long run (`LONG`: one LSTM, T = 2000, H = 128, a
few seconds of compute each), BATCH at a time, reads the first `EVENTS` events of each and
drops the connection. A thread samples RSS meanwhile, for the peak.

Afterwards it waits until the server's CPU use settles (less than 2 % of a core over half a
second, or 30 s at most) and reports:

- the CPU seconds the server used in the 2 s after that (target ≈ 0: no computation goes on
  for a client that left) and how long it took to settle;
- RSS at baseline, at the peak and after (target: near the baseline; CPython's and glibc's
  allocators keep some freed memory, so a few MB above is not a leak by itself);
- RSS after two more storms of the same size: growth with every storm would be a leak;
- whether /healthz answers, and whether BATCH concurrent runs are all accepted (a run slot
  not given back by a dropped stream would show as a 503).
"""

import argparse
import asyncio
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the working tree's app and core

import httpx

from benchmarks.bench_load import error_lines, serve
from benchmarks.common import load_line, machine_line, status, table

LONG = {"models": [{"cell": "lstm"}], "seq_len": 2000, "hidden_size": 128, "include": ["grads"]}
BATCH = 10
EVENTS = 100  # start + 99 forward frames: several 20 ms batches into the computation
IDLE_CPU_FRACTION = 0.02
RSS_SLACK_MB = 30  # above the baseline after the storm: more than this is called a leak
TICK = os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return -1


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # fields 14 and 15 of proc(5)


def cpu_over(pid: int, seconds: float) -> float:
    start = cpu_seconds(pid)
    time.sleep(seconds)
    return cpu_seconds(pid) - start


def settle(pid: int, limit: float = 30.0) -> float:
    """Seconds until half a second passes with under IDLE_CPU_FRACTION of a core used."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if cpu_over(pid, 0.5) < 0.5 * IDLE_CPU_FRACTION:
            break
    return time.monotonic() - start


class PeakRSS(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0.0, threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.05)


async def open_and_drop(client: httpx.AsyncClient, counts: dict):
    """Open one stream of LONG, read EVENTS events, leave (the connection is closed)."""
    try:
        async with client.stream("POST", "/api/runs/stream", json=LONG) as r:
            if r.status_code != 200:
                counts[f"HTTP {r.status_code}"] = counts.get(f"HTTP {r.status_code}", 0) + 1
                return
            seen = 0
            async for chunk in r.aiter_raw():
                seen += chunk.count(b"event: ")
                if seen >= EVENTS:
                    break
            counts["dropped after the first events" if seen >= EVENTS else "ended early"] = \
                counts.get("dropped after the first events" if seen >= EVENTS else "ended early", 0) + 1
    except httpx.HTTPError as e:
        counts[type(e).__name__] = counts.get(type(e).__name__, 0) + 1


async def storm(url: str, streams: int) -> dict:
    counts: dict = {}
    for first in range(0, streams, BATCH):
        n = min(BATCH, streams - first)
        # a client per stream: each its own connection, dropped when its block ends
        clients = [httpx.AsyncClient(base_url=url, timeout=60) for _ in range(n)]
        await asyncio.gather(*(open_and_drop(c, counts) for c in clients))
        await asyncio.gather(*(c.aclose() for c in clients))
    return counts


async def all_accepted(url: str, n: int) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=60,
                                 limits=httpx.Limits(max_connections=n)) as client:
        answers = await asyncio.gather(*(client.post("/api/runs", json={}) for _ in range(n)))
    return [r.status_code for r in answers]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 streams")
    parser.add_argument("--streams", type=int)
    args = parser.parse_args()
    streams = args.streams or (20 if args.quick else 100)

    print(f"# bench_storm{' --quick' if args.quick else ''}\n")
    print(f"{machine_line()}; load average before: {os.getloadavg()[0]:.1f}. 1 worker, "
          f"GFL_MAX_CONCURRENT_RUNS={BATCH}; {streams} streams of {LONG}, {BATCH} at a time, "
          f"each dropped after {EVENTS} events.\n")
    with serve(1, env={"GFL_MAX_CONCURRENT_RUNS": str(BATCH)}) as server:
        pid = server.proc.pid
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for _ in range(3):  # warm-up: imports, the thread pool, the allocator's arenas
                client.post("/api/runs", json={}).raise_for_status()
        asyncio.run(storm(server.url, BATCH))
        settle(pid)
        base_rss, base_threads = rss_mb(pid), threads(pid)
        base_cpu = cpu_over(pid, 2.0)

        sampler = PeakRSS(pid)
        sampler.start()
        start = time.perf_counter()
        counts = asyncio.run(storm(server.url, streams))
        storm_seconds = time.perf_counter() - start
        settle_seconds = settle(pid)
        sampler.done.set()
        sampler.join()
        after_cpu = cpu_over(pid, 2.0)
        after_rss, after_threads = rss_mb(pid), threads(pid)
        # twice more: memory that grows with every storm is a leak; the allocators' keeping some
        # freed memory once (a one-off step of ~10 MB with 10 threads' arenas) is not
        more_rss = []
        for _ in range(2):
            asyncio.run(storm(server.url, streams))
            settle(pid)
            more_rss.append(rss_mb(pid))
        per_storm = (more_rss[-1] - after_rss) / len(more_rss)
        healthz = httpx.get(server.url + "/healthz", timeout=5).status_code
        accepted = asyncio.run(all_accepted(server.url, BATCH))
        errors = error_lines(server)

    delta = after_rss - base_rss
    rows = [
        ["streams", ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())), f"all {streams} dropped",
         status(counts.get("dropped after the first events") == streams)],
        ["storm duration", f"{storm_seconds:.1f} s", "", ""],
        ["time for the CPU to settle after the last drop", f"{settle_seconds:.1f} s", "", ""],
        ["CPU s in 2 s, baseline (idle)", f"{base_cpu:.2f}", "", ""],
        ["CPU s in 2 s, after the storm", f"{after_cpu:.2f}", f"< {2 * IDLE_CPU_FRACTION:.2f}",
         status(after_cpu < 2 * IDLE_CPU_FRACTION)],
        ["RSS baseline / peak / after", f"{base_rss:.0f} / {sampler.peak:.0f} / {after_rss:.0f} MB", "", ""],
        ["RSS after − baseline", f"{delta:+.1f} MB", f"< {RSS_SLACK_MB} MB", status(delta < RSS_SLACK_MB)],
        ["RSS after two more storms", " / ".join(f"{r:.0f}" for r in more_rss)
         + f" MB ({per_storm:+.1f} MB a storm)",
         "no growth per storm", status(per_storm < RSS_SLACK_MB / 3)],
        ["threads baseline / after", f"{base_threads} / {after_threads}", "", ""],
        ["GET /healthz after", str(healthz), "200", status(healthz == 200)],
        [f"{BATCH} concurrent POST /api/runs {{}} after", ", ".join(map(str, sorted(accepted))),
         "all 200 (no run slot leaked)", status(all(s == 200 for s in accepted))],
        ["server log lines at ERROR", str(len(errors)), "0", status(not errors)],
    ]
    print(table(["measure", "value", "target", "status"], rows))
    for line in errors[:5]:
        print(f"server log: {line[:500]}")
    print(f"\n{load_line()}")
    return 0 if all(row[3] != status(False) for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
