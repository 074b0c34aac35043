"""A run over n seeds (POST /api/runs with `seeds`, core/seeds.py) against n single runs.

The seeds are computed one after another without Jacobian norms, keeping of each run only its
models' ‖∂L/∂h_t‖ and summaries: the cost should be about n times a run without Jacobian norms
(the quantiles are negligible), and below n single runs of the page's default (which include
them). Printed as ratios against those references, measured in the same process, interleaved.

    .venv/bin/python -m benchmarks.bench_seeds [--quick]
"""

from dataclasses import replace

from benchmarks.common import best, interleaved, load_line, machine_line, ms, parse_args, table
from gradient_flow_lab.core.run import RunSpec, collect, run
from gradient_flow_lab.core.seeds import over_seeds


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    spec = RunSpec(seq_len=50 if args.quick else 100, hidden_size=16)  # sigmoid, tanh, LSTM
    counts = (2, 4) if args.quick else (2, 8, 16)
    repeats = 2 if args.quick else 5
    rows = []
    for n in counts:
        seeds = range(n)
        fns = {
            "seeds": lambda seeds=seeds: over_seeds(spec, seeds),
            "plain": lambda seeds=seeds: [collect(run(replace(spec, seed=s, jacobian=False))) for s in seeds],
            "page": lambda seeds=seeds: [collect(run(replace(spec, seed=s))) for s in seeds],
        }
        t = best(interleaved(fns, repeats))
        rows.append([str(n), ms(t["seeds"]), ms(t["plain"]), ms(t["page"]), f"{t['seeds'] / t['plain']:.2f}",
                     f"{t['seeds'] / t['page']:.2f}"])
    print(f"# A run over n seeds — {machine_line()}")
    print(f"T = {spec.seq_len}, H = {spec.hidden_size}, sigmoid + tanh RNNs + LSTM, best of {repeats} "
          "interleaved repeats\n")
    header = ["n", "seeds ms", "n runs, no Jacobian ms", "n runs as the page ms", "÷ no-Jacobian", "÷ page"]
    print(table(header, rows))
    print(f"\n{load_line()}")


if __name__ == "__main__":
    main()
