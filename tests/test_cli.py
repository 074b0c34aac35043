"""The command line (`gradient-flow-lab run`): the same numbers as POST /api/runs, your own
weights, inputs and targets from files, and errors in words with exit status 2."""

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from safetensors.numpy import save_file

from gradient_flow_lab.app.cli import main
from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.settings import Settings


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(["run", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path):
    """A 2-layer bidirectional GRU with a 3-class head (PyTorch names), a sequence and classes."""
    rng = np.random.default_rng(0)
    H, D = 4, 3
    state = {}
    for k in range(2):
        for s in ("", "_reverse"):
            state[f"gru.weight_ih_l{k}{s}"] = rng.standard_normal((3 * H, D if k == 0 else 2 * H))
            state[f"gru.weight_hh_l{k}{s}"] = rng.standard_normal((3 * H, H))
            state[f"gru.bias_ih_l{k}{s}"] = rng.standard_normal(3 * H)
            state[f"gru.bias_hh_l{k}{s}"] = rng.standard_normal(3 * H)
    state["head.weight"], state["head.bias"] = rng.standard_normal((3, 2 * H)), rng.standard_normal(3)
    save_file(state, tmp_path / "model.safetensors")
    np.save(tmp_path / "x.npy", rng.standard_normal((12, D)))
    np.savetxt(tmp_path / "x.csv", rng.standard_normal((12, D)), delimiter=",")
    np.save(tmp_path / "classes.npy", rng.integers(0, 3, 12))
    return tmp_path


def test_the_default_table(capsys):
    code, out, _ = run_cli(capsys, "--seq-len", "30", "--rows", "4")
    assert code == 0
    assert "RNN (sigmoid)" in out and "LSTM" in out and out.count("memory horizon") == 3


def test_json_is_the_api_answer(capsys, tmp_path):
    code, out, _ = run_cli(
        capsys, "--models", "rnn:tanh,gru", "--num-layers", "2", "--seq-len", "15", "--json"
    )
    assert code == 0
    body = {
        "models": [{"cell": "rnn", "activation": "tanh", "num_layers": 2}, {"cell": "gru", "num_layers": 2}],
        "seq_len": 15,
        "input": {"kind": "gaussian"},
        "init": {"scheme": "xavier"},
        "loss": {"at": "last"},
        "seed": 0,
        "include": ["hidden", "grads", "jacobian"],
    }
    api = TestClient(create_app(Settings(data_dir=str(tmp_path)))).post("/api/runs", json=body).json()
    assert json.loads(out) == api


@pytest.mark.parametrize("inputs", ["x.npy", "x.csv"])
def test_weights_inputs_and_class_targets_from_files(capsys, files, inputs):
    code, out, _ = run_cli(
        capsys,
        "--weights",
        str(files / "model.safetensors"),
        "--input",
        str(files / inputs),
        "--targets",
        str(files / "classes.npy"),
        "--loss-at",
        "all",
        "--json",
    )
    assert code == 0, out
    cli = json.loads(out)
    client = TestClient(create_app(Settings(data_dir=str(files / "store"))))
    info = client.post(
        "/api/weights", files={"file": ("m", (files / "model.safetensors").read_bytes())}
    ).json()
    x = np.load(files / "x.npy") if inputs == "x.npy" else np.loadtxt(files / "x.csv", delimiter=",")
    body = {
        "models": [{"weights": info["id"]}],
        "input": {"kind": "values", "values": x.tolist()},
        "targets": {"classes": np.load(files / "classes.npy").tolist()},
        "loss": {"kind": "xent", "at": "all"},
        "include": ["hidden", "grads", "jacobian"],
    }
    api = client.post("/api/runs", json=body).json()
    assert cli["models"] == api["models"]
    (m,) = cli["models"]
    assert m["label"] == "GRU · 2 layers · bidirectional" and len(m["layers"]) == 4


def test_the_table_of_a_stacked_model_has_a_line_per_layer(capsys, files):
    code, out, _ = run_cli(
        capsys, "--weights", str(files / "model.safetensors"), "--input", str(files / "x.npy")
    )
    assert code == 0
    assert "layer 1 forward" in out and "layer 2 backward" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--weights", "x.npy"], "neither safetensors nor .npz"),
        (["--weights", "nothing.safetensors"], "No such file"),
        (["--input", "nothing.csv"], "no such file"),
        (["--models", "lstm", "--num-layers", "9"], "models.0.num_layers"),
        (["--weights", "model.safetensors", "--input", "x.npy", "--input-size", "5"], "input_size"),
    ],
)
def test_errors_in_words_and_status_2(capsys, files, monkeypatch, argv, words):
    monkeypatch.chdir(files)
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and words in err, err
