"""A stacked run against the sum of its layers run alone.

    .venv/bin/python benchmarks/bench_stack.py [--quick]

A model of L layers (each of one or two directions) does the work of its layers — plus, above
layer 1, ∂L/∂x_t of each layer (one product per block) and the hand-over between layers. So
it should cost no more than its layers run one by one as one-layer models of the same sizes
(layer 1 reading the D inputs, every other layer dirs·H of them), each with its own readout.
ratio = stacked / Σ alone; target ≤ 1.15.

Both are timed twice: as the frame stream the API serves, `collect(run(spec))`, and as the bare
`StackSweep.run()` + `param_grads()`. Medians of interleaved repeats after a warm-up (stacked,
alone, stacked, alone, …, so a burst of load hits both), float64, no Jacobian norms. Nothing is
asserted: the machines are shared, the figures are printed.
"""

import os
import sys
from pathlib import Path

# One BLAS thread, set before numpy loads, as the server runs (see bench_core)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the working tree's core

from benchmarks.common import interleaved, load_line, machine_line, median, ms, parse_args, status, table
from gradient_flow_lab.core.run import ModelSpec, RunSpec, build_models, collect, run
from gradient_flow_lab.core.stack import StackSweep

INPUT_SIZE = 16
TARGET = 1.15
CASES = (ModelSpec("lstm", num_layers=3), ModelSpec("gru", num_layers=2, bidirectional=True))


def label(m: ModelSpec) -> str:
    return f"{m.cell} {m.num_layers} layers{', bidirectional' if m.bidirectional else ''}"


def spec_of(m: ModelSpec, T: int, H: int, B: int, D: int) -> RunSpec:
    return RunSpec(models=(m,), seq_len=T, hidden_size=H, input_size=D, batch_size=B, jacobian=False)


def layers_alone(m: ModelSpec, T: int, H: int, B: int) -> list[RunSpec]:
    """Every layer of `m` as a one-layer model of the same sizes."""
    one = ModelSpec(m.cell, m.activation, 1, m.bidirectional)
    dirs = 2 if m.bidirectional else 1
    return [spec_of(one, T, H, B, INPUT_SIZE if layer == 1 else dirs * H)
            for layer in range(1, m.num_layers + 1)]


def frames(specs: list[RunSpec]):
    def call():
        for spec in specs:
            collect(run(spec))

    return call


def sweeps(specs: list[RunSpec]):
    """StackSweep.run() and param_grads() of each spec, on inputs built beforehand."""
    built = [(build_models(spec), spec) for spec in specs]

    def call():
        for ((stack,), X, Y), spec in built:
            ss = StackSweep(stack, X, Y, spec.loss_at)
            ss.run()
            ss.param_grads()

    return call


def rows(T: int, H: int, batches: tuple[int, ...], repeats: int) -> list[list[str]]:
    out = []
    for B in batches:
        for m in CASES:
            stacked, alone = [spec_of(m, T, H, B, INPUT_SIZE)], layers_alone(m, T, H, B)
            t = median(interleaved({"frames stacked": frames(stacked), "frames alone": frames(alone),
                                    "sweep stacked": sweeps(stacked), "sweep alone": sweeps(alone)}, repeats))
            ratio = t["frames stacked"] / t["frames alone"]
            sweep_ratio = t["sweep stacked"] / t["sweep alone"]
            out.append([f"{label(m)} B={B} T={T} H={H}", ms(t["frames stacked"]), ms(t["frames alone"]),
                        f"{ratio:.3f}", ms(t["sweep stacked"]), ms(t["sweep alone"]), f"{sweep_ratio:.3f}",
                        f"≤ {TARGET}", status(ratio <= TARGET and sweep_ratio <= TARGET)])
    return out


def main():
    args = parse_args(__doc__.splitlines()[0])
    if args.quick:
        T, H, batches, repeats = 100, 32, (1, 8), 3
    else:
        T, H, batches, repeats = 500, 128, (1, 16), 7
    print(f"# bench_stack{' --quick' if args.quick else ''}\n")
    print(f"{machine_line()}. float64, D={INPUT_SIZE}, O=1, loss at the last step, no Jacobian norms. "
          f"Median of {repeats} interleaved repeats after a warm-up.\n")
    if args.quick:
        print("--quick: a smoke run on sizes below the targets' sizes; statuses are indicative only.\n")
    print("## A stacked model against its layers run alone (ratio = stacked / Σ alone)\n")
    print(table(["case", "frames ms (stacked)", "frames ms (Σ alone)", "ratio (frames)", "Sweep ms (stacked)",
                 "Sweep ms (Σ alone)", "ratio (Sweep)", "target", "status"], rows(T, H, batches, repeats)))
    print(f"\n{load_line()}")


if __name__ == "__main__":
    main()
