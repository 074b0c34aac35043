"""`gradient-flow-lab sweep spec.json [--scheduler tcp://…] [--json]`: a sweep from the command
line, through the same validation, engine and store as POST /api/sweeps.

The spec is a SweepRequest (docs/api.md, "Sweeps"). The points are computed on an embedded
local cluster (GFL_SWEEP_WORKERS processes), or on the cluster at `--scheduler` (or
GFL_DASK_SCHEDULER); the results are kept in the store of GFL_DATA_DIR / GFL_DATABASE_URL, so
a sweep asked again is answered from it and one interrupted (Ctrl-C cancels it) resumes. A
progress bar goes to stderr; stdout gets a table of the results, or with `--json` the document
of GET /api/sweeps/{id}.
"""

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from gradient_flow_lab.app.errors import describe
from gradient_flow_lab.app.serialize import dumps
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.app.store import UNFINISHED, Store
from gradient_flow_lab.app.sweep_schemas import SweepRequest
from gradient_flow_lab.app.sweeps import SweepEngine, plan_sweep, sweep_document, sweep_progress

LOOK_SECONDS = 0.2
BAR = 30


def add_parser(sub) -> None:
    s = sub.add_parser("sweep", help="many runs or trainings over a grid × seeds, on Dask "
                                     "(as POST /api/sweeps)")
    s.add_argument("spec", help="a JSON file: {kind, base, grid, seeds} (docs/api.md, Sweeps)")
    s.add_argument("--scheduler", help="tcp://host:8786: an existing Dask cluster (default: "
                                       "GFL_DASK_SCHEDULER, else an embedded one of GFL_SWEEP_WORKERS "
                                       "processes)")
    s.add_argument("--json", action="store_true", help="print the document of GET /api/sweeps/{id}")
    s.set_defaults(func=cmd_sweep)


def progress_line(done: int, total: int, errors: int, rate: float | None) -> str:
    filled = BAR * done // max(total, 1)
    eta = f", ETA {math.ceil((total - done) / rate)} s" if rate and done < total else ""
    speed = f", {rate:.2f} points/s" if rate else ""
    failed = f", {errors} with errors" if errors else ""
    return f"[{'#' * filled}{'.' * (BAR - filled)}] {done}/{total} points{failed}{speed}{eta}"


def _number(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "—" if v is None else str(v)


def format_results(doc: dict) -> str:
    """One line per point and model: the point's values, the seed, the model and its metrics."""
    lines = [f"sweep {doc['id']}: {doc['status']}, {doc['done']}/{doc['total']} points"
             + (f", {doc['errors']} with errors" if doc["errors"] else "")]
    for r in sorted(doc["results"], key=lambda r: (r["index"], r["model"])):
        where = ", ".join(f"{k}={json.dumps(v)}" for k, v in r["point"].items())
        metrics = "  ".join(f"{k} {_number(v)}" for k, v in r["metrics"].items())
        lines.append(f"{where}  seed {r['seed']}  {r['label']}:  {metrics}")
    for e in doc["point_errors"]:
        where = ", ".join(f"{k}={json.dumps(v)}" for k, v in e["point"].items())
        lines.append(f"{where}  seed {e['seed']}  error: {e['error']}")
    return "\n".join(lines)


def cmd_sweep(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.scheduler:
        settings = dataclasses.replace(settings, dask_scheduler=args.scheduler)
    try:
        req = SweepRequest.model_validate(json.loads(Path(args.spec).read_text(encoding="utf-8")))
        plan = plan_sweep(req, settings)
    except (ValidationError, RequestValidationError) as e:
        print(f"error: {describe(e.errors())}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print(f"error: {args.spec}: {e}", file=sys.stderr)
        return 2
    store = Store.open(settings)
    engine = SweepEngine(settings, lambda: store)
    try:
        row, _ = engine.submit(plan)
        row = follow(engine, row)
    except KeyboardInterrupt:
        row = engine.cancel(plan.id)
        print("\ncancelled; run the same sweep again to resume it", file=sys.stderr)
    finally:
        engine.close()
    doc = sweep_document(store, row)
    sys.stdout.write(dumps(doc).decode() + "\n" if args.json else format_results(doc) + "\n")
    return 0 if row["status"] == "done" else 1


def follow(engine: SweepEngine, row: dict) -> dict:
    """Draw the progress bar on stderr (again when it changes, and every second) until the
    sweep ends; its last row."""
    shown, drawn = None, 0.0
    while True:
        row = engine.status(row["id"])
        p = sweep_progress(row)
        line = progress_line(p["done"], p["total"], p["errors"], p["points_per_second"])
        if (p["done"], p["status"]) != shown or time.monotonic() - drawn >= 1:
            print("\r" + line, end="", file=sys.stderr, flush=True)
            shown, drawn = (p["done"], p["status"]), time.monotonic()
        if row["status"] not in UNFINISHED and not engine.jobs:
            print(f"\n{row['status']}" + (f": {row['detail']}" if row["detail"] else ""), file=sys.stderr)
            return row
        time.sleep(LOOK_SECONDS)
