"""One run over several seeds: how much of what a run shows is the seed's.

`over_seeds(spec, seeds)` computes the run once per seed (the same settings, the weights, inputs
and targets drawn from each seed as in `core.run`), one after another, and keeps of each only
its models' ‖∂L/∂h_t‖ and summaries. Per model and t it gives the quantiles of ‖∂L/∂h_t‖ over
the seeds (numpy's linear interpolation between order statistics), with a non-finite norm (an
overflow) counted as +∞ — so a quantile that reaches into overflowed seeds is not finite — and
per seed the summary numbers.

`frames(spec, seeds)` is the same computation as a lazy stream of (seed index, frame), so a
caller can hold it to a time limit; `collect_seeds` turns that stream into the result.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from gradient_flow_lab.core.run import ModelInfo, RunSpec, StartFrame, SummaryFrame, run

QUANTILES = (0.1, 0.5, 0.9)
SUMMARY_KEYS = ("log10_grad_ratio", "memory_horizon", "overflow_step", "overflow_phase", "sigma_max")


@dataclass
class SeedsModel:
    info: ModelInfo
    grad_norm: np.ndarray  # [len(QUANTILES), T]: the quantiles of ‖∂L/∂h_t‖ over the seeds
    summaries: dict  # SUMMARY_KEYS → [one value per seed]
    loss: np.ndarray  # [seeds]


@dataclass
class SeedsResult:
    seeds: tuple[int, ...]
    quantiles: tuple[float, ...]
    models: list[SeedsModel]


def frames(spec: RunSpec, seeds: Iterable[int]) -> Iterator[tuple[int, object]]:
    """(k, frame) of the run at seeds[k], for every k in turn; no Jacobian norms."""
    for k, seed in enumerate(seeds):
        for frame in run(replace(spec, seed=seed, jacobian=False)):
            yield k, frame


def collect_seeds(stream: Iterable[tuple[int, object]], seeds: tuple[int, ...]) -> SeedsResult:
    """The quantiles and summaries of `frames(spec, seeds)`."""
    infos: list[ModelInfo] = []
    norms: dict[tuple[int, int], np.ndarray] = {}  # (seed index, model) → grad_norm [T]
    summaries: dict[tuple[int, int], dict] = {}
    losses: dict[tuple[int, int], float] = {}
    for k, frame in stream:
        if isinstance(frame, StartFrame) and not infos:
            infos = frame.models
        elif isinstance(frame, SummaryFrame):
            norms[k, frame.model] = frame.grad_norm
            summaries[k, frame.model] = frame.summary
            losses[k, frame.model] = frame.loss
    models = []
    for i, info in enumerate(infos):
        g = np.stack([norms[k, i] for k in range(len(seeds))])  # [seeds, T]
        g = np.where(np.isfinite(g), g, np.inf)
        with np.errstate(invalid="ignore"):  # inf − inf between two overflowed seeds: NaN, not finite
            q = np.quantile(g, QUANTILES, axis=0)
        models.append(SeedsModel(
            info=info, grad_norm=q,
            summaries={key: [summaries[k, i][key] for k in range(len(seeds))] for key in SUMMARY_KEYS},
            loss=np.array([losses[k, i] for k in range(len(seeds))]),
        ))
    return SeedsResult(tuple(seeds), QUANTILES, models)


def over_seeds(spec: RunSpec, seeds: Iterable[int]) -> SeedsResult:
    """The run of `spec` at every seed of `seeds` (see the module doc)."""
    seeds = tuple(seeds)
    return collect_seeds(frames(spec, seeds), seeds)

