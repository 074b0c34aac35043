"""A training's trained models, kept as weights (app/trained.py): the `done` event names each
model's weights id; a run of that id computes with exactly the trained parameters, and the same
cell drawn from the training's seed in that run has exactly the parameters the training started
from — so Explore can show a trained model next to its untrained self."""

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sse import parse

from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.schemas import WeightsInfo
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.core.cells import make_cell
from gradient_flow_lab.core.init import InitSpec, init_params
from gradient_flow_lab.core.run import CELL_STREAMS, ModelSpec
from gradient_flow_lab.core.train import TrainDone, TrainSpec, train

MODELS = [{"cell": "rnn", "activation": "sigmoid"}, {"cell": "lstm"}, {"cell": "gru"}]
TRAINING = {
    "models": MODELS,
    "task": "adding",
    "seq_len": 12,
    "hidden_size": 6,
    "batch_size": 8,
    "steps": 15,
    "eval_every": 15,
    "eval_size": 40,
    "seed": 3,
}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(data_dir=str(tmp_path_factory.mktemp("store")))
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def done(client):
    r = client.post("/api/train/stream", json=TRAINING)
    assert r.status_code == 200
    events = parse(r.text)
    assert events[-1].event == "done"
    return events[-1].data


@pytest.fixture(scope="module")
def trained_params():
    spec = TrainSpec(
        models=(ModelSpec("rnn", "sigmoid"), ModelSpec("lstm"), ModelSpec("gru")),
        task="adding",
        seq_len=12,
        hidden_size=6,
        batch_size=8,
        steps=15,
        eval_every=15,
        eval_size=40,
        seed=3,
    )
    final = next(f for f in train(spec) if isinstance(f, TrainDone))
    return [o.params for o in final.models]


def test_done_names_each_models_kept_weights(client, done):
    ids = [m["weights"] for m in done["models"]]
    assert all(i.startswith("sha256:") for i in ids) and len(set(ids)) == 3
    for m, i, key in zip(MODELS, ids, ["rnn-sigmoid", "lstm", "gru"], strict=True):
        info = client.get(f"/api/weights/{i}").json()
        assert info["cell"] == m["cell"] and info["hidden_size"] == 6 and info["input_size"] == 2
        assert info["head"] == {"output_size": 1} and info["num_layers"] == 1
        # where it came from, for the page to name it ("LSTM, trained")
        assert info["trained"] == {"model": key, "task": "adding", "seq_len": 12, "steps": 15}
        WeightsInfo.model_validate(info)


@pytest.mark.parametrize("k", range(3))
def test_a_run_of_the_trained_weights_next_to_the_untrained_cell(client, done, trained_params, k):
    """The run has the trained parameters for the weights and the training's start for the cell."""
    cell = MODELS[k]
    weights = {"weights": done["models"][k]["weights"]}
    if cell["cell"] == "rnn":
        weights["activation"] = cell["activation"]
    body = {
        "models": [cell, weights],
        "seq_len": 12,
        "hidden_size": 6,
        "input": {"kind": "adding"},
        "seed": 3,
        "include": ["params"],
    }
    r = client.post("/api/runs", json=body)
    assert r.status_code == 200, r.text
    untrained, trained = r.json()["models"]
    assert r.json()["config"]["models"][1]["weights"] == weights["weights"]
    c = make_cell(cell["cell"], cell.get("activation"))
    start = init_params(c, 2, 6, 1, InitSpec(), np.random.default_rng([3, CELL_STREAMS[c.name]]))
    for name, value in start.items():
        np.testing.assert_array_equal(np.array(untrained["params"][name]), value, err_msg=name)
    # the trained network's numbers are the training's, to the last bit (float64 in the file)
    P = trained_params[k]
    got = {name: np.array(v) for name, v in trained["params"].items()}
    for name in ("W_hy", "b_y"):
        np.testing.assert_array_equal(got[name], P[name], err_msg=name)
    recurrent = "W_hh" if c.name == "rnn" else "W_h"
    np.testing.assert_array_equal(got[recurrent], P[recurrent])
    assert not np.array_equal(got[recurrent], start[recurrent])  # training moved the weights
