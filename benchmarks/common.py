"""Timing helpers shared by the benchmarks.

Machines here are shared and noisy, so a benchmark never prints an absolute verdict: it
times a reference in the same process and the same run, interleaved with the code under
test (A, B, A, B, …, so a burst of load hits both), after a warm-up, and reports the
median or the best of several repeats, and ratios of those.
"""

import argparse
import gc
import os
import platform
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask, not the host's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true",
                        help="CI smoke form: smaller sizes and few repeats (under ~30 s)")
    return parser.parse_args()


def timed(fn: Callable[[], object]) -> float:
    """Seconds for one call of fn. Unlike `timeit`, the garbage collector stays on: the server
    runs with it, and the collections a run's allocations trigger are part of its cost. A
    collection beforehand gives every call the same start."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(
    fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 1, pause: float = 0.02
) -> dict[str, list[float]]:
    """Seconds of each fn in `repeats` rounds; every round calls each fn once, in turn.

    `pause` seconds of idleness before each call let the helper threads of the previous
    call (OpenBLAS and OpenMP spin-wait for a while after their work) go to sleep, so one
    library's threads do not steal the CPU from the next measurement.
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            time.sleep(pause)
            samples[name].append(timed(fn))
    return samples


def median(samples: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(s) for name, s in samples.items()}


def best(samples: dict[str, list[float]]) -> dict[str, float]:
    """The fastest of each fn's repeats: load from other processes only ever adds time."""
    return {name: min(s) for name, s in samples.items()}


def max_rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    """max |a − b| / |b| over the entries (entries equal in both, zeros included, count 0)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(a == b, 0.0, np.abs(a - b) / np.abs(b))
    return float(np.max(rel)) if rel.size else 0.0


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}"


def status(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table, columns padded so it also reads well in a terminal."""
    cells = [list(header), *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[k]) for r in cells) for k in range(len(header))]

    def line(r):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule, *[line(r) for r in cells[1:]]])


def machine_line() -> str:
    blas_threads = os.environ.get("OPENBLAS_NUM_THREADS", "library default")
    return (f"{platform.machine()}, {cpu_count()} CPUs, Python {platform.python_version()}, "
            f"numpy {np.__version__} (OPENBLAS_NUM_THREADS={blas_threads})")


def load_line() -> str:
    """The 1-minute load average: on a shared machine, context for every number above."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return "load average unavailable"
    return f"1-minute load average at the end: {load:.1f} on {cpu_count()} CPUs"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(
    url: str, proc: subprocess.Popen, seconds: float, log: Callable[[], str] = lambda: ""
) -> None:
    """Until GET url/healthz answers 200; RuntimeError (with the server's log) if the process
    exits or `seconds` pass first."""
    import httpx  # the API benchmarks only

    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the server did not start:\n" + log())
        time.sleep(0.1)


@dataclass
class Server:
    """A server process the benchmark started, its base URL and its log."""

    url: str
    proc: subprocess.Popen
    log: object

    def log_text(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


@contextmanager
def serve_process(command: list[str], url: str, workers: int, cwd: Path, env: dict) -> Iterator[Server]:
    """Runs `command` (a server listening at `url`) until it is healthy, yields it, stops it.

    The log (stdout and stderr) is kept for the caller. With more than one worker the first
    answers /healthz before the others have imported the app: they get two seconds more.
    """
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        server = Server(url, proc, log)
        try:
            wait_healthy(url, proc, 60, server.log_text)
            if workers > 1:
                time.sleep(2)
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
