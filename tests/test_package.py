"""The Python package (gradient_flow_lab): a cold import that loads no web framework, runs and
trainings in this process whose `to_dict()` is the API's JSON for the same request (through
FastAPI's TestClient), arrays with NaN where the API has null, errors as ApiError with the API's
status and detail, the progress bar, and `python -m gradient_flow_lab`."""

import io
import math
import subprocess
import sys

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sse import parse

import gradient_flow_lab as gfl
from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.progress import ProgressBar

HEAVY = ("fastapi", "starlette", "pydantic", "uvicorn", "torch", "plotly", "httpx")


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(Settings()), raise_server_exceptions=False)


def test_a_cold_import_loads_no_web_framework_nor_torch():
    code = (
        "import sys, gradient_flow_lab as gfl; "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules)); print(sorted(gfl.__all__))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded, names = out.splitlines()
    assert loaded == "[]"
    assert {"run", "train", "from_torch", "Client", "ApiError", "Run", "Training"} <= set(eval(names))


def test_a_run_in_this_process_loads_no_web_framework():
    code = (
        "import sys, gradient_flow_lab as gfl; gfl.run(seq_len=3); "
        "print([m for m in ('fastapi', 'starlette', 'uvicorn', 'torch') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_public_name_resolves_and_an_unknown_one_is_an_attribute_error():
    for name in gfl.__all__:
        assert getattr(gfl, name) is not None, name
    assert set(gfl.__all__) <= set(dir(gfl))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        gfl.nothing  # noqa: B018


def test_the_typed_fields_are_the_requests_fields():
    from gradient_flow_lab.app.schemas import RunRequest, TrainRequest
    from gradient_flow_lab.runs import RunFields, TrainFields

    where = "gradient_flow_lab/runs.py {}: the fields an editor offers must be the request's"
    assert set(RunFields.__annotations__) == set(RunRequest.model_fields), where.format("RunFields")
    assert set(TrainFields.__annotations__) == set(TrainRequest.model_fields), where.format("TrainFields")


REQUESTS = {
    "default": {},
    "stacked-bidirectional": {
        "models": [
            {"cell": "lstm", "num_layers": 2, "bidirectional": True},
            {"cell": "rnn", "activation": "relu", "num_layers": 2},
        ],
        "seq_len": 12,
        "hidden_size": 5,
        "batch_size": 3,
        "include": ["hidden", "cell_state", "gates", "grads", "jacobian", "params"],
    },
    "xent": {
        "models": [{"cell": "gru"}, {"cell": "rnn", "activation": "tanh"}],
        "seq_len": 6,
        "output_size": 3,
        "input_size": 2,
        "loss": {"kind": "xent", "at": "all"},
        "input": {"kind": "values", "values": [[0.5, -1], [1, 0], [0, 0], [2, 1], [-1, 0.25], [0, 3]]},
        "targets": {"classes": [0, 2, 1, 1, 0, 2]},
        "include": ["params", "grads"],
    },
    "exploding": {
        "models": [{"cell": "rnn", "activation": "relu"}],
        "seq_len": 700,
        "init": {"scheme": "orthogonal", "sigma_max": 5.0},
        "include": [],
    },
    "vanishing": {"models": [{"cell": "rnn", "activation": "sigmoid"}], "seq_len": 700, "include": []},
}


@pytest.fixture(scope="module")
def runs(client):
    """{name: (gfl.run(**request), the JSON of POST /api/runs)}."""
    out = {}
    for name, request in REQUESTS.items():
        answer = client.post("/api/runs", json=request)
        assert answer.status_code == 200, answer.text
        out[name] = (gfl.run(**request), answer.json())
    return out


@pytest.mark.parametrize("name", list(REQUESTS))
def test_to_dict_is_the_api_answer_for_the_same_request(runs, name):
    run, answer = runs[name]
    assert run.to_dict() == answer
    assert run.to_dict() is not run.to_dict()  # a fresh copy each time


@pytest.mark.parametrize("name", list(REQUESTS))
def test_the_arrays_are_the_api_numbers_with_nan_for_null(runs, name):
    run, answer = runs[name]
    assert run.config == answer["config"] and run.T == answer["config"]["seq_len"]
    for m, a in zip(run.models, answer["models"], strict=True):
        assert m.label == a["label"] and m.loss == a["loss"] and m.summary == a["summary"]
        assert m.grad_norm.dtype == np.float64 and m.grad_norm.shape == (run.T,)
        expected = np.array([np.nan if v is None else v for v in a["grad_norm"]])
        np.testing.assert_array_equal(m.grad_norm, expected)
        for field in ("hidden", "grads", "cell_state", "jacobian_norm", "bound"):
            if field in a:
                np.testing.assert_array_equal(getattr(m, field), np.asarray(a[field], dtype=float))
            else:
                assert getattr(m, field) is None
        assert set(m.gates) == set(a.get("gates", {}))
        assert [(u.layer, u.direction) for u in m.layers] == [
            (u["layer"], u["direction"]) for u in a["layers"]
        ]
        for u, ua in zip(m.layers, a["layers"], strict=True):
            np.testing.assert_array_equal(u.grad_norm, np.asarray(ua["grad_norm"], dtype=float))
            assert u.summary == ua["summary"]
        assert m.unit(m.num_layers, "forward").summary == a["summary"]
    if "params" in answer["config"]["include"]:
        np.testing.assert_array_equal(run.inputs, np.asarray(answer["inputs"]))
        np.testing.assert_array_equal(run.targets, np.asarray(answer["targets"]))


def test_an_exploding_run_has_nan_where_the_api_has_null_and_says_where(runs):
    run, answer = runs["exploding"]
    relu = run.models[0]
    assert relu.summary["overflow_step"] is not None
    assert np.isnan(relu.grad_norm).any() and None in answer["models"][0]["grad_norm"]
    sigmoid = runs["vanishing"][0].models[0]
    assert (sigmoid.grad_norm == 0).any()  # underflow to exactly 0 stays 0


def test_numpy_arrays_are_welcome_as_values():
    values = np.random.default_rng(0).standard_normal((5, 2))
    a = gfl.run(models=[{"cell": "gru"}], input={"kind": "values", "values": values}, seq_len=np.int64(5))
    b = gfl.run(models=[{"cell": "gru"}], input={"kind": "values", "values": values.tolist()})
    assert a.to_dict() == b.to_dict()


@pytest.mark.parametrize(
    "request_",
    [
        {"seq_len": 0},
        {"seq_len": 10**6},
        {"models": [{"cell": "lstm", "activation": "tanh"}]},
        {"hidden_size": 256, "seq_len": 2000, "batch_size": 256},
        {"colour": "blue"},
    ],
    ids=["seq-len-0", "seq-len-max", "activation-of-lstm", "work-budget", "unknown-field"],
)
def test_a_bad_request_is_an_api_error_with_the_server_status_and_detail(client, request_):
    answer = client.post("/api/runs", json=request_)
    with pytest.raises(gfl.ApiError) as caught:
        gfl.run(**request_)
    assert caught.value.status == answer.status_code == 422
    # the same messages (the server, validating the body for two dependencies, may say one twice)
    assert set(caught.value.detail.split("; ")) == set(answer.json()["detail"].split("; "))
    assert all(e in answer.json()["errors"] for e in caught.value.errors)


TRAIN = {
    "models": [{"cell": "rnn", "activation": "tanh"}, {"cell": "lstm"}],
    "task": "adding",
    "seq_len": 8,
    "hidden_size": 6,
    "batch_size": 8,
    "steps": 30,
    "eval_every": 10,
    "eval_size": 50,
}


def server_only(event: str, data: dict) -> dict:
    """A training event without what only a server has: the id under which it keeps a trained
    model's weights (`weights` in `done`)."""
    if event != "done":
        return data
    return {**data, "models": [{k: v for k, v in m.items() if k != "weights"} for m in data["models"]]}


def test_a_training_is_the_api_stream_for_the_same_request(client):
    answer = client.post("/api/train/stream", json=TRAIN)
    assert answer.status_code == 200
    events = [(e.event, server_only(e.event, e.data)) for e in parse(answer.text) if e.event != "queued"]
    training = gfl.train(progress=False, **TRAIN)
    assert [tuple(e) for e in training.events] == events
    d = training.to_dict()
    assert d["start"] == events[0][1] and d["done"] == events[-1][1]
    assert d["progress"] == [data for e, data in events if e == "progress"]
    assert d["eval"] == [data for e, data in events if e == "eval"]
    lstm = training.models[1]
    progress = [data for e, data in events if e == "progress" and data["model"] == 1]
    np.testing.assert_array_equal(lstm.step, [p["step"] for p in progress])
    np.testing.assert_array_equal(lstm.loss, [p["loss"] for p in progress])
    assert lstm.grad_norm.shape == (len(progress), len(training.profile_t))
    assert lstm.solved == events[-1][1]["models"][1]["solved"]
    assert gfl.Training.from_events(events).to_dict() == d
    with pytest.raises(gfl.ApiError) as caught:
        gfl.train(steps=0)
    assert caught.value.status == 422 and "steps" in caught.value.detail


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_progress_bar_shows_in_a_terminal_once_the_work_has_taken_a_second():
    clock, out = Clock(), io.StringIO()
    out.isatty = lambda: True
    bar = ProgressBar(100, description="training", stream=out, clock=clock)
    clock.now = 0.5
    bar.update(10)
    assert out.getvalue() == ""  # a quick call prints nothing
    clock.now = 1.2
    bar.update(40)
    assert out.getvalue().startswith("\r[") and " 40% 40/100" in out.getvalue()
    clock.now = 2.0
    bar.update(100)
    bar.close()
    assert "100% 100/100 · 2 s" in out.getvalue() and out.getvalue().endswith("\n")


def test_the_progress_bar_is_silent_off_a_terminal_or_when_disabled_and_forced_on_request():
    clock = Clock()
    for enabled, tty in ((None, False), (False, True)):
        out = io.StringIO()
        out.isatty = lambda tty=tty: tty
        bar = ProgressBar(10, stream=out, clock=clock, enabled=enabled)
        clock.now += 5
        bar.update(5)
        bar.close()
        assert out.getvalue() == "", (enabled, tty)
    out = io.StringIO()
    bar = ProgressBar(10, stream=out, clock=clock, enabled=True)
    bar.update(3)
    assert " 30% 3/10" in out.getvalue()


def test_python_dash_m_is_the_command_line():
    out = subprocess.run(
        [sys.executable, "-m", "gradient_flow_lab", "run", "--models", "lstm", "--seq-len", "5", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert '"label":"LSTM"' in out
    bad = subprocess.run(
        [sys.executable, "-m", "gradient_flow_lab", "run", "--seq-len", "0"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "seq_len" in bad.stderr


def test_from_torch_refuses_what_it_cannot_read():
    class Linear:  # not a recurrent module
        pass

    with pytest.raises(TypeError, match=r"nn\.RNN, nn\.LSTM or nn\.GRU"):
        gfl.from_torch(Linear(), np.zeros((3, 2)))
    assert math.isfinite(gfl.run(seq_len=3, include=[]).models[0].grad_norm[0])


def test_a_run_over_seeds_is_the_api_answer_with_seeds(client):
    request = {
        "models": [{"cell": "rnn", "activation": "tanh"}, {"cell": "gru"}],
        "seq_len": 12,
        "seeds": [0, 1, 2],
    }
    answer = client.post("/api/runs", json=request)
    assert answer.status_code == 200
    s = gfl.run(**request)
    assert isinstance(s, gfl.SeedsRun) and s.to_dict() == answer.json() and s.seeds == [0, 1, 2]
    np.testing.assert_array_equal(
        s.models[1].grad_norm["q50"], answer.json()["models"][1]["grad_norm"]["q50"]
    )
    assert s.models[0].summary["memory_horizon"] == answer.json()["models"][0]["summary"]["memory_horizon"]
