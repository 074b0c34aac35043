"""The core's frames and results as JSON, fast.

orjson writes numpy arrays natively (about 20× faster than `json` on large float arrays)
and writes NaN and ±Infinity as `null`, which is what the contract asks for. Floats are
written in their shortest round-trip form: nothing is rounded.

No web framework here (the Python package serialises runs without one): the response classes
are in app/responses.py, and `JSONResponse` and `EventStream` are still importable from this
module for the routers, loaded from there on first use.
"""

from collections.abc import Iterator

import numpy as np
import orjson

from gradient_flow_lab.app.fields import BACKWARD, FIELDS, FORWARD, PARAMS, SERIES
from gradient_flow_lab.core.run import (
    BackwardFrame,
    ForwardFrame,
    Frame,
    ModelResult,
    RunResult,
    StartFrame,
    SummaryFrame,
)
from gradient_flow_lab.core.seeds import SeedsResult
from gradient_flow_lab.core.train import Evaluation, Progress, TrainDone, TrainFrame, TrainStart

OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def _default(obj):
    if isinstance(obj, np.ndarray):  # orjson takes only C-contiguous arrays natively
        return np.ascontiguousarray(obj)
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def dumps(obj) -> bytes:
    return orjson.dumps(obj, default=_default, option=OPTIONS)


def __getattr__(name: str):
    """JSONResponse and EventStream, from app/responses.py (which imports FastAPI)."""
    if name in ("JSONResponse", "EventStream"):
        from gradient_flow_lab.app import responses

        return getattr(responses, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# One Server-Sent Event as a client's parser sees it (OpenAPI 3.2 §4.14.4, FastAPI's schema)
SSE_EVENT_SCHEMA = {
    "type": "object",
    "required": ["event", "data", "id"],
    "properties": {
        "event": {"type": "string", "description": "the event name"},
        "data": {"type": "string", "description": "a JSON object"},
        "id": {"type": "string", "description": "0, 1, 2, … increasing"},
        "retry": {"type": "integer", "minimum": 0},
    },
}


def sse_doc(description: str) -> dict:
    return {200: {"description": description,
                  "content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}}}}


def _trained_label(info) -> dict:
    return {"label": info.label, "cell": info.cell, "activation": info.activation}


def _model_label(info) -> dict:
    """A run's model: its label and, for the stacked, bidirectional and uploaded ones, their shape."""
    return {**_trained_label(info), "num_layers": info.num_layers, "bidirectional": info.bidirectional,
            "hidden_size": info.hidden_size}


def _layers(source, cell: str, include: set[str], table=FIELDS) -> list[dict]:
    """Each unit's (layer, direction) arrays, in PyTorch's order, as for the top level."""
    return [{"layer": u.layer, "direction": u.direction, **_arrays(u, cell, include, table),
             "summary": u.summary} for u in source.layers]


def _arrays(source, cell: str, include: set[str], table=FIELDS) -> dict:
    """The arrays of `table` that `include` asks for and `cell` has, from a frame or result
    holding each under its field's name."""
    out = {}
    for f in table:
        if f.applies(cell, include):
            value = getattr(source, f.name, None)
            if value is not None:
                out[f.name] = value
    return out


def model_result(m: ModelResult, include: set[str]) -> dict:
    out = _model_label(m.info)
    out["loss"] = m.loss
    out.update(_arrays(m, m.info.cell, include))
    if PARAMS in include:
        out["params"] = m.params
    out.update(param_grad_norm=m.param_grad_norm, summary=m.summary,
               layers=_layers(m, m.info.cell, include))
    return out


def run_result(result: RunResult, config: dict) -> dict:
    include = set(config["include"])
    out = {"config": config, "models": [model_result(m, include) for m in result.models]}
    if PARAMS in include:
        out.update(inputs=result.inputs, targets=result.targets)
    return out


def seeds_result(result: SeedsResult, config: dict) -> dict:
    """POST /api/runs with `seeds`: per model the quantiles of ‖∂L/∂h_t‖ over the seeds (q10, q50,
    q90) and each seed's loss and summary numbers."""
    names = [f"q{round(100 * q)}" for q in result.quantiles]
    return {"config": config, "seeds": list(result.seeds), "models": [
        {**_model_label(m.info), "grad_norm": dict(zip(names, m.grad_norm, strict=True)), "loss": m.loss,
         "summary": m.summaries} for m in result.models]}


def frame_event(frame: Frame, config: dict, include: set[str], cells: list[str]) -> tuple[str, dict]:
    """(event name, data) of one stream frame, with the same numbers as `run_result`; `cells`:
    each model's cell."""
    if isinstance(frame, ForwardFrame):
        return "forward", {"model": frame.model, "t": frame.t, "layer": frame.layer,
                           "direction": frame.direction,
                           **_arrays(frame, cells[frame.model], include, FORWARD)}
    if isinstance(frame, BackwardFrame):
        return "backward", {"model": frame.model, "t": frame.t, "layer": frame.layer,
                            "direction": frame.direction,
                            **_arrays(frame, cells[frame.model], include, BACKWARD)}
    if isinstance(frame, SummaryFrame):
        data = {"model": frame.model, "loss": frame.loss, "summary": frame.summary,
                "param_grad_norm": frame.param_grad_norm,
                **_arrays(frame, cells[frame.model], include, SERIES),
                "layers": _layers(frame, cells[frame.model], include, SERIES)}
        if PARAMS in include:
            data["params"] = frame.params
        return "summary", data
    assert isinstance(frame, StartFrame)
    data = {"config": config, "models": [_model_label(m) for m in frame.models]}
    if PARAMS in include:
        data.update(inputs=frame.inputs, targets=frame.targets)
    return "start", data


class EventEncoder:
    """SSE wire format with increasing ids (0, 1, 2, …): the bytes that FastAPI's
    `format_sse_event` writes, built directly. orjson never writes a raw newline (it escapes
    them inside strings), so every payload is one `data:` line; skipping the str round trip
    halves the encoding cost of a large stream."""

    def __init__(self):
        self.next_id = 0

    def __call__(self, event: str, data) -> bytes:
        out = b"event: %s\ndata: %s\nid: %d\n\n" % (event.encode(), dumps(data), self.next_id)
        self.next_id += 1
        return out


def train_event(frame: TrainFrame, config: dict) -> tuple[str, dict]:
    """(event name, data) of one training frame."""
    if isinstance(frame, Progress):
        return "progress", {
            "model": frame.model, "step": frame.step, "loss": frame.loss, "grad_norm": frame.grad_norm,
            "grad_norm_total": frame.grad_norm_total, "clipped": frame.clipped,
            "clipped_fraction": frame.clipped_fraction,
        }
    if isinstance(frame, Evaluation):
        return "eval", {"model": frame.model, "step": frame.step, "metric": frame.metric,
                        "value": frame.value, "baseline": frame.baseline}
    if isinstance(frame, TrainDone):
        return "done", {"models": [
            {**_trained_label(m.info), "metric": m.metric, "value": m.value, "baseline": m.baseline,
             "solved": m.solved, **({"weights": m.weights} if m.weights else {})} for m in frame.models]}
    assert isinstance(frame, TrainStart)
    return "start", {
        "config": config, "models": [_trained_label(m) for m in frame.models],
        "baseline": frame.loss_baseline, "metric": frame.metric,
        "metric_baseline": frame.metric_baseline, "sequence_length": frame.task.length,
        "progress_every": frame.progress_every, "profile_t": frame.profile_t,
    }


def encode_train(frames: Iterator[TrainFrame], config: dict, encoder: EventEncoder) -> Iterator[bytes]:
    for frame in frames:
        yield encoder(*train_event(frame, config))


def encode_frames(frames: Iterator[Frame], config: dict, encoder: EventEncoder) -> Iterator[bytes]:
    include = set(config["include"])
    cells = [m["cell"] for m in config["models"]]
    for frame in frames:
        yield encoder(*frame_event(frame, config, include, cells))
