"""The core's forward + BPTT against PyTorch, and its Jacobian norms against a full SVD.

    .venv/bin/python benchmarks/bench_core.py [--quick]

1. Full forward + BPTT of one model, loss ½‖y_T − y*‖² / B through a Linear head at the
   last step (the core's `loss_at="last"`), float64, against PyTorch's fused nn.RNN /
   nn.LSTM / nn.GRU forward + backward on the same shapes and the same weights. The core
   is timed twice: as the frame stream the API serves, `collect(run(spec))` (build,
   frames, summary, per-step gradient norms), and as the bare `Sweep` loop, so the
   difference is the cost of the frames. ratio = torch / core: > 1 means the core is faster.
   "grad rel err" is max over parameters of ‖∂L/∂P_core − ∂L/∂P_torch‖ / ‖∂L/∂P_torch‖:
   both sides compute the same thing.
2. `jacobian=True` (the norm ‖∂s_T/∂s_t‖₂ at every t) against the slow baseline, the same
   run with a full SVD (`np.linalg.svd(M)`, U and V included) of the product at every
   step in place of the core's `TopSingularValue`. ratio = baseline / core; "parity" is
   the largest relative difference of the two `jacobian_norm` arrays.

Timings are the best of interleaved repeats after a warm-up (load from other processes only
adds time), with the garbage collector on; nothing is asserted on them. PyTorch is timed
at set_num_threads(all CPUs) and at set_num_threads(1): on a loaded 2-core machine its
OpenMP threads can be far slower than one thread. The faster of the two is the reference.
"""

import os
import sys
from contextlib import contextmanager
from pathlib import Path

# One BLAS thread, set before numpy loads, as app/__init__.py does for the server: the core
# is timed the way it is served. An explicit OPENBLAS_NUM_THREADS in the environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the working tree's core

import numpy as np
import torch

import gradient_flow_lab.core.bptt
import gradient_flow_lab.core.spectral
from benchmarks.common import (
    best,
    cpu_count,
    interleaved,
    load_line,
    machine_line,
    max_rel_diff,
    ms,
    parse_args,
    status,
    table,
)
from gradient_flow_lab.core.bptt import Sweep
from gradient_flow_lab.core.run import ModelSpec, RunSpec, build, collect, run

INPUT_SIZE = 4  # D of every case
CELLS = (ModelSpec("rnn", "tanh"), ModelSpec("lstm"), ModelSpec("gru"))


def label(m: ModelSpec) -> str:
    return f"{m.cell}({m.activation})" if m.activation else m.cell


# --- the core -------------------------------------------------------------------------------
def core_frames(spec: RunSpec):
    """The real frame stream, collected: what POST /api/runs computes."""
    return lambda: collect(run(spec))


def core_sweep(spec: RunSpec):
    """The bare loop: forward_step t = 1..T, loss, backward_step t = T..1, param_grads."""
    cells, params, X, Y = build(spec)

    def sweep():
        sw = Sweep(cells[0], params[0], X, Y, spec.loss_at, jacobian=spec.jacobian)
        sw.run()
        return sw.param_grads()

    return sweep


# --- PyTorch ----------------------------------------------------------------------------------
TORCH_NAMES = {  # core parameter -> torch parameter (transposed for weights)
    "rnn": {"W_xh": "weight_ih_l0", "W_hh": "weight_hh_l0", "b_h": "bias_ih_l0"},
    "lstm": {"W_x": "weight_ih_l0", "W_h": "weight_hh_l0", "b": "bias_ih_l0"},
    "gru": {"W_x": "weight_ih_l0", "W_h": "weight_hh_l0", "b_x": "bias_ih_l0", "b_h": "bias_hh_l0"},
}


def torch_case(spec: RunSpec):
    """PyTorch's fused layer with the core's weights: (forward+backward step, its param grads)."""
    (m,) = spec.models
    _, (P,), X, Y = build(spec)
    D, H, O, B = spec.input_size, spec.hidden_size, spec.output_size, spec.batch_size
    kw = {"dtype": torch.float64}
    layer = {
        "rnn": lambda: torch.nn.RNN(D, H, nonlinearity=m.activation or "tanh", **kw),
        "lstm": lambda: torch.nn.LSTM(D, H, **kw),
        "gru": lambda: torch.nn.GRU(D, H, **kw),
    }[m.cell]()
    head = torch.nn.Linear(H, O, **kw)
    tparams = dict(layer.named_parameters())
    with torch.no_grad():
        for p in tparams.values():
            p.zero_()  # the bias torch has and the core lacks (bias_hh for rnn, lstm) stays 0
        for core_name, torch_name in TORCH_NAMES[m.cell].items():
            tparams[torch_name].copy_(torch.from_numpy(P[core_name].T))
        head.weight.copy_(torch.from_numpy(P["W_hy"].T))
        head.bias.copy_(torch.from_numpy(P["b_y"]))
    x = torch.from_numpy(X)  # [T, B, D]: torch's default sequence-first layout
    target = torch.from_numpy(Y[-1])  # [B, O]
    all_params = [*layer.parameters(), *head.parameters()]

    def step():
        for p in all_params:
            p.grad = None
        out, _ = layer(x)
        diff = head(out[-1]) - target
        loss = 0.5 * (diff * diff).sum() / B
        loss.backward()

    def grads() -> dict[str, np.ndarray]:
        step()
        out = {name: tparams[tn].grad.numpy().T for name, tn in TORCH_NAMES[m.cell].items()}
        out.update(W_hy=head.weight.grad.numpy().T, b_y=head.bias.grad.numpy())
        return out

    return step, grads


def grad_rel_err(core_grads: dict, torch_grads: dict) -> float:
    return max(float(np.linalg.norm(core_grads[k] - g) / np.linalg.norm(g)) for k, g in torch_grads.items())


def with_threads(fn, n: int):
    def call():
        torch.set_num_threads(n)
        return fn()

    return call


def torch_rows(shapes, threads: tuple[int, ...], repeats: int) -> list[list[str]]:
    """Core vs torch at each thread count in `threads`; the ratio is against the fastest torch."""
    rows = []
    for B, T, H, target in shapes:
        for m in CELLS:
            spec = RunSpec(models=(m,), seq_len=T, hidden_size=H, input_size=INPUT_SIZE, batch_size=B,
                           jacobian=False)
            torch_step, torch_grads = torch_case(spec)
            err = grad_rel_err(collect(run(spec)).models[0].param_grads, torch_grads())
            fns = {"frames": core_frames(spec), "sweep": core_sweep(spec)}
            fns.update({f"torch{n}": with_threads(torch_step, n) for n in threads})
            t = best(interleaved(fns, repeats))
            ref = min(t[f"torch{n}"] for n in threads)
            ratio = ref / t["frames"]
            rows.append([
                f"{label(m)} B={B} T={T} H={H}", ms(t["frames"]), ms(t["sweep"]),
                f"{(t['frames'] / t['sweep'] - 1) * 100:+.0f}%",
                *[ms(t[f"torch{n}"]) for n in threads],
                f"{ratio:.2f}", f"{ref / t['sweep']:.2f}", f"≥ {target:g}", f"{err:.0e}",
                status(ratio >= target),
            ])
    return rows


# --- Jacobian norms against a full SVD --------------------------------------------------------
class FullSVDTopSingularValue(gradient_flow_lab.core.spectral.TopSingularValue):
    """The slow baseline: σ_max from a full SVD of M (U and V computed), at every call."""

    def __call__(self, M: np.ndarray) -> float:
        if not np.all(np.isfinite(M)):  # LAPACK's SVD does not take NaN or ±∞
            return float("nan") if np.isnan(M).any() else float("inf")
        return float(np.linalg.svd(M)[1][0])


@contextmanager
def full_svd_baseline():
    """`Sweep` looks TopSingularValue up in core.bptt: swap it there for the full SVD."""
    original = gradient_flow_lab.core.bptt.TopSingularValue
    assert original is gradient_flow_lab.core.spectral.TopSingularValue, "Sweep uses another class"
    gradient_flow_lab.core.bptt.TopSingularValue = FullSVDTopSingularValue
    try:
        yield
    finally:
        gradient_flow_lab.core.bptt.TopSingularValue = original


def baseline_frames(spec: RunSpec):
    def frames():
        with full_svd_baseline():
            return collect(run(spec))

    return frames


def jacobian_rows(T: int, H: int, repeats: int, target: float = 3.0, tol: float = 1e-8):
    rows = []
    for m in (ModelSpec("rnn", "tanh"), ModelSpec("lstm")):
        plain = RunSpec(models=(m,), seq_len=T, hidden_size=H, input_size=INPUT_SIZE, jacobian=False)
        jac = RunSpec(models=(m,), seq_len=T, hidden_size=H, input_size=INPUT_SIZE, jacobian=True)
        parity = max_rel_diff(collect(run(jac)).models[0].jacobian_norm,
                              baseline_frames(jac)().models[0].jacobian_norm)
        t = best(interleaved({"plain": core_frames(plain), "jac": core_frames(jac),
                              "svd": baseline_frames(jac)}, repeats))
        ratio = t["svd"] / t["jac"]
        rows.append([
            f"{label(m)} T={T} H={H}", ms(t["plain"]), ms(t["jac"]),
            f"{t['jac'] / t['plain'] - 1:.2f}×", ms(t["svd"]), f"{t['svd'] / t['plain'] - 1:.2f}×",
            f"{ratio:.2f}", f"≥ {target:g}", f"{parity:.1e}",
            status(ratio >= target and parity <= tol),
        ])
    return rows


def main():
    args = parse_args(__doc__.splitlines()[0])
    threads = tuple(sorted({cpu_count(), 1}, reverse=True))
    if args.quick:
        shapes = [(1, 50, 32, 2.0), (8, 50, 32, 1.0)]
        jac_T, jac_H, repeats, jac_repeats = 50, 32, 3, 3
    else:
        shapes = [(1, 1000, 128, 2.0), (32, 1000, 128, 1.0)]
        jac_T, jac_H, repeats, jac_repeats = 1000, 64, 7, 5

    print(f"# bench_core{' --quick' if args.quick else ''}\n")
    print(f"{machine_line()}; torch {torch.__version__} timed at torch.set_num_threads("
          f"{' and '.join(map(str, threads))}), the faster is the reference. float64, "
          f"D={INPUT_SIZE}, O=1, loss at the last step. Best of {repeats} interleaved repeats "
          "after a warm-up.\n")
    if args.quick:
        print("--quick: a smoke run on sizes below the targets' sizes; statuses are indicative only.\n")
    print("## Forward + BPTT: core vs PyTorch (ratio = torch / core; > 1: the core is faster)\n")
    print(table(
        ["case", "core ms (frames)", "core ms (Sweep)", "frame overhead",
         *[f"torch ms ({n} thr)" for n in threads], "ratio (frames)", "ratio (Sweep)", "target",
         "grad rel err", "status"],
        torch_rows(shapes, threads, repeats)))
    print(f"\n## Jacobian norms at every t (B=1): core vs a full SVD per step "
          f"(ratio = baseline / core; best of {jac_repeats})\n")
    print(table(
        ["case", "plain ms", "jacobian ms", "added ×plain", "full-SVD ms", "added ×plain (SVD)",
         "ratio", "target", "parity (≤ 1e-8)", "status"],
        jacobian_rows(jac_T, jac_H, jac_repeats)))
    print(f"\n{load_line()}")


if __name__ == "__main__":
    main()
