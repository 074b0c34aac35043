"""POST /api/runs with `seeds`: the run at each seed, answered with the 10/50/90 % quantiles of
every model's ‖∂L/∂h_t‖ and each seed's summary — compared with the same runs asked for one
seed at a time; its limits (2–16 distinct seeds, the work budget times the seeds, not on the
stream) as 422s that name the field; its place in the OpenAPI schema."""

import numpy as np
import pytest
from fastapi.testclient import TestClient

from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.settings import Settings

BODY = {
    "models": [{"cell": "rnn", "activation": "tanh"}, {"cell": "lstm"}, {"cell": "gru"}],
    "seq_len": 30,
    "hidden_size": 8,
    "input": {"kind": "impulse"},
    "include": [],
}


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(Settings()), raise_server_exceptions=False)


def as_array(values):
    return np.array([np.inf if v is None else v for v in values], dtype=float)


def test_quantiles_are_those_of_the_runs_one_seed_at_a_time(client):
    seeds = [3, 0, 7, 11, 5]
    r = client.post("/api/runs", json={**BODY, "seeds": seeds})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["seeds"] == seeds and body["config"]["seeds"] == seeds and "seed" not in body["config"]
    singles = [client.post("/api/runs", json={**BODY, "seed": s}).json() for s in seeds]
    assert [m["label"] for m in body["models"]] == [m["label"] for m in singles[0]["models"]]
    for i, m in enumerate(body["models"]):
        g = np.stack([as_array(run["models"][i]["grad_norm"]) for run in singles])  # [seeds, T]
        for name, q in (("q10", 0.1), ("q50", 0.5), ("q90", 0.9)):
            assert len(m["grad_norm"][name]) == 30
            np.testing.assert_allclose(as_array(m["grad_norm"][name]), np.quantile(g, q, axis=0), rtol=1e-12)
        for key in ("memory_horizon", "log10_grad_ratio", "overflow_step", "sigma_max"):
            assert m["summary"][key] == [run["models"][i]["summary"][key] for run in singles], key
        assert m["loss"] == [run["models"][i]["loss"] for run in singles]
    q = body["models"][0]["grad_norm"]
    assert all(a <= b <= c for a, b, c in zip(q["q10"], q["q50"], q["q90"], strict=True))


def test_seeds_of_an_exploding_run_are_nulls_not_an_error(client):
    body = {
        "models": [{"cell": "rnn", "activation": "relu"}],
        "seq_len": 1000,
        "init": {"scheme": "orthogonal", "sigma_max": 5.0},
        "seeds": [0, 1],
    }
    r = client.post("/api/runs", json=body)
    assert r.status_code == 200, r.text
    m = r.json()["models"][0]
    assert None in m["grad_norm"]["q90"]
    assert all(step is not None for step in m["summary"]["overflow_step"])


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"seeds": [0]}, "at least 2"),
        ({"seeds": list(range(17))}, "at most 16"),
        ({"seeds": [1, 2, 1]}, "distinct"),
        ({"seeds": [0, -1]}, "greater than or equal to 0"),
        ({"seeds": [0, 2**53]}, "less than or equal to"),
        ({"seeds": [0, 1.5]}, "valid integer"),
        ({"seeds": [0, 1], "seed": 3}, "not both"),
        ({"seeds": [0, 1], "seq_len": 2000, "hidden_size": 256}, "work_units_max"),
    ],
)
def test_bad_seeds_are_422s_naming_the_field(client, extra, words):
    r = client.post("/api/runs", json={**BODY, **extra})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "seeds" in detail and words in detail, detail


def test_the_work_budget_is_multiplied_by_the_seeds():
    """A run that fits once does not fit sixteen times."""
    body = {**BODY, "seq_len": 400, "hidden_size": 64}
    c = TestClient(create_app(Settings(work_units_max=4e8)), raise_server_exceptions=False)
    assert c.post("/api/runs", json={**body, "seeds": [0, 1]}).status_code == 200
    r = c.post("/api/runs", json={**body, "seeds": list(range(16))})
    assert r.status_code == 422 and "16 seeds" in r.json()["detail"]


def test_the_stream_runs_one_seed(client):
    r = client.post("/api/runs/stream", json={**BODY, "seeds": [0, 1]})
    assert r.status_code == 422
    assert "seeds" in r.json()["detail"] and "POST /api/runs only" in r.json()["detail"]


def test_a_run_without_seeds_is_as_before(client):
    config = client.post("/api/runs", json=BODY).json()["config"]
    assert "seeds" not in config and config["seed"] == 0


def test_seeds_are_in_the_openapi_schema(client):
    schema = client.get("/openapi.json").json()
    seeds = schema["components"]["schemas"]["RunRequest"]["properties"]["seeds"]
    text = str(seeds)
    assert "'minItems': 2" in text and "'maxItems': 16" in text
    ok = schema["paths"]["/api/runs"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "SeedsResultSchema" in str(ok) and "RunResultSchema" in str(ok)
    assert "SeedsModelSchema" in schema["components"]["schemas"]
