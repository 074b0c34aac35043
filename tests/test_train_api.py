"""POST /api/train/stream: the events of a training (parsed by tests/sse.py), their numbers
against the core's frames, every task, input validation (a 4xx naming the field, never a
5xx), the concurrency limit, and — against a real uvicorn process — that a client which
disconnects stops the training."""

import math
import os
import threading
import time
import tracemalloc
from itertools import pairwise

import httpx
import pytest
from conftest import LiveServer
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from sse import Event, SSEParser, parse

from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.resolve import resolve_train
from gradient_flow_lab.app.schemas import TrainRequest
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.core.cells import make_cell
from gradient_flow_lab.core.run import ModelSpec
from gradient_flow_lab.core.tasks import Task
from gradient_flow_lab.core.train import Evaluation, Progress, TrainDone, TrainSpec, train, train_memory_bytes

URL = "/api/train/stream"
SHORT = {"models": [{"cell": "gru"}, {"cell": "rnn", "activation": "tanh"}], "task": "temporal_order",
         "seq_len": 12, "steps": 20, "eval_every": 10, "eval_size": 50}
SHORT_SPEC = TrainSpec(models=(ModelSpec("gru"), ModelSpec("rnn", "tanh")), task="temporal_order",
                       seq_len=12, steps=20, eval_every=10, eval_size=50)


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(Settings()), raise_server_exceptions=False)


def stream(client: TestClient, body) -> list[Event]:
    r = client.post(URL, json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    return parse(r.text)


def by_name(events: list[Event], name: str) -> list[dict]:
    return [e.data for e in events if e.event == name]


@pytest.fixture(scope="module")
def short_events(client) -> list[Event]:
    return stream(client, SHORT)


def test_start_has_the_config_with_defaults_filled_the_models_and_the_baseline(short_events):
    first = short_events[0]
    assert first.event == "start"
    start = first.data
    assert start["config"] == {
        "models": [{"cell": "gru", "activation": None}, {"cell": "rnn", "activation": "tanh"}],
        "task": "temporal_order", "seq_len": 12, "hidden_size": 32, "batch_size": 64,
        "optimizer": {"name": "adam", "lr": 0.01, "momentum": 0.0}, "clip": 1.0,
        "steps": 20, "eval_every": 10, "eval_size": 50, "seed": 0,
        "init": {"scheme": "xavier", "std": 0.1, "sigma_max": None, "forget_bias": 1.0, "bias_std": 0.0},
    }
    assert start["models"] == [{"label": "GRU", "cell": "gru", "activation": None},
                               {"label": "RNN (tanh)", "cell": "rnn", "activation": "tanh"}]
    assert start["baseline"] == pytest.approx(math.log(4), rel=1e-15)
    assert (start["metric"], start["metric_baseline"]) == ("accuracy", 0.25)
    assert start["progress_every"] == 1
    assert start["profile_t"] == list(range(1, 13))


def test_a_short_training_streams_progress_and_evaluations_then_done(short_events):
    names = [e.event for e in short_events]
    expected = ["start"]
    for step in range(1, 21):
        expected += ["progress"] * 2 + (["eval"] * 2 if step % 10 == 0 else [])
    assert names == [*expected, "done"]
    ids = [int(e.id) for e in short_events]
    assert ids == list(range(len(short_events)))
    assert all(a < b for a, b in pairwise(ids))

    profile_len = len(short_events[0].data["profile_t"])
    progress = by_name(short_events, "progress")
    assert [(p["step"], p["model"]) for p in progress] == [(s, i) for s in range(1, 21) for i in range(2)]
    for p in progress:
        assert isinstance(p["loss"], float) and p["loss"] > 0
        assert len(p["grad_norm"]) == profile_len
        assert all(isinstance(g, float) and g >= 0 for g in p["grad_norm"])
        assert isinstance(p["grad_norm_total"], float) and p["grad_norm_total"] > 0
        assert isinstance(p["clipped"], bool)
        assert p["clipped"] == (p["grad_norm_total"] > 1.0)

    evals = by_name(short_events, "eval")
    assert [(e["step"], e["model"]) for e in evals] == [(10, 0), (10, 1), (20, 0), (20, 1)]
    for e in evals:
        assert (e["metric"], e["baseline"]) == ("accuracy", 0.25)
        assert 0.0 <= e["value"] <= 1.0

    (done,) = by_name(short_events, "done")
    assert [m["label"] for m in done["models"]] == ["GRU", "RNN (tanh)"]
    for i, m in enumerate(done["models"]):
        assert {"label", "metric", "value", "baseline", "solved"} <= set(m)
        assert (m["metric"], m["baseline"]) == ("accuracy", 0.25)
        assert m["value"] == evals[2 + i]["value"]
        assert m["solved"] is (m["value"] > 0.99)


def test_the_streams_numbers_are_the_cores(short_events):
    """Exactly (==): orjson writes floats in their shortest round-trip form."""
    frames = list(train(SHORT_SPEC))
    progress = [f for f in frames if isinstance(f, Progress)]
    evals = [f for f in frames if isinstance(f, Evaluation)]
    assert [(p["model"], p["step"], p["loss"], p["grad_norm"], p["grad_norm_total"], p["clipped"])
            for p in by_name(short_events, "progress")] == [
        (f.model, f.step, f.loss, f.grad_norm.tolist(), f.grad_norm_total, f.clipped) for f in progress]
    assert [(e["model"], e["step"], e["value"]) for e in by_name(short_events, "eval")] == [
        (f.model, f.step, f.value) for f in evals]
    done = frames[-1]
    assert isinstance(done, TrainDone)
    assert [(m["value"], m["solved"]) for m in by_name(short_events, "done")[0]["models"]] == [
        (m.value, m.solved) for m in done.models]


@pytest.mark.parametrize(("task", "metric"), [("adding", "mse"), ("copy", "accuracy"),
                                              ("temporal_order", "accuracy")])
def test_every_task_trains(client, task, metric):
    body = {"models": [{"cell": "lstm"}, {"cell": "rnn", "activation": "sigmoid"}], "task": task,
            "seq_len": 10, "hidden_size": 8, "batch_size": 4, "steps": 3, "eval_every": 2, "eval_size": 20}
    events = stream(client, body)
    assert events[0].event == "start" and events[-1].event == "done"
    start = events[0].data
    t = Task(task, 10)
    assert start["baseline"] == pytest.approx(t.loss_baseline, rel=1e-15)
    assert (start["metric"], start["metric_baseline"]) == (metric, t.metric_baseline)
    assert start["sequence_length"] == t.length
    assert len(start["profile_t"]) == t.length
    assert [(e["model"], e["step"]) for e in by_name(events, "eval")] == [(0, 2), (1, 2), (0, 3), (1, 3)]
    assert len(by_name(events, "progress")) == 6
    assert all(e["metric"] == metric for e in by_name(events, "eval"))
    for m in by_name(events, "done")[0]["models"]:
        assert m["metric"] == metric and m["baseline"] == t.metric_baseline
        assert m["solved"] is t.solved(m["value"])
    assert [m["label"] for m in start["models"]] == [make_cell("lstm").label, "RNN (sigmoid)"]


def test_a_diverging_training_is_a_stream_with_nulls_not_an_error(client):
    """SGD at lr = 10 without clipping sends the weights to ±inf and NaN; the numbers travel as
    null, the stream still ends with done, and nothing is solved."""
    body = {"models": [{"cell": "rnn", "activation": "relu"}], "task": "adding", "seq_len": 30,
            "optimizer": {"name": "sgd", "lr": 10}, "clip": None, "steps": 4, "eval_every": 2,
            "eval_size": 10, "init": {"scheme": "orthogonal", "sigma_max": 3.0}}
    events = stream(client, body)  # parse() refuses NaN and Infinity in the JSON
    assert events[-1].event == "done"
    assert by_name(events, "progress")[-1]["loss"] is None
    assert by_name(events, "done")[0]["models"][0]["solved"] is False


def test_progress_is_thinned_for_long_trainings(client):
    body = {"models": [{"cell": "rnn", "activation": "tanh"}], "seq_len": 2, "hidden_size": 1,
            "batch_size": 1, "steps": 2002, "eval_every": 5000, "eval_size": 1}
    events = stream(client, body)
    assert events[0].data["progress_every"] == 3
    assert [p["step"] for p in by_name(events, "progress")] == [*range(3, 2002, 3), 2002]


def test_long_sequences_have_a_downsampled_profile(client):
    body = {"models": [{"cell": "gru"}], "task": "copy", "seq_len": 300, "hidden_size": 2,
            "batch_size": 1, "steps": 2, "eval_size": 1}
    events = stream(client, body)
    profile_t = events[0].data["profile_t"]
    assert events[0].data["sequence_length"] == 320
    assert len(profile_t) <= 200 and profile_t[0] == 1 and profile_t[-1] == 320
    assert all(len(p["grad_norm"]) == len(profile_t) for p in by_name(events, "progress"))


# --- bad input --------------------------------------------------------------------------------

BAD_INPUT = [  # (body, substrings the detail must contain)
    ({"task": "parity"}, ["task"]),
    ({"optimizer": {"name": "rmsprop"}}, ["optimizer.name"]),
    ({"optimizer": {"lr": -0.1}}, ["optimizer.lr"]),
    ({"optimizer": {"lr": 0}}, ["optimizer.lr"]),
    ({"optimizer": {"name": "adam", "momentum": 0.9}}, ["optimizer.momentum"]),
    ({"optimizer": {"name": "sgd", "momentum": 1.0}}, ["optimizer.momentum"]),
    ({"clip": 0}, ["clip"]),
    ({"clip": -1.0}, ["clip"]),
    ({"steps": 20_001}, ["steps", "20000", "steps_max"]),
    ({"steps": 0}, ["steps"]),
    ({"eval_every": 0}, ["eval_every"]),
    ({"eval_size": 5001}, ["eval_size", "5000", "eval_size_max"]),
    ({"seq_len": 2001}, ["seq_len", "2000", "seq_len_max"]),
    ({"hidden_size": 257}, ["hidden_size", "256", "hidden_size_max"]),
    ({"batch_size": 257}, ["batch_size", "256", "batch_size_max"]),
    ({"models": [{"cell": "lstm", "activation": "tanh"}]}, ["models.0.activation"]),
    ({"models": [{"cell": "gru"}, {"cell": "rnn", "activation": "softsign"}]}, ["models.1.activation"]),
    ({"models": [{"cell": "gru"}] * 9}, ["models", "models_max"]),
    ({"models": []}, ["models"]),
    ({"task": "temporal_order", "seq_len": 9}, ["seq_len", "temporal_order"]),
    ({"task": "adding", "seq_len": 1}, ["seq_len"]),
    ({"seed": -1}, ["seed"]),
    ({"epochs": 3}, ["epochs"]),
    (b'{"optimizer": {"lr": NaN}}', ["optimizer.lr"]),
    (b'{"clip": Infinity}', ["clip"]),
    (b'{"steps": 10,', ["JSON decode error"]),  # malformed: no field to name
]


@pytest.mark.parametrize(("body", "substrings"), BAD_INPUT, ids=[str(b)[:48] for b, _ in BAD_INPUT])
def test_bad_input_is_a_4xx_naming_the_field(client, body, substrings):
    if isinstance(body, bytes):
        r = client.post(URL, content=body, headers={"content-type": "application/json"})
    else:
        r = client.post(URL, json=body)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert isinstance(detail, str)
    for s in substrings:
        assert s in detail, (s, detail)


def test_a_training_over_the_work_budget_is_refused_naming_the_limit():
    client = TestClient(create_app(Settings(train_work_units_max=1e6)), raise_server_exceptions=False)
    r = client.post(URL, json={"steps": 10})
    assert r.status_code == 422, r.text
    assert "train_work_units_max" in r.json()["detail"]
    small = {"models": [{"cell": "rnn"}], "seq_len": 2, "hidden_size": 1, "batch_size": 1, "steps": 1,
             "eval_size": 1}
    assert client.post(URL, json=small).status_code == 200  # within the budget


def test_no_training_slot_is_503_with_retry_after():
    client = TestClient(create_app(Settings(max_concurrent_trainings=0, retry_after_seconds=7)),
                        raise_server_exceptions=False)
    r = client.post(URL, json=SHORT)
    assert r.status_code == 503
    assert r.headers["retry-after"] == "7"
    assert "max_concurrent_trainings" in r.json()["detail"]


def test_the_training_slot_comes_back_after_a_stream():
    client = TestClient(create_app(Settings(max_concurrent_trainings=1)), raise_server_exceptions=False)
    for _ in range(3):
        assert client.post(URL, json={**SHORT, "steps": 2}).status_code == 200


MEMORY_MAX = 4e9  # bytes one training may need: two run side by side on a small server


def peak_bytes(spec: TrainSpec) -> int:
    """The peak of the memory numpy and Python allocate during a training (tracemalloc)."""
    tracemalloc.start()
    try:
        for _ in train(spec):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_held_out_evaluation_memory_does_not_grow_with_eval_size():
    """The held-out set is evaluated chunk by chunk, forward only: eight times the sequences
    must not need eight times the memory (measured: a chunk's worth, whatever eval_size)."""
    small = {"models": (ModelSpec("rnn", "tanh"),), "task": "adding", "seq_len": 100, "hidden_size": 16,
             "batch_size": 1, "steps": 1, "eval_every": 1}
    two_chunks = peak_bytes(TrainSpec(**small, eval_size=500))
    sixteen_chunks = peak_bytes(TrainSpec(**small, eval_size=4000))
    assert sixteen_chunks < 1.25 * two_chunks, (two_chunks, sixteen_chunks)


def test_the_limits_bound_the_memory_of_a_training():
    """A training whose sweep alone would need tens of GB is refused before it starts, naming
    memory_bytes_max, and the estimate of an accepted one is within the limit."""
    settings = Settings()
    huge = TrainRequest(models=[{"cell": "lstm"}], seq_len=2000, hidden_size=256, batch_size=256, steps=1)
    with pytest.raises(RequestValidationError) as e:
        resolve_train(huge, settings)
    assert "memory_bytes_max" in str(e.value.errors())
    spec, _ = resolve_train(TrainRequest(), settings)
    assert train_memory_bytes(spec) < min(settings.memory_bytes_max, MEMORY_MAX)



# --- a real server: a client that disconnects stops the training ------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of proc(5)


@pytest.fixture(scope="module")
def one_slot_server():
    server = LiveServer(env={"GFL_MAX_CONCURRENT_TRAININGS": "1", "GFL_QUEUE_SECONDS": "0"})  # no line
    yield server
    server.stop()


def test_disconnecting_stops_the_training(one_slot_server):
    """The default training (4 models, 1500 steps: minutes of work). While it streams, the one
    training slot is taken and the server computes; after the client closes the stream, the
    server's CPU time stops growing and the slot comes back."""
    url, pid = one_slot_server.url, one_slot_server.proc.pid
    with httpx.Client(timeout=60) as client:
        with client.stream("POST", url + URL, json={}) as r:
            assert r.status_code == 200
            parser, progress = SSEParser(), 0
            before, deadline = cpu_seconds(pid), time.monotonic() + 1.0
            # keep the iterator referenced: a dropped one is closed at once, and closing it
            # closes the response, which is the disconnect this test makes later, on purpose
            chunks = r.iter_text()
            for text in chunks:
                progress += sum(e.event == "progress" for e in parser.feed(text))
                if time.monotonic() > deadline and progress > 0:
                    break
            busy = cpu_seconds(pid) - before
            assert progress > 0
            assert busy > 0.1, f"the server used {busy:.2f} s of CPU while training: not measuring"
            second = httpx.post(url + URL, json=SHORT, timeout=30)  # the only slot is taken
            assert second.status_code == 503
            assert int(second.headers["retry-after"]) > 0
    time.sleep(0.5)  # the batch in progress (≤ 20 ms of compute) finishes
    settled = cpu_seconds(pid)
    time.sleep(1.5)
    grown = cpu_seconds(pid) - settled
    assert grown < 0.2, f"the server used {grown:.2f} s of CPU in the 1.5 s after the client left"
    end = time.monotonic() + 5
    while (r := httpx.post(url + URL, json={**SHORT, "steps": 2}, timeout=30)).status_code == 503:
        assert time.monotonic() < end, "the training slot did not come back"
        time.sleep(0.05)
    assert r.status_code == 200
    assert parse(r.text)[-1].event == "done"


def test_clients_that_retry_after_a_503_all_get_the_slot_in_turn(one_slot_server):
    """The limit counts trainings in progress, not requests ever made: three clients that retry
    on 503 all train, one after another."""
    url = one_slot_server.url
    results: list[int] = []

    def worker():
        end = time.monotonic() + 20
        while True:
            r = httpx.post(url + URL, json={**SHORT, "steps": 3}, timeout=30)
            if r.status_code != 503 or time.monotonic() > end:
                results.append(r.status_code)
                return
            time.sleep(0.05)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [200, 200, 200]
