"""A training's trained models, kept like uploaded weights: at the end of a training each model's
parameters are written as a PyTorch state_dict in safetensors (float64) (nn.RNN / nn.LSTM / nn.GRU names and
an nn.Linear head as `weight`, `bias`) and put in the store under the SHA-256 of those bytes, the
id a run's model entry names ({"weights": id}) — so "open this trained model in Explore" is a run
of the trained network next to the same cells drawn from the training's seed, which are exactly
the weights the training started from. The `done` event gives each model's id (`weights`).

A model is kept only while the store keeps files (`weights_bytes_max`, least recently used
first); a run that names one the store has let go says so (a 422 naming the model's weights).
"""

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import replace

from safetensors.numpy import save

from gradient_flow_lab.app.weights import find_network
from gradient_flow_lab.core.cells import make_cell
from gradient_flow_lab.core.stack import Stack, torch_state
from gradient_flow_lab.core.train import ModelOutcome, TrainDone


def state_dict(outcome: ModelOutcome) -> dict:
    """The trained model as a PyTorch state_dict (float64, the training's own numbers)."""
    info = outcome.info
    cell = make_cell(info.cell, info.activation)
    P = dict(outcome.params)
    head = {"W_hy": P.pop("W_hy"), "b_y": P.pop("b_y")}
    return torch_state(Stack(cell, (P,), head))


def keep(outcome: ModelOutcome, store) -> str:
    """Put the trained model in the store; its id."""
    arrays = state_dict(outcome)
    data = save(arrays)
    id_ = "sha256:" + hashlib.sha256(data).hexdigest()
    description = {"id": id_, "format": "safetensors", **find_network(arrays).description}
    store.put_weights(id_, data, description)
    return id_


def keep_trained(frames: Iterable, store) -> Iterator:
    """`frames` of a training, its `done` frame with every model's weights id (kept in `store`)."""
    for frame in frames:
        if isinstance(frame, TrainDone):
            frame = replace(frame, models=[replace(o, weights=keep(o, store)) for o in frame.models])
        yield frame
