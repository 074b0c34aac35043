"""Every limit and knob in one place, each overridable by an environment variable GFL_<NAME>.

The work budgets are in the core's work units (`core.run.work_units`): estimated nanoseconds
of compute on a 2-core reference machine, from a cost model fitted to measured runs. The
defaults keep an accepted run (≤ 1.2 s of sweeps, ≤ 2 s of Jacobian norms, both estimated
pessimistically) at about two seconds.
"""

import os
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "info"
    # request limits (reported by GET /api/meta)
    seq_len_max: int = 2000
    hidden_size_max: int = 256
    input_size_max: int = 64
    output_size_max: int = 16
    batch_size_max: int = 256
    models_max: int = 8
    body_bytes_max: int = 2_000_000
    work_units_max: float = 1.2e9  # ≈ ns of compute on the reference machine
    jacobian_work_units_max: float = 2.0e9
    response_numbers_max: int = 5_000_000  # numbers in one answer (≈ 100 MB of JSON)
    memory_bytes_max: float = 2.0e9  # estimated peak memory of one run or training
    # training
    steps_max: int = 20_000
    eval_size_max: int = 5_000
    train_work_units_max: float = 3.0e11  # ≈ 5 minutes
    # time limits: a safety net behind the work budgets (a run or training that still runs
    # past them ends with a 503 or an `error` event)
    run_seconds_max: float = 30.0
    train_seconds_max: float = 1800.0
    # your own networks (POST /api/weights) and the store (app/store.py)
    layers_max: int = 4
    weights_bytes_max: int = 50_000_000  # one uploaded file
    weights_store_bytes_max: int = 1_000_000_000  # every kept file together; least recently used out
    data_dir: str = "data"  # the SQLite store, relative to the working directory
    database_url: str = ""  # postgresql://…: the store in PostgreSQL instead
    # concurrency
    max_concurrent_runs: int = 4
    max_concurrent_trainings: int = 2
    retry_after_seconds: int = 2
    # a request that finds every slot taken waits in line (first come, first served) for up to
    # queue_seconds, then gets 503; at most queue_length_max wait per limiter and worker
    queue_seconds: float = 10.0
    queue_length_max: int = 100
    # the threads on which streamed runs compute, per worker: the runs take turns of one batch
    # (~20 ms); small runs are GIL-bound, and threads that contend for the GIL slow each other
    # down (app/streaming.py ComputeThreads); more workers use more cores
    compute_threads: int = 1
    # sweeps (POST /api/sweeps, app/sweeps.py): points are runs or trainings on Dask distributed
    sweep_points_max: int = 2000  # grid combinations × seeds
    sweep_work_units_max: float = 3.6e12  # the points' work units together: ≈ 1 hour of one core
    max_concurrent_sweeps: int = 2  # sweeps computing at once, per server process
    dask_scheduler: str = ""  # tcp://host:8786: an existing cluster; empty: an embedded one
    sweep_workers: int = 0  # worker processes of the embedded cluster; 0: the number of cores
    # a computing sweep's row is touched this often; one untouched for 3 times as long belongs
    # to a server that has stopped, and is reported failed (a restart resumes it)
    sweep_heartbeat_seconds: float = 5.0

    @classmethod
    def from_env(cls, environ=os.environ) -> "Settings":
        values = {}
        for f in fields(cls):
            raw = environ.get(f"GFL_{f.name.upper()}")
            if raw is not None:
                kind = type(f.default)
                values[f.name] = kind(float(raw)) if kind is int else kind(raw)
        return cls(**values)

    def limits(self) -> dict:
        return {
            "seq_len_max": self.seq_len_max,
            "hidden_size_max": self.hidden_size_max,
            "input_size_max": self.input_size_max,
            "output_size_max": self.output_size_max,
            "batch_size_max": self.batch_size_max,
            "models_max": self.models_max,
            "body_bytes_max": self.body_bytes_max,
            "work_units_max": self.work_units_max,
            "jacobian_work_units_max": self.jacobian_work_units_max,
            "response_numbers_max": self.response_numbers_max,
            "memory_bytes_max": self.memory_bytes_max,
            "max_concurrent_runs": self.max_concurrent_runs,
            "steps_max": self.steps_max,
            "eval_size_max": self.eval_size_max,
            "train_work_units_max": self.train_work_units_max,
            "max_concurrent_trainings": self.max_concurrent_trainings,
            "queue_seconds": self.queue_seconds,
            "queue_length_max": self.queue_length_max,
            "run_seconds_max": self.run_seconds_max,
            "train_seconds_max": self.train_seconds_max,
            "layers_max": self.layers_max,
            "weights_bytes_max": self.weights_bytes_max,
            "weights_store_bytes_max": self.weights_store_bytes_max,
            "sweep_points_max": self.sweep_points_max,
            "sweep_work_units_max": self.sweep_work_units_max,
            "max_concurrent_sweeps": self.max_concurrent_sweeps,
        }
