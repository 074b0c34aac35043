"""The command line: `gradient-flow-lab run …` prints a run; `gradient-flow-lab serve` serves the app.

    gradient-flow-lab run --models rnn:sigmoid,rnn:tanh,lstm --seq-len 50
    gradient-flow-lab run --models rnn:relu --init orthogonal --sigma-max 5 --seq-len 1000 --json
    gradient-flow-lab run --models lstm --num-layers 3 --bidirectional
    gradient-flow-lab run --weights model.safetensors --input x.npy [--targets y.npy]
    gradient-flow-lab sweep spec.json [--scheduler tcp://host:8786] [--json]
    gradient-flow-lab serve --workers 2

`run` goes through the same validation as POST /api/runs, and `--json` prints the same
RunResult document.
"""

import argparse
import hashlib
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from gradient_flow_lab.app import sweep_cli
from gradient_flow_lab.app.errors import describe
from gradient_flow_lab.app.resolve import resolve_run
from gradient_flow_lab.app.schemas import RunRequest
from gradient_flow_lab.app.serialize import dumps, run_result
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.app.weights import UNPACKED_FACTOR, Network, WeightsError, find_network, read_arrays
from gradient_flow_lab.core.run import collect, run

INPUT_KINDS = ("gaussian", "sine", "impulse", "adding")


DEFAULT_MODELS = "rnn:sigmoid,rnn:tanh,lstm"


def parse_models(text: str | None) -> list[dict]:
    """"rnn:sigmoid,rnn:tanh,lstm" -> [{"cell": "rnn", "activation": "sigmoid"}, …]."""
    models = []
    for item in filter(None, (part.strip() for part in (text or DEFAULT_MODELS).split(","))):
        cell, _, activation = item.partition(":")
        models.append({"cell": cell, **({"activation": activation} if activation else {})})
    return models


def build_request(args: argparse.Namespace, weights_id: str | None = None) -> dict:
    models = parse_models(args.models) if args.models or not weights_id else []
    for m in models:
        if args.num_layers:
            m["num_layers"] = args.num_layers
        if args.bidirectional:
            m["bidirectional"] = True
    if weights_id:
        entry = {"weights": weights_id}
        if args.activation:
            entry["activation"] = args.activation
        models.insert(0, entry)
    body = {
        "models": models,
        "seq_len": args.seq_len,
        "hidden_size": args.hidden_size,
        "input_size": args.input_size,
        "output_size": args.output_size,
        "batch_size": args.batch_size,
        "input": {"kind": args.input if args.input in INPUT_KINDS else "values"},
        "init": {k: v for k, v in (("scheme", args.init), ("sigma_max", args.sigma_max),
                                   ("forget_bias", args.forget_bias), ("bias_std", args.bias_std))
                 if v is not None},
        "loss": {"kind": args.loss, "at": args.loss_at},
        "seed": args.seed,
        "include": ["hidden", "grads", "jacobian"] if args.json else ["jacobian"],
    }
    if args.input not in INPUT_KINDS:
        body["input"]["values"] = read_table(args.input).tolist()
    if args.targets:
        targets = read_table(args.targets)
        if np.issubdtype(targets.dtype, np.integer):
            body["targets"] = {"classes": targets.tolist()}
            body["loss"]["kind"] = "xent" if args.loss is None else args.loss
        else:
            body["targets"] = {"values": targets.tolist()}
    body["loss"] = {k: v for k, v in body["loss"].items() if v is not None}
    if args.include:
        body["include"] = args.include.split(",")
    return {k: v for k, v in body.items() if v is not None}


def read_table(path: str) -> np.ndarray:
    """An array from a .npy file (no pickle) or a CSV file (rows = time steps, comma-separated;
    whole numbers stay integers, for class targets)."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{path}: no such file (or an input kind: {', '.join(INPUT_KINDS)})")
    if p.suffix == ".npy":
        return np.load(p, allow_pickle=False)
    text = p.read_text(encoding="utf-8")
    try:
        return np.loadtxt(text.splitlines(), delimiter=",", dtype=np.int64, ndmin=1)
    except ValueError:
        return np.loadtxt(text.splitlines(), delimiter=",", dtype=np.float64, ndmin=2)


def load_weights(args: argparse.Namespace, settings: Settings) -> Network:
    """The network of --weights, read and checked as POST /api/weights reads an upload."""
    path = Path(args.weights)
    data = path.read_bytes()
    if len(data) > settings.weights_bytes_max:
        raise WeightsError(413, f"{path}: over weights_bytes_max = {settings.weights_bytes_max} bytes")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "weights"
        copy.write_bytes(data)
        _, arrays = read_arrays(copy, UNPACKED_FACTOR * settings.weights_bytes_max)
    return find_network(arrays, args.prefix, args.head_prefix)


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
        lines.append(f"{m.info.label}: loss {m.loss:.4g}, {_summary(m.summary)}")
        if len(m.layers) > 1:
            for u in m.layers:
                lines.append(f"  layer {u.layer} {u.direction}: {_summary(u.summary)}")
    return "\n".join(lines)


def _summary(s: dict) -> str:
    return (f"log10 ratio {s['log10_grad_ratio']:.3g}, "
            f"memory horizon {s['memory_horizon'] if s['memory_horizon'] is not None else 'none'}, "
            f"σ_max {s['sigma_max']:.3g}"
            + (f", overflow at t={s['overflow_step']} ({s['overflow_phase']})"
               if s["overflow_step"] is not None else ""))


def cmd_run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        network = load_weights(args, settings) if args.weights else None
        weights_id = ("sha256:" + hashlib.sha256(Path(args.weights).read_bytes()).hexdigest()
                      if network else None)
        body = build_request(args, weights_id)
        spec, config = resolve_run(RunRequest.model_validate(body), settings,
                                   lambda id_: network if id_ == weights_id else None)
    except (ValidationError, RequestValidationError) as e:
        print(f"error: {describe(e.errors())}", file=sys.stderr)
        return 2
    except WeightsError as e:
        print(f"error: {args.weights}: {e.detail}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
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
    uvicorn.run("gradient_flow_lab.app.main:app", host=args.host or settings.host,
                port=args.port or settings.port, workers=args.workers or settings.workers,
                log_level=settings.log_level,
                access_log=False)  # the app writes its own, as JSON lines (app/logs.py)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gradient-flow-lab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run models forward and back, print gradient norms per t")
    r.add_argument("--models", help="comma-separated cell[:activation], e.g. rnn:sigmoid,rnn:tanh,lstm,gru "
                                    "(default rnn:sigmoid,rnn:tanh,lstm; none beside --weights)")
    r.add_argument("--num-layers", type=int, help="stack the --models this many layers deep (1…4)")
    r.add_argument("--bidirectional", action="store_true", help="give the --models a backward direction")
    r.add_argument("--weights", help="a .safetensors or .npz file of an nn.RNN/LSTM/GRU state_dict")
    r.add_argument("--prefix", help="with --weights: the network's key prefix, when the file has several")
    r.add_argument("--head-prefix", help="with --weights: the readout nn.Linear's prefix")
    r.add_argument("--activation", help="with --weights of an nn.RNN: tanh (default) or relu")
    r.add_argument("--targets", help=".npy or .csv: T×O values (mse) or T integer classes (cross-entropy)")
    r.add_argument("--loss", choices=["mse", "xent"], help="default mse; xent with integer --targets")
    r.add_argument("--output-size", type=int)
    r.add_argument("--seq-len", type=int)
    r.add_argument("--hidden-size", type=int)
    r.add_argument("--input-size", type=int)
    r.add_argument("--batch-size", type=int)
    r.add_argument("--input", default="gaussian",
                   help="gaussian | sine | impulse | adding, or a .npy / .csv file (rows = time steps)")
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

    sweep_cli.add_parser(sub)

    s = sub.add_parser("serve", help="serve the app (settings from GFL_* environment variables)")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--workers", type=int)
    s.set_defaults(func=cmd_serve)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
