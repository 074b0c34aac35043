"""gfl.Client against a real server (uvicorn on a loopback port): the same Run as gfl.run, stream
events equal to the in-process numbers, a stream left early closes its connection, a training's
events, a weights upload, and every refusal as ApiError with the API's status and detail."""

import httpx
import numpy as np
import pytest
from test_package import server_only

import gradient_flow_lab as gfl

REQUEST = {
    "models": [{"cell": "rnn", "activation": "tanh"}, {"cell": "lstm", "num_layers": 2}],
    "seq_len": 20,
    "include": ["hidden", "grads", "jacobian"],
}


@pytest.fixture(scope="module")
def lab(live_server):
    with gfl.Client(live_server.url) as client:
        yield client


def test_a_remote_run_is_the_local_run(lab):
    remote = lab.run(**REQUEST)
    assert remote.to_dict() == gfl.run(**REQUEST).to_dict()
    assert remote.models[1].layers[0].grad_norm.shape == (20,)


def test_a_stream_carries_the_numbers_of_the_run(lab):
    events = list(lab.stream(**REQUEST))
    assert [e.event for e in events][-1] == "done" and events[0].event in ("start", "queued")
    run = gfl.run(**REQUEST)
    for event, data in events:  # (event, data) pairs
        if event == "backward" and data["layer"] == run.models[data["model"]].num_layers:
            m = run.models[data["model"]]
            assert data["grad_norm"] == m.grad_norm[data["t"] - 1]
    summaries = [d for e, d in events if e == "summary"]
    assert [s["summary"] for s in summaries] == [m.summary for m in run.models]


def test_leaving_a_stream_early_closes_its_connection(live_server):
    responses = []
    http = httpx.Client(event_hooks={"response": [responses.append]}, timeout=30)
    with gfl.Client(live_server.url, http=http) as lab:
        stream = lab.stream(models=[{"cell": "lstm"}], seq_len=1500, hidden_size=64, include=["hidden"])
        for event, _ in stream:
            if event == "forward":
                break
        assert not responses[0].is_closed  # the generator still holds it
        stream.close()  # what the loop's end leaves to the garbage collector, done at once
        assert responses[0].is_closed
        for event, _ in lab.stream(
            models=[{"cell": "lstm"}], seq_len=1500, hidden_size=64, include=["hidden"]
        ):
            if event == "forward":
                break  # the loop held the only reference: the generator is collected and closed
        assert responses[1].is_closed
        assert lab.run(seq_len=5).T == 5  # the client goes on
    http.close()


def test_a_training_stream_reads_into_a_training(lab):
    fields = {
        "models": [{"cell": "gru"}],
        "task": "adding",
        "seq_len": 6,
        "hidden_size": 4,
        "batch_size": 4,
        "steps": 20,
        "eval_every": 10,
        "eval_size": 20,
    }
    remote = gfl.Training.from_events((e, server_only(e, d)) for e, d in lab.train(**fields))
    assert remote.to_dict() == gfl.train(progress=False, **fields).to_dict()
    assert remote.models[0].step[-1] == 20


def test_refusals_are_api_errors_with_status_and_detail(lab, tmp_path):
    with pytest.raises(gfl.ApiError) as caught:
        lab.run(seq_len=0)
    assert caught.value.status == 422 and caught.value.detail.startswith("seq_len")
    with pytest.raises(gfl.ApiError) as caught:
        list(lab.stream(hidden_size=10**6))
    assert caught.value.status == 422 and "hidden_size" in caught.value.detail
    pickle = tmp_path / "model.pt"
    pickle.write_bytes(b"\x80\x04not a safetensors file")
    with pytest.raises(gfl.ApiError) as caught:
        lab.upload_weights(pickle)
    assert caught.value.status == 415 and "safetensors" in caught.value.detail
    with pytest.raises(gfl.ApiError) as caught:
        lab.weights("sha256:" + "0" * 64)
    assert caught.value.status == 404


def test_uploaded_weights_run_remotely_as_from_torch_runs_here(lab, tmp_path, torch):
    from safetensors.torch import save_file

    torch.manual_seed(3)
    rnn = torch.nn.GRU(3, 5, dtype=torch.float64)
    head = torch.nn.Linear(5, 2, dtype=torch.float64)
    path = tmp_path / "model.safetensors"
    save_file(
        {**rnn.state_dict(), "head.weight": head.weight.detach(), "head.bias": head.bias.detach()}, path
    )
    info = lab.upload_weights(path)
    assert info["cell"] == "gru" and info["head"] == {"output_size": 2}
    x = np.random.default_rng(0).standard_normal((7, 3))
    remote = lab.run(
        models=[{"weights": info["id"]}],
        input={"kind": "values", "values": x},
        include=["hidden", "grads", "jacobian", "cell_state", "gates"],
    )
    local = gfl.from_torch(rnn, x, head=head)
    np.testing.assert_array_equal(remote.models[0].grad_norm, local.models[0].grad_norm)
    np.testing.assert_array_equal(remote.models[0].hidden, local.models[0].hidden)
    assert remote.models[0].loss == local.models[0].loss


def test_a_sweep_is_posted_then_its_events_followed(lab):
    if "/api/sweeps" not in lab.http.get(lab.base_url + "/openapi.json").json()["paths"]:
        pytest.skip("this server has no POST /api/sweeps yet")
    sweep = lab.sweep(
        kind="run",
        base={"models": [{"cell": "rnn", "activation": "tanh"}], "seq_len": 10},
        grid={"init.sigma_max": [0.5, 2.0]},
        seeds=[0],
    )
    assert sweep.id.startswith("sha256:")
    events = list(sweep)
    assert events[-1].event == "done"
    assert len([e for e in events if e.event == "result"]) == 2


def test_a_remote_run_over_seeds_is_the_local_one(lab):
    request = {"models": [{"cell": "lstm"}], "seq_len": 10, "seeds": [3, 4]}
    remote = lab.run(**request)
    assert isinstance(remote, gfl.SeedsRun) and remote.to_dict() == gfl.run(**request).to_dict()
