"""Runs and trainings as Python objects: `run()` and `train()` in this process, and what they
and the client (`gradient_flow_lab.client`) return.

A `Run` is the answer of POST /api/runs: `to_dict()` gives that JSON document exactly, and its
models carry the same numbers as numpy arrays (float64; NaN where the API writes null, a value
that was not finite — each model's `summary["overflow_step"]` says where that began). A
`Training` is the stream of POST /api/train/stream, its events kept in order and read into
arrays per model.

Requests go through the server's own validation and limits (app/schemas.py, app/resolve.py,
the GFL_* settings of the environment) and its own serialisation (app/serialize.py), imported
when a function is called, never at `import gradient_flow_lab`.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypedDict, Unpack

import numpy as np
import orjson

from gradient_flow_lab.errors import ApiError
from gradient_flow_lab.progress import ProgressBar

RUN_VIEWS = ("gradient_flow", "jacobian", "hidden", "gradients", "gates", "layers")
TRAIN_VIEWS = ("loss", "flow")
STEP_SERIES = ("grad_norm", "jacobian_norm", "bound", "sign_uniform", "cell_grad_norm")  # [T]
STEP_MATRICES = ("hidden", "cell_state", "preactivation", "grads")  # [T, H], batch item 0


class RunFields(TypedDict, total=False):
    """The fields of a run request (RunRequest, docs/api.md), every one optional: what an editor
    offers after `gfl.run(`. Values as in the API's JSON; numpy arrays are welcome."""

    models: list[dict]  # [{"cell": "rnn", "activation": "tanh"}, {"cell": "lstm", "num_layers": 2}, …]
    seq_len: int
    hidden_size: int
    input_size: int
    output_size: int
    batch_size: int
    input: dict  # {"kind": "gaussian" | "sine" | "impulse" | "adding" | "values", "values": …}
    init: dict  # {"scheme": …, "std": …, "sigma_max": …, "forget_bias": …, "bias_std": …}
    loss: dict  # {"kind": "mse" | "xent", "at": "last" | "all"}
    targets: dict  # {"values": …} or {"classes": …}
    seed: int
    seeds: list[int]  # 2…16 distinct seeds instead of `seed`: a SeedsRun (quantiles over them)
    include: list[str]  # hidden, cell_state, gates, preactivation, grads, jacobian, params


class TrainFields(TypedDict, total=False):
    """The fields of a training request (TrainRequest, docs/api.md), every one optional."""

    models: list[dict]
    task: str  # "adding" | "copy" | "temporal_order"
    seq_len: int
    hidden_size: int
    batch_size: int
    optimizer: dict  # {"name": "adam" | "sgd", "lr": …, "momentum": …}
    clip: float | None
    steps: int
    eval_every: int
    eval_size: int
    seed: int
    init: dict


class Event(NamedTuple):
    """One event of a stream: its name (`start`, `forward`, `progress`, `done`, …) and its data,
    the JSON object the API sends."""

    event: str
    data: dict


def _array(value, dtype=np.float64) -> np.ndarray | None:
    """A JSON array as numpy; null (a value that was not finite) becomes NaN."""
    return None if value is None else np.asarray(value, dtype=dtype)


def _plain(value):
    """numpy arrays and scalars in a request as the lists and numbers of JSON."""
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, eq=False)
class RunUnit:
    """One (layer, direction) of a model, `layer` from 1 (PyTorch's l0), in PyTorch's order.
    Arrays are indexed by t − 1 (t = 1..T); the per-step matrices are None unless the run's
    `include` asked for them."""

    layer: int
    direction: str  # "forward" or "backward"
    grad_norm: np.ndarray  # [T] ‖∂L/∂h_t‖_F over the batch, the total derivative
    jacobian_norm: np.ndarray | None  # [T] ‖∂s_end/∂s_t‖₂ (include "jacobian")
    bound: np.ndarray | None  # [T] rnn: (γ σ_max)^(steps to the end)
    sign_uniform: np.ndarray | None  # [T] rnn
    cell_grad_norm: np.ndarray | None  # [T] lstm: ‖∂L/∂c_t‖_F
    hidden: np.ndarray | None  # [T, H]
    cell_state: np.ndarray | None  # [T, H] lstm
    preactivation: np.ndarray | None  # [T, H] rnn
    grads: np.ndarray | None  # [T, H] ∂L/∂h_t
    gates: dict[str, np.ndarray]  # name -> [T, H], lstm and gru (include "gates")
    summary: dict  # log10_grad_ratio, memory_horizon, overflow_step, overflow_phase, sigma_max

    @classmethod
    def _from_json(cls, d: dict, **extra) -> "RunUnit":
        return cls(
            **{name: _array(d.get(name)) for name in (*STEP_SERIES, *STEP_MATRICES)},
            gates={k: _array(v) for k, v in (d.get("gates") or {}).items()},
            summary=d["summary"],
            **extra,
        )


@dataclass(frozen=True, eq=False)
class RunModel(RunUnit):
    """A model of a run. Its top-level arrays are those of its top layer's forward direction
    (the only unit of a one-layer model); `layers` holds every unit."""

    label: str
    key: str  # the catalogue's key: "rnn-tanh", "lstm", … (the page's colour)
    cell: str
    activation: str | None
    num_layers: int
    bidirectional: bool
    hidden_size: int | None
    weights: str | None  # the id of the network's weights, for a model from weights
    loss: float | None  # None: not finite
    params: dict[str, np.ndarray] | None  # include "params"
    param_grad_norm: dict[str, float | None]  # ‖∂L/∂P‖_F
    layers: tuple[RunUnit, ...]

    @classmethod
    def _from_model_json(cls, d: dict, config_model: dict) -> "RunModel":
        from gradient_flow_lab.core.catalogue import model_key

        return cls._from_json(
            d,
            layer=d.get("num_layers", 1),
            direction="forward",
            label=d["label"],
            key=model_key(d["cell"], d.get("activation")),
            cell=d["cell"],
            activation=d.get("activation"),
            num_layers=d.get("num_layers", 1),
            bidirectional=d.get("bidirectional", False),
            hidden_size=d.get("hidden_size"),
            weights=config_model.get("weights"),
            loss=d["loss"],
            params=None if d.get("params") is None else {k: _array(v) for k, v in d["params"].items()},
            param_grad_norm=d["param_grad_norm"],
            layers=tuple(
                RunUnit._from_json(u, layer=u["layer"], direction=u["direction"]) for u in d.get("layers", ())
            ),
        )

    def unit(self, layer: int, direction: str = "forward") -> RunUnit:
        """The unit (layer, direction), `layer` from 1."""
        for u in self.layers:
            if u.layer == layer and u.direction == direction:
                return u
        raise KeyError(f"{self.label} has no layer {layer} {direction}")

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"<RunModel {self.label}: loss {self.loss}, log10 grad ratio {s['log10_grad_ratio']}, "
            f"memory horizon {s['memory_horizon']}, overflow step {s['overflow_step']}>"
        )


class Run:
    """A run: what POST /api/runs answers, as Python objects.

        >>> r = gfl.run(models=[{"cell": "rnn", "activation": "sigmoid"}, {"cell": "lstm"}], seq_len=100)
        >>> r.models[0].grad_norm[:3]          # ‖∂L/∂h_t‖ for t = 1, 2, 3
        >>> r.models[1].summary["memory_horizon"]
        >>> r.figure("gradient_flow", lang="ko", theme="dark")

    `config` is the request with every default filled in, `models` a `RunModel` per model,
    `inputs` [T, B, D] and `targets` (with include "params"), `to_dict()` the JSON document.
    """

    def __init__(self, document: bytes):
        self._json = document
        d = orjson.loads(document)
        self.config: dict = d["config"]
        self.models: list[RunModel] = [
            RunModel._from_model_json(m, c) for m, c in zip(d["models"], self.config["models"], strict=True)
        ]
        self.inputs: np.ndarray | None = _array(d.get("inputs"))
        targets = d.get("targets")
        self.targets: np.ndarray | None = (
            None
            if targets is None
            else np.asarray(targets, dtype=np.int64 if self.config["loss"]["kind"] == "xent" else np.float64)
        )

    @property
    def T(self) -> int:
        """The sequence length."""
        return self.config["seq_len"]

    def to_dict(self) -> dict:
        """The JSON document of POST /api/runs for the same request (a fresh copy)."""
        return orjson.loads(self._json)

    def to_json(self) -> bytes:
        return self._json

    def figure(self, view: str = "gradient_flow", *, lang: str = "en", theme: str = "light"):
        """A plotly Figure of `view`, drawn as the page draws it: "gradient_flow" (‖∂L/∂h_t‖, the
        bound, the 10⁻³ horizon), "jacobian" (‖∂s_T/∂s_t‖₂), "hidden", "gradients" (heatmaps of
        units × time), "gates" (mean gate values and the forget-gate product), "layers" (every
        layer and direction). `lang`: "en" or "ko"; `theme`: "light" or "dark"."""
        from gradient_flow_lab import figures

        return figures.run_figure(self, view, lang=lang, theme=theme)

    def __repr__(self) -> str:
        models = ", ".join(m.label for m in self.models)
        return f"<Run T={self.T}: {models}>"


@dataclass(frozen=True, eq=False)
class SeedsModel:
    """A model of a run over several seeds: per t the quantiles of ‖∂L/∂h_t‖ over the seeds
    (an overflowed seed counted as +∞), and each seed's loss and summary numbers."""

    label: str
    key: str
    cell: str
    activation: str | None
    grad_norm: dict[str, np.ndarray]  # "q10", "q50", "q90" -> [T]
    loss: np.ndarray  # [seeds]
    summary: dict[str, list]  # log10_grad_ratio, memory_horizon, … -> one value per seed


class SeedsRun:
    """The same run at several seeds (`gfl.run(seeds=[0, 1, 2, …])`): POST /api/runs's answer
    with `seeds` (SeedsResult) — how much of what a run shows is its seed's.

        >>> s = gfl.run(models=[{"cell": "rnn", "activation": "tanh"}], seeds=[0, 1, 2, 3])
        >>> s.models[0].grad_norm["q50"]        # the median ‖∂L/∂h_t‖ over the seeds
    """

    def __init__(self, document: bytes):
        from gradient_flow_lab.core.catalogue import model_key

        self._json = document
        d = orjson.loads(document)
        self.config: dict = d["config"]
        self.seeds: list[int] = d["seeds"]
        self.models: list[SeedsModel] = [
            SeedsModel(
                label=m["label"],
                key=model_key(m["cell"], m.get("activation")),
                cell=m["cell"],
                activation=m.get("activation"),
                grad_norm={q: _array(v) for q, v in m["grad_norm"].items()},
                loss=_array(m["loss"]),
                summary=m["summary"],
            )
            for m in d["models"]
        ]

    def to_dict(self) -> dict:
        """The JSON document of POST /api/runs with the same `seeds` (a fresh copy)."""
        return orjson.loads(self._json)

    def __repr__(self) -> str:
        return f"<SeedsRun seeds={self.seeds}: {', '.join(m.label for m in self.models)}>"


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """A model of a training, its reports as arrays: one entry per `progress` event (every
    `progress_every` steps), one per `eval` event."""

    label: str
    key: str
    cell: str
    activation: str | None
    step: np.ndarray  # [n] the reported steps
    loss: np.ndarray  # [n] the batch loss at each
    grad_norm: np.ndarray  # [n, P] ‖∂L/∂h_t‖ at the training's profile_t
    grad_norm_total: np.ndarray  # [n] ‖∂L/∂θ‖ before clipping
    clipped: np.ndarray  # [n] bool
    clipped_fraction: np.ndarray  # [n]
    eval_step: np.ndarray  # [k]
    eval_value: np.ndarray  # [k] the metric on held-out sequences
    metric: str | None  # "mse" or "accuracy", from `done`
    value: float | None
    baseline: float | None
    solved: bool | None

    def __repr__(self) -> str:
        return f"<TrainedModel {self.label}: {self.metric} {self.value}, solved {self.solved}>"


class Training:
    """A training: the events of POST /api/train/stream, in order, and their numbers by model.

        >>> tr = gfl.train(models=[{"cell": "lstm"}], task="adding", seq_len=20, steps=200)
        >>> tr.models[0].loss[-1], tr.models[0].solved
        >>> tr.figure("loss")

    Build one from a client's events with `Training.from_events(client.train(...))`.
    """

    def __init__(self, events: Iterable[tuple[str, dict]]):
        self.events: list[Event] = [Event(e, d) for e, d in events if e != "queued"]
        by_name: dict[str, list[dict]] = {}
        for e in self.events:
            by_name.setdefault(e.event, []).append(e.data)
        if "error" in by_name:
            raise ApiError(200, by_name["error"][0]["detail"])
        start = by_name["start"][0]
        self.config: dict = start["config"]
        self.metric: str = start["metric"]
        self.baseline: float = start["baseline"]
        self.metric_baseline: float = start["metric_baseline"]
        self.sequence_length: int = start["sequence_length"]
        self.progress_every: int = start["progress_every"]
        self.profile_t: np.ndarray = np.asarray(start["profile_t"], dtype=np.int64)
        done = by_name.get("done", [{"models": [None] * len(start["models"])}])[0]["models"]
        self.models: list[TrainedModel] = [
            self._model(i, m, by_name.get("progress", []), by_name.get("eval", []), done[i])
            for i, m in enumerate(start["models"])
        ]

    @classmethod
    def from_events(cls, events: Iterable[tuple[str, Any]]) -> "Training":
        return cls(events)

    def _model(self, i: int, m: dict, progress: list[dict], evals: list[dict], done: dict | None):
        from gradient_flow_lab.core.catalogue import model_key

        mine = [p for p in progress if p["model"] == i]
        evs = [e for e in evals if e["model"] == i]
        return TrainedModel(
            label=m["label"],
            key=model_key(m["cell"], m.get("activation")),
            cell=m["cell"],
            activation=m.get("activation"),
            step=np.asarray([p["step"] for p in mine], dtype=np.int64),
            loss=_array([p["loss"] for p in mine]),
            grad_norm=_array([p["grad_norm"] for p in mine]).reshape(len(mine), len(self.profile_t)),
            grad_norm_total=_array([p["grad_norm_total"] for p in mine]),
            clipped=np.asarray([p["clipped"] for p in mine], dtype=bool),
            clipped_fraction=_array([p["clipped_fraction"] for p in mine]),
            eval_step=np.asarray([e["step"] for e in evs], dtype=np.int64),
            eval_value=_array([e["value"] for e in evs]),
            metric=done and done["metric"],
            value=done and done["value"],
            baseline=done and done["baseline"],
            solved=done and done["solved"],
        )

    @property
    def steps(self) -> int:
        return self.config["steps"]

    def to_dict(self) -> dict:
        """The stream's JSON by event: {"start": {…}, "progress": [{…}, …], "eval": […],
        "done": {…}} — each object exactly the data of the API's event."""
        out: dict = {"start": None, "progress": [], "eval": [], "done": None}
        for e in self.events:
            if isinstance(out.get(e.event), list):
                out[e.event].append(e.data)
            else:
                out[e.event] = e.data
        return out

    def figure(self, view: str = "loss", *, lang: str = "en", theme: str = "light"):
        """A plotly Figure of `view`, as the page's Train tab draws it: "loss" (per model, log
        scale, the task's baseline, a tick per clipped report) or "flow" (log10 ‖∂L/∂h_t‖ over
        training step × t, one heatmap per model on one colour scale)."""
        from gradient_flow_lab import figures

        return figures.training_figure(self, view, lang=lang, theme=theme)

    def __repr__(self) -> str:
        models = ", ".join(f"{m.label} ({m.metric} {m.value})" for m in self.models)
        return f"<Training {self.config['task']}, {self.steps} steps: {models}>"


# --- in this process -------------------------------------------------------------------------


def resolve(kind: str, fields: Mapping, networks=None):
    """(the core's spec, the config) of a request's `fields`, validated and limited as the
    server does; ApiError(422) naming the field and the limit otherwise. Loads pydantic and the
    server's checks, not its web framework (FastAPI comes in with a refusal only)."""
    from pydantic import ValidationError

    from gradient_flow_lab.app.resolve import resolve_run, resolve_train
    from gradient_flow_lab.app.schemas import RunRequest, TrainRequest
    from gradient_flow_lab.app.settings import Settings

    try:
        if kind == "run":
            return resolve_run(
                RunRequest.model_validate(_plain(fields)), Settings.from_env(), networks or (lambda id_: None)
            )
        return resolve_train(TrainRequest.model_validate(_plain(fields)), Settings.from_env())
    except ValidationError as e:  # located in the body, as the server's answer locates them
        raise _invalid([{**err, "loc": ("body", *err["loc"])} for err in e.errors()]) from None
    except Exception as e:
        from fastapi.exceptions import RequestValidationError  # loaded: app.resolve raised one

        if not isinstance(e, RequestValidationError):
            raise
        raise _invalid(e.errors()) from None


def _invalid(errors: list[dict]) -> ApiError:
    from gradient_flow_lab.app.errors import clean, describe

    return ApiError(422, describe(errors), clean(errors))


def run_spec(spec, config: dict) -> "Run | SeedsRun":
    """The Run of a resolved request, computed here (a SeedsRun for a request with `seeds`)."""
    from gradient_flow_lab.app.serialize import dumps, run_result
    from gradient_flow_lab.core.run import collect
    from gradient_flow_lab.core.run import run as frames

    if config.get("seeds"):
        from gradient_flow_lab.app.serialize import seeds_result
        from gradient_flow_lab.core.seeds import over_seeds

        return SeedsRun(dumps(seeds_result(over_seeds(spec, config["seeds"]), config)))
    return Run(dumps(run_result(collect(frames(spec)), config)))


def run(**fields: Unpack[RunFields]) -> "Run | SeedsRun":
    """One run computed in this process, with the same numbers as POST /api/runs. `fields` are
    the RunRequest's (docs/api.md); every one is optional, numpy arrays are welcome as values.

        >>> import gradient_flow_lab as gfl
        >>> r = gfl.run(seq_len=100, init={"scheme": "orthogonal", "sigma_max": 1.0})
        >>> r.figure()

    With `seeds=[…]` (2…16 distinct seeds instead of `seed`) it is a SeedsRun: the quantiles of
    ‖∂L/∂h_t‖ over the seeds, as POST /api/runs answers then. Raises ApiError(422, …) for a field
    out of range, as the server would answer.
    """
    return run_spec(*resolve("run", fields))


def train(*, progress: bool | None = None, **fields: Unpack[TrainFields]) -> Training:
    """A training computed in this process: the events of POST /api/train/stream for the same
    request (TrainRequest `fields`), read into a `Training`. A progress bar shows in a terminal
    (on stderr) and in Jupyter once the training has taken a second; `progress=True` shows it
    from the start, `progress=False` never.

        >>> tr = gfl.train(models=[{"cell": "rnn", "activation": "tanh"}, {"cell": "lstm"}],
        ...                task="adding", seq_len=30, steps=300)
        >>> tr.figure("loss")
    """
    from gradient_flow_lab.app.serialize import dumps, train_event
    from gradient_flow_lab.core.train import train as frames

    spec, config = resolve("train", fields)
    events = []
    last = len(spec.models) - 1
    with ProgressBar(spec.steps, description="training", enabled=progress) as bar:
        for frame in frames(spec):
            name, data = train_event(frame, config)
            events.append((name, orjson.loads(dumps(data))))
            if name == "progress" and data["model"] == last:
                bar.update(data["step"])
    return Training(events)
