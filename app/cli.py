"""The command line: `gradient-flow-lab run …` prints a run; `gradient-flow-lab serve` serves the app.

    gradient-flow-lab run --models rnn:sigmoid,rnn:tanh,lstm --seq-len 50
    gradient-flow-lab run --models rnn:relu --init orthogonal --sigma-max 5 --seq-len 1000 --json
    gradient-flow-lab serve --workers 2

`run` goes through the same validation as POST /api/runs, and `--json` prints the same
RunResult document.
"""

import argparse
import math
import sys

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from app.errors import describe
from app.resolve import resolve_run
from app.schemas import RunRequest
from app.serialize import dumps, run_result
from app.settings import Settings
from core.run import collect, run


def parse_models(text: str) -> list[dict]:
    """"rnn:sigmoid,rnn:tanh,lstm" -> [{"cell": "rnn", "activation": "sigmoid"}, …]."""
    models = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        cell, _, activation = item.partition(":")
        models.append({"cell": cell, **({"activation": activation} if activation else {})})
    return models


def build_request(args: argparse.Namespace) -> dict:
    body = {
        "models": parse_models(args.models),
        "seq_len": args.seq_len,
        "hidden_size": args.hidden_size,
        "input_size": args.input_size,
        "batch_size": args.batch_size,
        "input": {"kind": args.input},
        "init": {k: v for k, v in (("scheme", args.init), ("sigma_max", args.sigma_max),
                                   ("forget_bias", args.forget_bias), ("bias_std", args.bias_std))
                 if v is not None},
        "loss": {"at": args.loss_at},
        "seed": args.seed,
        "include": ["hidden", "grads", "jacobian"] if args.json else ["jacobian"],
    }
    if args.include:
        body["include"] = args.include.split(",")
    return {k: v for k, v in body.items() if v is not None}


def _log10(x) -> str:
    if x is None or not math.isfinite(x):
        return "   nan" if x is None or math.isnan(x) else "   inf"
    return "  -inf" if x == 0 else f"{math.log10(x):6.1f}"


def format_table(result, rows: int) -> str:
    """log10 ‖∂L/∂h_t‖ per t (one column per model), then the summary of each model."""
    T = len(result.models[0].grad_norm)
    step = max(1, math.ceil(T / rows)) if rows > 0 else 1
    ts = sorted({*range(T, 0, -step), 1})
    labels = [m.info.label for m in result.models]
    width = max(12, *(len(label) for label in labels))
    lines = ["log10 ‖∂L/∂h_t‖", "    t  " + "".join(label.rjust(width + 2) for label in labels)]
    for t in ts:
        lines.append(f"{t:5d}  " + "".join(_log10(m.grad_norm[t - 1]).rjust(width + 2)
                                           for m in result.models))
    lines.append("")
    for m in result.models:
        s = m.summary
        lines.append(
            f"{m.info.label}: loss {m.loss:.4g}, log10 ratio {s['log10_grad_ratio']:.3g}, "
            f"memory horizon {s['memory_horizon'] if s['memory_horizon'] is not None else 'none'}, "
            f"σ_max {s['sigma_max']:.3g}"
            + (f", overflow at t={s['overflow_step']} ({s['overflow_phase']})"
               if s["overflow_step"] is not None else "")
        )
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    try:
        spec, config = resolve_run(RunRequest.model_validate(build_request(args)), Settings.from_env())
    except (ValidationError, RequestValidationError) as e:
        print(f"error: {describe(e.errors())}", file=sys.stderr)
        return 2
    result = collect(run(spec))
    if args.json:
        sys.stdout.write(dumps(run_result(result, config)).decode() + "\n")
    else:
        print(format_table(result, args.rows))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = Settings.from_env()
    uvicorn.run("app.main:app", host=args.host or settings.host, port=args.port or settings.port,
                workers=args.workers or settings.workers, log_level=settings.log_level,
                access_log=False)  # the app writes its own, as JSON lines (app/logs.py)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gradient-flow-lab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run models forward and back, print gradient norms per t")
    r.add_argument("--models", default="rnn:sigmoid,rnn:tanh,lstm",
                   help="comma-separated cell[:activation], e.g. rnn:sigmoid,rnn:tanh,lstm,gru")
    r.add_argument("--seq-len", type=int)
    r.add_argument("--hidden-size", type=int)
    r.add_argument("--input-size", type=int)
    r.add_argument("--batch-size", type=int)
    r.add_argument("--input", default="gaussian", help="gaussian | sine | impulse | adding")
    r.add_argument("--init", default="xavier", help="xavier | orthogonal | normal | identity")
    r.add_argument("--sigma-max", type=float, help="largest singular value of each recurrent block")
    r.add_argument("--forget-bias", type=float)
    r.add_argument("--bias-std", type=float)
    r.add_argument("--loss-at", default="last", choices=["last", "all"])
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--include", help="with --json: comma-separated include list")
    r.add_argument("--rows", type=int, default=20, help="table rows (t is subsampled); 0 for all")
    r.add_argument("--json", action="store_true", help="print the RunResult JSON of POST /api/runs")
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("serve", help="serve the app (settings from GFL_* environment variables)")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--workers", type=int)
    s.set_defaults(func=cmd_serve)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
