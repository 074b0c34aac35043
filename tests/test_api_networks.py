"""Your own network and data through the HTTP API: stacked and bidirectional models, runs of
uploaded PyTorch weights against torch itself, batched input values, targets, cross-entropy,
and every way such a request can be wrong (a clear 422 naming the field)."""

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sse import loads_strict

from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.settings import Settings

pytestmark = pytest.mark.torch
TORCH_MODULES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


@pytest.fixture
def client(tmp_path):
    return TestClient(create_app(Settings(data_dir=str(tmp_path))))


def torch_network(torch, cell, D=3, H=5, layers=2, bidirectional=True, O=4, bias=True, seed=0):
    torch.manual_seed(seed)
    kwargs = {"nonlinearity": "relu"} if cell == "rnn" else {}
    rnn = getattr(torch.nn, TORCH_MODULES[cell])(D, H, num_layers=layers, bidirectional=bidirectional,
                                                 bias=bias, **kwargs).double()
    head = torch.nn.Linear(H * (2 if bidirectional else 1), O).double() if O else None
    return rnn, head


def upload(client, torch, rnn, head) -> dict:
    from safetensors.torch import save

    state = {f"encoder.rnn.{k}": v for k, v in rnn.state_dict().items()}
    if head is not None:
        state |= {f"readout.{k}": v for k, v in head.state_dict().items()}
    r = client.post("/api/weights", files={"file": ("model.safetensors", save(state))})
    assert r.status_code == 201, r.text
    return r.json()


def post(client, body) -> dict:
    r = client.post("/api/runs", json=body)
    assert r.status_code == 200, r.text
    return loads_strict(r.content)


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-300))


# the core's flat parameter names ↔ PyTorch's (core/stack.py)
CORE_NAME = {"rnn": ("W_xh", "W_hh", "b_h"), "lstm": ("W_x", "W_h", "b"), "gru": ("W_x", "W_h", "b_x")}


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("loss", ["mse", "xent"])
def test_a_run_of_uploaded_weights_equals_torch(client, torch, cell, loss):
    """An nn.RNN (relu) / nn.LSTM / nn.GRU of 2 bidirectional layers with an nn.Linear head,
    on batched inputs and the caller's targets: loss, outputs of the top layer and every
    parameter's gradient norm equal torch autograd's (float64, relative error < 1e-9)."""
    rnn, head = torch_network(torch, cell)
    info = upload(client, torch, rnn, head)
    rng = np.random.default_rng(1)
    T, B = 7, 3
    X = rng.standard_normal((T, B, 3))
    if loss == "xent":
        targets = {"classes": rng.integers(0, 4, (T, B)).tolist()}
    else:
        targets = {"values": rng.standard_normal((T, B, 4)).tolist()}
    model = {"weights": info["id"], **({"activation": "relu"} if cell == "rnn" else {})}
    result = post(client, {"models": [model], "input": {"kind": "values", "values": X.tolist()},
                           "targets": targets, "loss": {"kind": loss, "at": "all"},
                           "include": ["hidden", "params"]})
    (m,) = result["models"]
    assert (m["cell"], m["num_layers"], m["bidirectional"], m["hidden_size"]) == (cell, 2, True, 5)
    assert result["config"]["batch_size"] == B and result["config"]["output_size"] == 4

    out, _ = rnn(torch.tensor(X))
    y = head(out)
    if loss == "xent":
        classes = torch.tensor(targets["classes"]).reshape(-1)
        want = torch.nn.functional.cross_entropy(y.reshape(-1, 4), classes, reduction="sum") / B
    else:
        want = 0.5 * ((y - torch.tensor(targets["values"])) ** 2).sum() / B
    want.backward()
    assert m["loss"] == pytest.approx(want.item(), rel=1e-12)
    # batch item 0 of the top layer's two directions
    top = {u["direction"]: u for u in m["layers"] if u["layer"] == 2}
    np.testing.assert_allclose(np.hstack([top["forward"]["hidden"], top["backward"]["hidden"]]),
                               out[:, 0].detach().numpy(), rtol=1e-12, atol=1e-14)
    x_name, h_name, b_name = CORE_NAME[cell]
    for k in (0, 1):
        for s in ("", "_reverse"):
            for core, ours in ((x_name, "weight_ih"), (h_name, "weight_hh")):
                g = getattr(rnn, f"{ours}_l{k}{s}").grad.numpy()
                assert rel_err(m["param_grad_norm"][f"{core}_l{k}{s}"], np.linalg.norm(g)) < 1e-9
            g = getattr(rnn, f"bias_ih_l{k}{s}").grad.numpy()  # b (or b_x) carries bias_ih's gradient
            assert rel_err(m["param_grad_norm"][f"{b_name}_l{k}{s}"], np.linalg.norm(g)) < 1e-9
    assert rel_err(m["param_grad_norm"]["W_hy"], np.linalg.norm(head.weight.grad.numpy())) < 1e-9
    # the parameters travel back as they came in (W_x = weight_ihᵀ)
    np.testing.assert_array_equal(np.asarray(m["params"][f"{h_name}_l1_reverse"]),
                                  rnn.weight_hh_l1_reverse.detach().numpy().T)


def test_without_a_head_the_readout_is_drawn_and_the_output_size_is_the_requests(client, torch):
    rnn, _ = torch_network(torch, "gru", O=0, bidirectional=False, bias=False)
    info = upload(client, torch, rnn, None)
    assert info["head"] is None
    result = post(client, {"models": [{"weights": info["id"]}, {"cell": "lstm", "num_layers": 2}],
                           "seq_len": 12, "output_size": 2})
    gru, lstm = result["models"]
    assert gru["label"] == "GRU · 2 layers" and lstm["label"] == "LSTM · 2 layers"
    assert len(gru["layers"]) == 2 and gru["hidden_size"] == 5 and lstm["hidden_size"] == 16
    assert "b_x_l0" not in gru["param_grad_norm"]  # no biases in the file: none reported


def test_weights_survive_the_server_that_took_them(tmp_path, torch):
    """Another server on the same store (a restart, another replica) runs them from the file."""
    rnn, head = torch_network(torch, "lstm", layers=1, bidirectional=False)
    first = TestClient(create_app(Settings(data_dir=str(tmp_path))))
    info = upload(first, torch, rnn, head)
    body = {"models": [{"weights": info["id"]}], "seq_len": 9}
    again = TestClient(create_app(Settings(data_dir=str(tmp_path))))
    assert post(again, body)["models"] == post(first, body)["models"]


def test_stacked_models_drawn_from_the_seed(client):
    """num_layers and bidirectional without weights: layer 1 forward has the one-layer model's
    weights, so the first layer's forward hidden states are the same run's."""
    plain = post(client, {"models": [{"cell": "lstm"}], "seq_len": 10, "include": ["hidden"]})
    deep = post(client, {"models": [{"cell": "lstm", "num_layers": 3, "bidirectional": True}], "seq_len": 10,
                         "include": ["hidden"]})
    (p,), (d,) = plain["models"], deep["models"]
    assert [(u["layer"], u["direction"]) for u in d["layers"]] == [
        (layer, direction) for layer in (1, 2, 3) for direction in ("forward", "backward")]
    assert d["layers"][0]["hidden"] == p["hidden"]
    assert d["hidden"] == d["layers"][4]["hidden"]  # the top level is layer 3, forward
    for u in d["layers"]:
        assert len(u["grad_norm"]) == 10 and set(u["summary"]) >= {"memory_horizon", "sigma_max"}


XENT3 = {"output_size": 3, "loss": {"kind": "xent"}}


@pytest.mark.parametrize(("body", "loc", "words"), [
    ({"models": [{"cell": "rnn", "num_layers": 5}]}, "models.0.num_layers", "layers_max"),
    ({"models": [{"cell": "rnn", "num_layers": 0}]}, "models.0.num_layers", "greater than or equal to 1"),
    ({"models": [{"cell": "rnn", "bidirectional": "yes"}]}, "models.0.bidirectional", "boolean"),
    ({"models": [{"weights": "sha256:" + "0" * 64}]}, "models.0.weights", "upload the file again"),
    ({"models": [{"weights": "model.pt"}]}, "models.0.weights", "pattern"),
    ({"loss": {"kind": "xent"}}, "output_size", "2 classes"),
    ({"loss": {"kind": "hinge"}}, "loss.kind", "mse"),
    ({"output_size": 3, "targets": {"classes": [0] * 50}}, "targets.classes", "'xent'"),
    ({**XENT3, "targets": {"classes": [3] * 50}}, "targets.classes", "0…2"),
    ({**XENT3, "targets": {"classes": [0] * 49}}, "targets.classes", "[50, 1]"),
    ({**XENT3, "targets": {"classes": [-1] * 50}}, "targets.classes",
     "greater than or equal to 0"),
    ({"targets": {"values": [[0.0]] * 50, "classes": [0] * 50}}, "targets", "exactly one"),
    ({"targets": {"values": [[0.0, 1.0]] * 50}}, "targets.values", "[50, 1, 1]"),
    ({"input": {"kind": "values", "values": [[[1.0], [2.0]], [[3.0]]]}}, "input.values", "same length"),
    ({"batch_size": 3, "input": {"kind": "values", "values": [[[1.0], [2.0]]] * 4}}, "batch_size", "2"),
])
def test_bad_networks_and_data_name_the_field(client, body, loc, words):
    r = client.post("/api/runs", json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert loc in detail and words in detail, detail


def test_weights_that_contradict_the_request(client, torch):
    rnn, head = torch_network(torch, "lstm")
    info = upload(client, torch, rnn, head)
    for model, loc in (({"cell": "gru"}, "models.0.cell"), ({"num_layers": 1}, "models.0.num_layers"),
                       ({"bidirectional": False}, "models.0.bidirectional"),
                       ({"activation": "tanh"}, "models.0.activation")):
        r = client.post("/api/runs", json={"models": [{"weights": info["id"], **model}]})
        assert r.status_code == 422 and loc in r.json()["detail"], r.text
    r = client.post("/api/runs", json={"models": [{"weights": info["id"]}], "input_size": 4})
    assert r.status_code == 422 and "input_size 3" in r.json()["detail"]
    r = client.post("/api/runs", json={"models": [{"weights": info["id"]}], "output_size": 2})
    assert r.status_code == 422 and "output_size 4" in r.json()["detail"]
