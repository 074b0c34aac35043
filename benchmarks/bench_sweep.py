"""Sweeps on Dask: scaling with workers, the overhead per point, and the page's
"success rate versus T" preset.

    .venv/bin/python benchmarks/bench_sweep.py [--quick] [--no-preset]

1. Scaling: the same 64-point run sweep (a tanh RNN and an LSTM, T = 300, H = 64, σ_max × 16
   values, 4 seeds; each point ≈ 0.2 s) through the server's own engine (app/sweeps.py, a
   SweepEngine on a fresh SQLite store) on an embedded cluster of 1 and of 2 worker processes,
   interleaved (1, 2, 1, 2, …), each cluster started and warmed up before it is timed. Wall
   time from the submission to the last point kept; the ratio t(1) / t(2) is the scaling
   (goal ≥ 1.7 on 2 cores). On a shared machine the other load takes its share of the cores:
   the load average is printed beside.
2. Overhead per point: (t(1 worker) − the points' own compute time in the worker, from Dask's
   task stream) / points — what Dask, the pickling, the store and the engine add to a point
   (goal < 10 ms); both from the same run, so other load affects them alike. Measured on the
   64-point sweep and on 256 tiny points (T = 10, H = 4), where the overhead is all there is.
   "direct" is the same points computed one after another in this process by the workers'
   own function (`sweep_tasks.compute_point`), for reference.
3. The preset `success_rate_versus_T` (app/sweep_presets.py, exactly as the page sends it) on 2
   workers: its wall time here, the points' own compute times (from Dask's task stream), and
   the time it would take on a 32-core cluster by the measured scaling: the longest point
   (a point is not split) or the total compute over 32 workers at the 2-worker efficiency,
   whichever is longer.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")  # the clusters' start and stop
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the working tree's app and core

from benchmarks.common import load_line, machine_line, status, table
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.app.store import Store
from gradient_flow_lab.app.sweep_presets import PRESETS
from gradient_flow_lab.app.sweep_schemas import SweepRequest
from gradient_flow_lab.app.sweep_tasks import compute_point
from gradient_flow_lab.app.sweeps import SweepEngine, plan_sweep, plan_view

SCALING = {
    "kind": "run",
    "base": {"models": [{"cell": "rnn", "activation": "tanh"}, {"cell": "lstm"}], "seq_len": 300,
             "hidden_size": 64, "include": []},
    "grid": {"init.sigma_max": [0.25 * k for k in range(1, 17)]},
    "seeds": [0, 1, 2, 3],
}
TINY = {
    "kind": "run",
    "base": {"models": [{"cell": "rnn", "activation": "tanh"}], "seq_len": 10, "hidden_size": 4,
             "include": []},
    "grid": {"init.sigma_max": [0.01 * k for k in range(1, 65)]},
    "seeds": [0, 1, 2, 3],
}
WARM_UP = {**TINY, "grid": {"init.sigma_max": [0.5, 1.0]}, "seeds": [100, 101]}
CORES_TARGET = 32


class Lab:
    """A SweepEngine on a fresh store and an embedded cluster of `workers` processes, started
    and warmed up (every worker has imported the core) before anything is timed."""

    def __init__(self, workers: int):
        self.dir = tempfile.TemporaryDirectory(prefix="gfl-bench-sweep-")
        self.settings = Settings(data_dir=self.dir.name, sweep_workers=workers, sweep_points_max=10_000)
        self.store = Store.open(self.settings)
        self.engine = SweepEngine(self.settings, lambda: self.store)
        self.client = self.engine.client()
        self.client.wait_for_workers(workers)
        self.sweep(WARM_UP)

    def sweep(self, request: dict, seeds_offset: int = 0) -> tuple[float, dict, list[float]]:
        """(wall seconds from submission to the last point kept, the sweep's row, each point's
        compute seconds in its worker, from Dask's task stream)."""
        from distributed import get_task_stream

        request = {**request, "seeds": [s + seeds_offset for s in request["seeds"]]}
        plan = plan_sweep(SweepRequest.model_validate(request), self.settings)
        with get_task_stream(client=self.client) as stream:
            start = time.perf_counter()
            self.engine.submit(plan)
            while self.engine.jobs:
                time.sleep(0.005)
            wall = time.perf_counter() - start
        row = self.store.sweep(plan.id)
        assert row["status"] == "done" and row["errors"] == 0, row
        compute = [sum(s["stop"] - s["start"] for s in t["startstops"] if s["action"] == "compute")
                   for t in stream.data if str(t["key"]).startswith("gfl-")]
        return wall, row, compute

    def close(self):
        self.engine.close()
        self.dir.cleanup()


def direct_seconds(request: dict, settings: Settings) -> tuple[float, int]:
    """The points computed one after another in this process by the workers' function: the
    seconds, and how many points."""
    plan = plan_sweep(SweepRequest.model_validate(request), settings)
    start = time.perf_counter()
    for p in plan.points:
        compute_point(plan.kind, p.spec, plan.seconds)
    return time.perf_counter() - start, plan.total


def scaling(rounds: int, request: dict) -> dict:
    """t(1) and t(2) of `request`, interleaved, best of `rounds` (each round new seeds, so
    nothing is answered from the store) and the direct time of the same points."""
    times: dict[int, list[float]] = {1: [], 2: []}
    direct, overhead = [], []
    labs = {w: Lab(w) for w in (1, 2)}
    try:
        for r in range(rounds):
            seconds, points = direct_seconds(request, labs[1].settings)
            direct.append(seconds)
            for w in (1, 2):
                wall, _, compute = labs[w].sweep(request, seeds_offset=1000 * (r + 1) + 10 * w)
                times[w].append(wall)
                if w == 1:  # one worker: the wall time is the points' compute and the overhead
                    overhead.append((wall - sum(compute)) / points)
    finally:
        for lab in labs.values():
            lab.close()
    return {"t1": min(times[1]), "t2": min(times[2]), "direct": min(direct), "points": points,
            "overhead": min(overhead)}


def preset_run() -> dict:
    """The success-rate preset on 2 workers: wall time and each point's compute time."""
    lab = Lab(2)
    try:
        wall, row, compute = lab.sweep(PRESETS["success_rate_versus_T"])
    finally:
        lab.close()
    return {"wall": wall, "points": row["total"], "compute": compute}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke form: fewer points, one round, no preset")
    parser.add_argument("--no-preset", action="store_true", help="skip the success-rate preset (minutes)")
    args = parser.parse_args()
    rounds = 1 if args.quick else 2
    big = SCALING if not args.quick else {**SCALING, "grid": {"init.sigma_max": [0.5, 1.0, 2.0, 4.0]}}
    print(machine_line())
    s = scaling(rounds, big)
    ratio = s["t1"] / s["t2"]
    overhead = s["overhead"]
    tiny = scaling(rounds, TINY if not args.quick else {**TINY, "seeds": [0]})
    tiny_overhead = tiny["overhead"]
    print(table(
        ["sweep", "points", "direct (s)", "1 worker (s)", "2 workers (s)", "t1/t2", "overhead/point (ms)"],
        [["run, T=300, H=64, rnn+lstm", s["points"], f"{s['direct']:.2f}", f"{s['t1']:.2f}",
          f"{s['t2']:.2f}", f"{ratio:.2f} {status(ratio >= 1.7)}",
          f"{overhead * 1e3:.1f} {status(overhead < 0.010)}"],
         ["tiny, T=10, H=4", tiny["points"], f"{tiny['direct']:.2f}", f"{tiny['t1']:.2f}",
          f"{tiny['t2']:.2f}", f"{tiny['t1'] / tiny['t2']:.2f}",
          f"{tiny_overhead * 1e3:.1f} {status(tiny_overhead < 0.010)}"]]))
    print(load_line())
    if args.quick or args.no_preset:
        return
    p = preset_run()
    preset = SweepRequest.model_validate(PRESETS["success_rate_versus_T"])
    estimate = plan_view(plan_sweep(preset, Settings()), 2)
    total, longest = sum(p["compute"]), max(p["compute"])
    efficiency = ratio / 2
    on_32 = max(longest, total / (CORES_TARGET * efficiency))
    print()
    print(table(["preset success_rate_versus_T", "value"], [
        ["points (4 T × 5 seeds, 4 models each)", p["points"]],
        ["wall time on 2 workers here (s)", f"{p['wall']:.1f}"],
        ["points' compute, total (s)", f"{total:.1f}"],
        ["longest point (s)", f"{longest:.1f}"],
        ["2-worker efficiency (t1/t2 / 2, from above)", f"{efficiency:.2f}"],
        [f"on {CORES_TARGET} cores by that scaling (s)", f"{on_32:.1f}"],
        ["POST /api/sweeps/plan's estimate on 2 workers (s; compute, longest point)",
         f"{estimate['estimated_seconds']:.1f} ({estimate['compute_seconds']:.1f}, "
         f"{estimate['longest_point_seconds']:.1f})"],
    ]))
    print(load_line())


if __name__ == "__main__":
    main()
