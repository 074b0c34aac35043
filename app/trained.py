"""A training's trained models, kept like uploaded weights: at the end of a training each model's
parameters are written as a PyTorch state_dict in safetensors (float64) (nn.RNN / nn.LSTM / nn.GRU names and
an nn.Linear head as `weight`, `bias`) and put in the store under the SHA-256 of those bytes, the
id a run's model entry names ({"weights": id}) — so "open this trained model in Explore" is a run
of the trained network next to the same cells drawn from the training's seed, which are exactly
the weights the training started from. The `done` event gives each model's id (`weights`), and
the file's description (GET /api/weights/{id}) says where it came from (`trained`: the catalogue
key of the model, the task, its length and the steps trained), so that the page can name it
("LSTM, trained") where an uploaded file is named by its file.

A model is kept only while the store keeps files (`weights_bytes_max`, least recently used
first); a run that names one the store has let go says so (a 422 naming the model's weights).
"""

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import replace

from safetensors.numpy import save

from gradient_flow_lab.app.weights import find_network
from gradient_flow_lab.core.catalogue import model_key
from gradient_flow_lab.core.cells import make_cell
from gradient_flow_lab.core.stack import Stack, torch_state
from gradient_flow_lab.core.train import ModelOutcome, TrainDone, TrainSpec


def state_dict(outcome: ModelOutcome) -> dict:
    """The trained model as a PyTorch state_dict (float64, the training's own numbers)."""
    info = outcome.info
    cell = make_cell(info.cell, info.activation)
    P = dict(outcome.params)
    head = {"W_hy": P.pop("W_hy"), "b_y": P.pop("b_y")}
    return torch_state(Stack(cell, (P,), head))


def origin(outcome: ModelOutcome, spec: TrainSpec) -> dict:
    """Where a trained model came from, kept with its file: the catalogue key of the model, the
    task, its length T and the steps trained."""
    info = outcome.info
    return {"model": model_key(info.cell, info.activation), "task": spec.task, "seq_len": spec.seq_len,
            "steps": spec.steps}


def keep(outcome: ModelOutcome, store, spec: TrainSpec) -> str:
    """Put the trained model in the store, described with its origin; its id."""
    arrays = state_dict(outcome)
    data = save(arrays)
    id_ = "sha256:" + hashlib.sha256(data).hexdigest()
    description = {"id": id_, "format": "safetensors", **find_network(arrays).description,
                   "trained": origin(outcome, spec)}
    store.put_weights(id_, data, description)
    return id_


def keep_trained(frames: Iterable, store, spec: TrainSpec) -> Iterator:
    """`frames` of the training `spec`, its `done` frame with every model's weights id (kept in
    `store`)."""
    for frame in frames:
        if isinstance(frame, TrainDone):
            frame = replace(frame, models=[replace(o, weights=keep(o, store, spec)) for o in frame.models])
        yield frame
