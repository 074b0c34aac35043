"""The Python package: how cold `import gradient_flow_lab` is, and an in-process run against the
same run asked of a server.

    .venv/bin/python benchmarks/bench_package.py [--quick]

1. `import gradient_flow_lab` in a fresh interpreter, timed inside it (the interpreter's own
   start excluded), several repeats, median; and which of fastapi, starlette, pydantic, uvicorn,
   torch, plotly, httpx it loaded (the goal: none, in under 0.5 s). Beside it, the first
   `gfl.run(seq_len=5)` of a fresh interpreter: what the first call pays to load validation.
2. `gfl.run()` of the default request (three models, T = 50, with the Jacobian norms) in this
   process, against POST /api/runs of `{}` to a uvicorn server on a loopback port (httpx, one
   kept-alive connection, the JSON parsed) and `gfl.Client.run()` (the same, read into a Run),
   interleaved after a warm-up, medians and bests (load from elsewhere only adds time) and
   their ratios; the same for a light request
   (`include: []`, no Jacobian norms), where the HTTP layer's share is larger. The goal was an
   in-process run at least 2× as fast as the POST. Nothing is asserted.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    best,
    free_port,
    interleaved,
    load_line,
    machine_line,
    median,
    ms,
    parse_args,
    serve_process,
    table,
)

HEAVY = ("fastapi", "starlette", "pydantic", "uvicorn", "torch", "plotly", "httpx")
IMPORT_CODE = (
    "import time, sys; t = time.perf_counter(); import gradient_flow_lab; "
    "print(time.perf_counter() - t); "
    f"print(','.join(m for m in {HEAVY!r} if m in sys.modules) or '-')"
)
FIRST_RUN_CODE = (
    "import time; t = time.perf_counter(); import gradient_flow_lab as gfl; gfl.run(seq_len=5); "
    "print(time.perf_counter() - t)"
)
LIGHT = {"include": []}


def cold(code: str, repeats: int) -> tuple[list[float], set[str]]:
    times, loaded = [], set()
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
        )
        lines = out.stdout.split()
        times.append(float(lines[0]))
        if len(lines) > 1 and lines[1] != "-":
            loaded |= set(lines[1].split(","))
    return times, loaded


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    repeats = 3 if args.quick else 9
    print(machine_line())

    import_times, loaded = cold(IMPORT_CODE, repeats)
    first_times, _ = cold(FIRST_RUN_CODE, max(2, repeats // 3))
    print("\n1. import gradient_flow_lab in a fresh interpreter (goal < 500 ms, no web framework, no torch)")
    print(
        table(
            ["what", "median ms", "min ms", "max ms", "heavy modules loaded"],
            [
                [
                    "import gradient_flow_lab",
                    ms(statistics.median(import_times)),
                    ms(min(import_times)),
                    ms(max(import_times)),
                    ", ".join(sorted(loaded)) or "none",
                ],
                [
                    "import + first gfl.run(seq_len=5)",
                    ms(statistics.median(first_times)),
                    ms(min(first_times)),
                    ms(max(first_times)),
                    "(validation and the core loaded)",
                ],
            ],
        )
    )

    import httpx

    import gradient_flow_lab as gfl

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "gradient_flow_lab.app.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    env = {**os.environ, "GFL_LOG_LEVEL": "warning", "GFL_DATA_DIR": tempfile.mkdtemp(prefix="gfl-bench-")}
    rows = []
    with (
        serve_process(command, url, 1, ROOT, env),
        httpx.Client(base_url=url, timeout=120) as http,
        gfl.Client(url) as lab,
    ):
        for name, request in (("default {}", {}), ("light {include: []}", LIGHT)):

            def post(request=request):
                r = http.post("/api/runs", json=request)
                r.raise_for_status()
                return r.json()

            samples = interleaved(
                {
                    "gfl.run": lambda request=request: gfl.run(**request),
                    "POST /api/runs": post,
                    "Client.run": lambda request=request: lab.run(**request),
                },
                repeats=repeats * 4,
                warmup=2,
            )
            assert gfl.run(**request).to_dict() == post()  # the same numbers, not only the same time
            for stat, m in (("median", median(samples)), ("best", best(samples))):
                rows.append(
                    [
                        f"{name}, {stat}",
                        ms(m["gfl.run"]),
                        ms(m["POST /api/runs"]),
                        ms(m["Client.run"]),
                        f"{m['POST /api/runs'] / m['gfl.run']:.2f}",
                        f"{m['Client.run'] / m['gfl.run']:.2f}",
                    ]
                )
    print(
        "\n2. a run in this process vs the same run from a uvicorn server on loopback "
        "(goal: POST ÷ in-process ≥ 2)"
    )
    print(
        table(
            [
                "request",
                "gfl.run ms",
                "POST /api/runs ms",
                "Client.run ms",
                "POST ÷ gfl.run",
                "Client ÷ gfl.run",
            ],
            rows,
        )
    )
    shutil.rmtree(env["GFL_DATA_DIR"], ignore_errors=True)
    print("\n" + load_line())


if __name__ == "__main__":
    main()
