"""Fuzz: schemathesis against the app's OpenAPI schema, on a real server.

    .venv/bin/pip install schemathesis      # not a declared dependency (yet)
    .venv/bin/python benchmarks/fuzz_api.py [--quick] [--cases N] [--seed S]

Starts `gradient-flow-lab serve` (1 worker) on a free loopback port, loads its /openapi.json
with `schemathesis.openapi.from_url` and, for every operation in the schema (GET /healthz,
GET /api/meta, POST /api/runs, POST /api/runs/stream, POST /api/train/stream; the page and
the static files are not in the schema), draws cases that fit the schema (positive) and
cases that do not (negative: wrong types, missing or unknown fields, out-of-range values),
sends each over HTTP and checks the answer with schemathesis' checks:

    not_a_server_error, status_code_conformance, content_type_conformance,
    response_headers_conformance, response_schema_conformance, negative_data_rejection

plus two of ours: a 200 event stream ends with a `done` or an `error` event, and a 200 of
POST /api/runs parses as `app.schemas.RunResultSchema` (whatever the published schema says).
`positive_data_acceptance` is not among them: the server's limits (seq_len_max, the work
budgets, …) are not in the schema, so a schema-valid body over a limit is rightly a 422;
those are counted instead.

The server runs with small limits (`LIMITS`) so that an accepted run or training is tiny
and a few hundred cases take about a minute; positive training cases also have their integer
sizes capped (`TRAIN_CAPS`, the default steps = 1500 included) so that most are accepted.
The cases are reproducible with the same --seed. Prints cases and statuses per operation,
then every failure with a curl line.
"""

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the working tree's app and core

try:
    import schemathesis
    from schemathesis import checks as st_checks
except ImportError:
    sys.exit("schemathesis is not installed: .venv/bin/pip install schemathesis")
import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from pydantic import ValidationError

from benchmarks.bench_load import serve
from benchmarks.common import load_line, machine_line, table
from gradient_flow_lab.app.schemas import RunResultSchema

LIMITS = {
    "GFL_SEQ_LEN_MAX": "64", "GFL_HIDDEN_SIZE_MAX": "32", "GFL_BATCH_SIZE_MAX": "16",
    "GFL_WORK_UNITS_MAX": "5e7", "GFL_JACOBIAN_WORK_UNITS_MAX": "5e7",
    "GFL_STEPS_MAX": "40", "GFL_EVAL_SIZE_MAX": "64", "GFL_TRAIN_WORK_UNITS_MAX": "2e8",
    "GFL_RUN_SECONDS_MAX": "10", "GFL_TRAIN_SECONDS_MAX": "10",
}
TRAIN_CAPS = {"steps": 20, "eval_size": 32, "eval_every": 10, "batch_size": 8, "seq_len": 20,
              "hidden_size": 8}
CHECK_NAMES = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
               "response_headers_conformance", "response_schema_conformance", "negative_data_rejection")


def sse_ends(response, url: str, path: str, body) -> str | None:
    """Our check: a 200 event stream ends with `done` or `error`. None when it does.

    schemathesis reads only the start of a stream (`stream_cut_short`); then the same request
    is sent again with httpx and read to the end.
    """
    if response.status_code != 200 or not response.headers.get("content-type", [""])[0].startswith(
            "text/event-stream"):
        return None
    content = response.content
    if response.stream_cut_short:
        sent = {"json": body} if isinstance(body, dict | list) else {}  # else no body: the defaults
        content = httpx.post(url + path, timeout=60, **sent).content
    tail = content[-2000:]
    last = tail.rstrip().rsplit(b"event: ", 1)[-1]
    if last.startswith((b"done", b"error")):
        return None
    return f"event stream ends without done/error: …{tail[-200:]!r}"


def run_result_valid(response) -> str | None:
    """Our check, independent of the published schema: a 200 of POST /api/runs parses as
    app.schemas.RunResultSchema (required keys and types). None when it does."""
    if response.status_code != 200:
        return None
    try:
        RunResultSchema.model_validate_json(response.content)
    except ValidationError as e:
        return first_line(str(e))
    return None


def first_line(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def fuzz_operation(operation, mode, url: str, cases: int, seed: int, statuses, failures):
    checks = [getattr(st_checks, name) for name in CHECK_NAMES]
    label = f"{operation.method.upper()} {operation.path}"

    @hypothesis_seed(seed)
    @settings(max_examples=cases, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def one(case):
        if label == "POST /api/train/stream" and mode.value == "positive" and isinstance(case.body, dict):
            for key, most in TRAIN_CAPS.items():  # a tiny training: accepted, and quick
                if isinstance(case.body.get(key, most), int):
                    case.body[key] = min(case.body.get(key, most), most)
        try:
            response = case.call(base_url=url, timeout=60)
        except Exception as e:  # a refused or cut connection is a failure too
            failures.append((label, mode.value, "transport", first_line(f"{type(e).__name__}: {e}"),
                             case.as_curl_command()))
            statuses[(label, mode.value)]["no answer"] += 1
            return
        statuses[(label, mode.value)][str(response.status_code)] += 1
        problems = []
        try:
            case.validate_response(response, checks=checks)
        except (Exception, BaseExceptionGroup) as e:  # a Failure, or a FailureGroup of them
            for failure in getattr(e, "exceptions", [e]):
                name = getattr(failure, "title", type(failure).__name__)
                problems.append((name, first_line(str(failure))))
        problems.append(("stream end", sse_ends(response, url, operation.path, case.body)))
        if label == "POST /api/runs":
            problems.append(("RunResultSchema", run_result_valid(response)))
        for name, message in filter(lambda p: p[1], problems):
            failures.append((label, mode.value, name, message, case.as_curl_command()))

    one()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 50 cases in all")
    parser.add_argument("--cases", type=int, help="cases per operation and mode")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cases = args.cases or (8 if args.quick else 60)

    print(f"# fuzz_api{' --quick' if args.quick else ''}\n")
    print(f"{machine_line()}; schemathesis {schemathesis.SCHEMATHESIS_VERSION} over HTTP against a "
          f"uvicorn subprocess (1 worker) with {' '.join(f'{k}={v}' for k, v in LIMITS.items())}; "
          f"up to {cases} cases per operation and mode, seed {args.seed}.\n")
    statuses: dict[tuple[str, str], Counter] = defaultdict(Counter)
    failures: list[tuple[str, str, str, str, str]] = []
    skipped = []
    start = time.perf_counter()
    with serve(1, env=LIMITS) as server:
        schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
                try:
                    fuzz_operation(operation, mode, server.url, cases, args.seed, statuses, failures)
                except Exception as e:  # e.g. no negative case exists for a GET without parameters
                    skipped.append(f"{operation.method.upper()} {operation.path} {mode.value}: "
                                   f"{first_line(f'{type(e).__name__}: {e}', 200)}")
        log_errors = [line for line in server.log_text().splitlines() if '"level": "ERROR"' in line]
    elapsed = time.perf_counter() - start

    rows = []
    for (label, mode), counts in sorted(statuses.items()):
        rows.append([label, mode, str(sum(counts.values())),
                     ", ".join(f"{s}: {n}" for s, n in sorted(counts.items())),
                     str(sum(1 for f in failures if f[0] == label and f[1] == mode))])
    total = sum(sum(c.values()) for c in statuses.values())
    all_statuses = sum(statuses.values(), Counter())
    rows.append(["all", "", str(total), ", ".join(f"{s}: {n}" for s, n in sorted(all_statuses.items())),
                 str(len(failures))])
    print(table(["operation", "mode", "cases", "statuses", "failures"], rows))
    fives = sum(n for s, n in all_statuses.items() if s.startswith("5") and s != "503")
    print(f"\n{total} cases in {elapsed:.0f} s; 5xx other than 503: {fives}; failed checks: {len(failures)} "
          f"(target 0); server log lines at ERROR: {len(log_errors)}")
    for s in skipped:
        print(f"not fuzzed: {s}")
    kinds = Counter((label, mode, name) for label, mode, name, _, _ in failures)
    if kinds:
        print("\nfailed checks by kind:\n" + table(["operation", "mode", "check", "cases"],
                                                 [[*k, str(n)] for k, n in sorted(kinds.items())]))
    shown: Counter = Counter()
    for label, mode, name, message, curl in failures:  # the first of each kind
        shown[(label, mode, name)] += 1
        if shown[(label, mode, name)] == 1:
            print(f"\nFAILURE {label} ({mode}) — {name} ({kinds[(label, mode, name)]} cases): {message}"
                  f"\n  reproduce: {curl}")
    for line in log_errors[:5]:
        print(f"server log: {first_line(line, 600)}")
    print(f"\n{load_line()}")
    sys.exit(1 if failures or fives else 0)


if __name__ == "__main__":
    main()
