"""POST /api/runs/stream: the SSE wire format (parsed by tests/sse.py, not string-matched),
the order of events, and "the frames of a stream carry exactly the numbers of POST /api/runs
for the same request" — compared with ==, not approximately."""

from itertools import pairwise

import pytest
from contract import INCLUDE_EVERYTHING, MODELS
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sse import Event, SSEParser, loads_strict, parse

from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.settings import Settings


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(Settings()), raise_server_exceptions=False)


def stream(client: TestClient, body: dict) -> list[Event]:
    r = client.post("/api/runs/stream", json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    return parse(r.text)


def batch(client: TestClient, body: dict) -> dict:
    r = client.post("/api/runs", json=body)
    assert r.status_code == 200, r.text
    return loads_strict(r.content)


def check_order(events: list[Event], M: int, T: int) -> None:
    """start; forward t = 1..T, every model at t before t + 1; backward t = T..1 likewise;
    one summary per model; done {} last; ids strictly increasing."""
    names = [e.event for e in events]
    assert names == ["start"] + ["forward"] * (M * T) + ["backward"] * (M * T) + ["summary"] * M + ["done"]
    forward = [(e.data["t"], e.data["model"]) for e in events if e.event == "forward"]
    assert forward == [(t, i) for t in range(1, T + 1) for i in range(M)]
    backward = [(e.data["t"], e.data["model"]) for e in events if e.event == "backward"]
    assert backward == [(t, i) for t in range(T, 0, -1) for i in range(M)]
    assert sorted(e.data["model"] for e in events if e.event == "summary") == list(range(M))
    assert events[-1].data == {}
    ids = [int(e.id) for e in events]
    assert all(a < b for a, b in pairwise(ids)), ids


def unit_arrays(fw: list[dict], bw: list[dict]) -> dict:
    """One unit's arrays, in time order, from its forward and backward events."""
    fw, bw = sorted(fw, key=lambda d: d["t"]), sorted(bw, key=lambda d: d["t"])
    out = {"grad_norm": [d["grad_norm"] for d in bw]}
    for key in ("hidden", "cell_state", "preactivation"):
        if key in fw[0]:
            out[key] = [d[key] for d in fw]
    if "gates" in fw[0]:
        out["gates"] = {name: [d["gates"][name] for d in fw] for name in fw[0]["gates"]}
    for key in ("grads", "jacobian_norm", "cell_grad_norm"):
        if key in bw[0]:
            out[key] = [d[key] for d in bw]
    return out


def assemble(events: list[Event]) -> dict:
    """A RunResult rebuilt from the events of a stream alone: each unit's arrays from its
    frames (which name their layer and direction), the series from the summary event."""
    start = events[0].data
    models = [dict(label) for label in start["models"]]
    frames = {}  # (model, layer, direction, event) -> data
    for e in events:
        if e.event in ("forward", "backward"):
            d = e.data
            frames.setdefault((d["model"], d["layer"], d["direction"], e.event), []).append(d)
    for e in events:
        if e.event != "summary":
            continue
        s = e.data
        m = models[s["model"]]
        m.update(loss=s["loss"], summary=s["summary"], param_grad_norm=s["param_grad_norm"])
        m.update({k: s[k] for k in ("bound", "sign_uniform", "params") if k in s})
        layers = []
        for series in s["layers"]:
            key = (s["model"], series["layer"], series["direction"])
            unit = {"layer": series["layer"], "direction": series["direction"],
                    **unit_arrays(frames[(*key, "forward")], frames[(*key, "backward")])}
            for k, v in series.items():  # the summary event repeats the per-t norms
                if k in unit:
                    assert unit[k] == v, k
                else:
                    unit[k] = v
            layers.append(unit)
        top = next(u for u in layers if u["layer"] == m["num_layers"] and u["direction"] == "forward")
        m.update({k: v for k, v in top.items() if k not in ("layer", "direction", "summary")})
        for k in ("grad_norm", "jacobian_norm", "cell_grad_norm"):
            if k in s:
                assert s[k] == m[k], k
        m["layers"] = layers
    result = {"config": start["config"], "models": models}
    result.update({k: start[k] for k in ("inputs", "targets") if k in start})
    return result


def check_stream_equals_batch(client: TestClient, body: dict) -> tuple[list[Event], dict]:
    events = stream(client, body)
    result = batch(client, body)
    config = result["config"]
    check_order(events, len(config["models"]), config["seq_len"])
    rebuilt = assemble(events)
    assert rebuilt["config"] == result["config"]
    for got, want in zip(rebuilt["models"], result["models"], strict=True):
        assert set(got) == set(want)
        for key in want:  # one key at a time, for a readable failure
            assert got[key] == want[key], f"{want['label']}: {key} differs between stream and batch"
    assert rebuilt == result
    return events, result


# --- the parser itself (WHATWG examples) ---------------------------------------------------

def test_parser_fields_comments_and_multiline_data():
    text = (": a comment\n"
            "event: forward\nid: 7\ndata: {\"a\":\ndata: 1}\n\n"
            "data:{\"b\": 2}\n\n"  # no space after the colon; default event; the id persists
            "event: x\n\n"  # no data: not dispatched
            "id: 9\nevent: done\ndata: {}\nretry: 100\nunknown: field\n\n"
            "data: {\"lost\": true}\n")  # not terminated by a blank line: discarded
    assert parse(text) == [Event("forward", "7", {"a": 1}), Event("message", "7", {"b": 2}),
                           Event("done", "9", {})]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_parser_line_endings(newline):
    text = newline.join(["event: start", "id: 0", "data: [1,", "data: 2]", "", "data: 3", "", ""])
    assert parse("\ufeff" + text) == [Event("start", "0", [1, 2]), Event("message", "0", 3)]


def test_parser_incremental_with_split_crlf():
    text = "event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n"
    for cut in range(1, len(text)):
        parser = SSEParser()
        events = parser.feed(text[:cut]) + parser.feed(text[cut:])
        assert events == [Event("a", None, 1), Event("b", None, 2)], cut


def test_parser_rejects_nan():
    with pytest.raises(ValueError):
        parse("data: [NaN]\n\n")


# --- stream equals batch -------------------------------------------------------------------

SMALL = {"seq_len": 9, "hidden_size": 4, "input_size": 3, "output_size": 2, "batch_size": 2,
         "init": {"bias_std": 0.3}, "input": {"kind": "sine"}}


@pytest.mark.parametrize("loss_at", ["last", "all"])
@pytest.mark.parametrize("key", list(MODELS))
def test_stream_equals_batch_per_cell(client, key, loss_at):
    body = {**SMALL, "models": [MODELS[key]], "loss": {"at": loss_at}, "include": INCLUDE_EVERYTHING}
    check_stream_equals_batch(client, body)


@pytest.mark.parametrize("key", ["rnn-relu", "lstm", "gru"])
def test_stacked_and_bidirectional_stream_equals_batch(client, key):
    """Frames name their layer and direction; the units' arrays rebuilt from them equal the
    answer's `layers`, and the top level is the top layer's forward direction."""
    models = [{**MODELS[key], "num_layers": 2, "bidirectional": True}, {**MODELS[key], "num_layers": 3}]
    body = {**SMALL, "models": models, "loss": {"at": "all"}, "include": INCLUDE_EVERYTHING}
    events = stream(client, body)
    result = batch(client, body)
    assert assemble(events) == result
    two, three = result["models"]
    assert [(u["layer"], u["direction"]) for u in two["layers"]] == [
        (1, "forward"), (1, "backward"), (2, "forward"), (2, "backward")]
    assert [(u["layer"], u["direction"]) for u in three["layers"]] == [(1, "forward"), (2, "forward"),
                                                                        (3, "forward")]
    assert two["grad_norm"] == two["layers"][2]["grad_norm"] and two["num_layers"] == 2
    assert {e.data["direction"] for e in events if e.event == "forward"} == {"forward", "backward"}


@pytest.mark.parametrize("loss_at", ["last", "all"])
def test_stream_equals_batch_all_cells_interleaved(client, loss_at):
    body = {**SMALL, "models": list(MODELS.values()), "loss": {"at": loss_at},
            "include": INCLUDE_EVERYTHING}
    check_stream_equals_batch(client, body)


KINDS = {
    "gaussian": {"input": {"kind": "gaussian"}, "seq_len": 6, "batch_size": 3},
    "sine": {"input": {"kind": "sine"}, "seq_len": 6},
    "impulse": {"input": {"kind": "impulse"}, "seq_len": 6,
                "init": {"scheme": "orthogonal", "sigma_max": 1.0}},
    "adding": {"input": {"kind": "adding"}, "seq_len": 6, "batch_size": 4},
    "values": {"input": {"kind": "values", "values": [[1, 0], [0, 1], [0.5, -0.5], [0, 0], [2, 2]]}},
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_stream_equals_batch_every_input_kind(client, kind):
    body = {**KINDS[kind], "models": list(MODELS.values()), "hidden_size": 3, "include": INCLUDE_EVERYTHING}
    _, result = check_stream_equals_batch(client, body)
    assert result["config"]["input"]["kind"] == kind


def test_stream_with_default_request(client):
    events, _ = check_stream_equals_batch(client, {})
    assert len(events) == 1 + 2 * 3 * 50 + 3 + 1


def test_stream_with_only_grad_norm(client):
    """With include [] the frames still carry t and grad_norm, and the summary its numbers."""
    body = {**SMALL, "models": list(MODELS.values()), "include": []}
    events, _ = check_stream_equals_batch(client, body)
    forward = [e.data for e in events if e.event == "forward"]
    assert all(set(d) == {"model", "t", "layer", "direction"} for d in forward)


# --- an exploding run through the stream ----------------------------------------------------

EXPLODING = {"models": [{"cell": "rnn", "activation": "relu"}], "seq_len": 1000,
             "init": {"scheme": "orthogonal", "sigma_max": 5.0}, "include": ["hidden", "grads"]}


def test_exploding_stream_has_nulls_and_overflow_step(client):
    r = client.post("/api/runs/stream", json=EXPLODING)
    assert r.status_code == 200
    assert "NaN" not in r.text and "Infinity" not in r.text
    events = parse(r.text)  # the parser refuses NaN and Infinity in any event's data
    check_order(events, 1, 1000)
    (summary,) = [e.data for e in events if e.event == "summary"]
    step = summary["summary"]["overflow_step"]
    assert isinstance(step, int) and 1 <= step <= 1000
    assert summary["summary"]["overflow_phase"] == "forward"
    assert any(e.data["grad_norm"] is None for e in events if e.event == "backward")
    hidden = {e.data["t"]: e.data["hidden"] for e in events if e.event == "forward"}
    assert None in hidden[step]
    if step > 1:
        assert None not in hidden[step - 1]


def test_exploding_stream_equals_batch(client):
    check_stream_equals_batch(client, {**EXPLODING, "seq_len": 700,
                                       "include": ["hidden", "grads", "jacobian", "params"]})


# --- property: stream equals batch, same seed same numbers --------------------------------------

request = st.fixed_dictionaries({
    "models": st.lists(st.sampled_from(list(MODELS.values())), min_size=1, max_size=3),
    "seq_len": st.integers(2, 12),
    "hidden_size": st.integers(1, 6),
    "batch_size": st.integers(1, 3),
    "input": st.fixed_dictionaries({"kind": st.sampled_from(["gaussian", "sine", "impulse", "adding"])}),
    "init": st.fixed_dictionaries({
        "scheme": st.sampled_from(["xavier", "orthogonal", "normal", "identity"]),
        "sigma_max": st.none() | st.floats(0.25, 4.0),
        "bias_std": st.sampled_from([0.0, 0.3]),
    }),
    "loss": st.fixed_dictionaries({"at": st.sampled_from(["last", "all"])}),
    "seed": st.integers(0, 2**32),
    "include": st.lists(st.sampled_from(INCLUDE_EVERYTHING), unique=True),
})


@settings(max_examples=25, deadline=None)
@given(body=request)
def test_property_stream_equals_batch(client, body):
    check_stream_equals_batch(client, body)


@settings(max_examples=10, deadline=None)
@given(body=request)
def test_property_same_seed_same_stream(client, body):
    first = client.post("/api/runs/stream", json=body)
    second = client.post("/api/runs/stream", json=body)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
