"""Sweeps (POST /api/sweeps, app/sweeps.py) on the embedded Dask cluster, through TestClient.

One app with its embedded LocalCluster (two worker processes) serves the module; the tests that
need another app instance — a restart on the same store, tighter limits, PostgreSQL — point it
at that cluster's scheduler (GFL_DASK_SCHEDULER), so the module starts one cluster.
"""

import hashlib
import json
import time

import numpy as np
import pytest
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from sse import SSEParser

from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.app.store import Store
from gradient_flow_lab.app.sweep_presets import PRESETS
from gradient_flow_lab.app.sweep_schemas import SweepRequest
from gradient_flow_lab.app.sweeps import STOPPED, plan_sweep
from gradient_flow_lab.core.sweep_points import RUN_METRICS, TRAIN_METRICS, decay_rate

RUN_SWEEP = {
    "kind": "run",
    "base": {
        "seq_len": 40,
        "hidden_size": 8,
        "include": [],
        "models": [{"cell": "rnn", "activation": "tanh"}, {"cell": "lstm"}],
    },
    "grid": {"init.sigma_max": [0.5, 2.0], "input.kind": ["gaussian", "impulse"]},
    "seeds": [0, 3],
}
TRAIN_SWEEP = {
    "kind": "train",
    "base": {
        "task": "temporal_order",
        "models": [{"cell": "rnn", "activation": "tanh"}, {"cell": "gru"}],
        "hidden_size": 8,
        "batch_size": 8,
        "steps": 12,
        "eval_every": 5,
        "eval_size": 16,
    },
    "grid": {"seq_len": [10, 12]},
    "seeds": [1],
}
# a training whose points each take about a minute: only ever cancelled
LONG_TRAIN = {
    "kind": "train",
    "base": {
        "task": "adding",
        "models": [{"cell": "lstm"}],
        "seq_len": 400,
        "hidden_size": 64,
        "batch_size": 32,
        "steps": 500,
        "eval_every": 500,
        "eval_size": 10,
    },
    "grid": {"optimizer.lr": [0.01, 0.02, 0.03]},
    "seeds": [0],
}


def settings_for(tmp_path, **overrides) -> Settings:
    return Settings(data_dir=str(tmp_path), sweep_heartbeat_seconds=0.2, **overrides)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The module's app (embedded cluster of 2 processes, started by the first sweep) and its
    data directory."""
    data = tmp_path_factory.mktemp("sweeps")
    app = create_app(settings_for(data, sweep_workers=2))
    with TestClient(app) as client:
        client.data_dir = data
        client.app_state = app.state
        yield client


@pytest.fixture(scope="module")
def scheduler(lab) -> str:
    """The address of the module's cluster (started by a first, tiny sweep if need be)."""
    return lab.app_state.sweeps.client().scheduler.address


def events(client, id_: str) -> list:
    """Every event of a sweep's stream, to its end."""
    parser, out = SSEParser(), []
    with client.stream("GET", f"/api/sweeps/{id_}/events") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for text in r.iter_text():
            out += parser.feed(text)
    return out


def finished(client, id_: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        body = client.get(f"/api/sweeps/{id_}").json()
        if body["status"] not in ("queued", "running"):
            return body
        assert time.monotonic() < deadline, body["status"]
        time.sleep(0.1)


def canonical_id(body: dict, base: dict) -> str:
    """The documented id: sha256 of {kind, base (defaults filled, no seed), grid, seeds}, JSON
    with sorted keys, no spaces and integral numbers as integers."""
    def integral(x):
        if isinstance(x, float) and x.is_integer():
            return int(x)
        if isinstance(x, dict):
            return {k: integral(v) for k, v in x.items()}
        return [integral(v) for v in x] if isinstance(x, list) else x

    request = {"kind": body["kind"], "base": base, "grid": body["grid"], "seeds": body["seeds"]}
    text = json.dumps(integral(request), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def test_a_value_written_as_a_float_or_an_integer_is_the_same_sweep(lab):
    as_float = {**RUN_SWEEP, "grid": {**RUN_SWEEP["grid"], "init.sigma_max": [1.0, 2.0]}}
    as_int = {**RUN_SWEEP, "grid": {**RUN_SWEEP["grid"], "init.sigma_max": [1, 2]}}
    plan = [lab.post("/api/sweeps/plan", json=body).json() for body in (as_float, as_int)]
    assert plan[0]["id"] == plan[1]["id"]


def test_a_run_sweep_gives_the_single_run_api_numbers(lab):
    r = lab.post("/api/sweeps", json=RUN_SWEEP)
    assert r.status_code == 201, r.text
    status = r.json()
    assert status["total"] == 8 and status["status"] in ("queued", "running", "done")
    body = finished(lab, status["id"])
    assert body["status"] == "done" and body["done"] == 8 and body["errors"] == 0
    assert len(body["results"]) == 16  # 8 points × 2 models
    assert canonical_id(RUN_SWEEP, body["request"]["base"]) == status["id"]
    for result in body["results"]:
        request = {
            **RUN_SWEEP["base"],
            "seed": result["seed"],
            "include": ["grads"],
            "init": {"sigma_max": result["point"]["init.sigma_max"]},
            "input": {"kind": result["point"]["input.kind"]},
        }
        single = lab.post("/api/runs", json=request).json()["models"][result["model"]]
        assert result["label"] == single["label"]
        m = result["metrics"]
        assert set(m) == set(RUN_METRICS)
        assert m["loss"] == single["loss"]
        for name in ("log10_grad_ratio", "memory_horizon", "sigma_max", "overflow_step"):
            assert m[name] == single["summary"][name], name
        assert m["decay_rate"] == decay_rate(np.array(single["grad_norm"]))
    # the measurement says what the theory says: σ_max 0.5 vanishes faster than 2 (tanh)
    tanh = {
        (r["point"]["init.sigma_max"], r["point"]["input.kind"], r["seed"]): r["metrics"]["decay_rate"]
        for r in body["results"]
        if r["model"] == 0
    }
    assert all(tanh[(0.5, k, s)] < tanh[(2.0, k, s)] for k in ("gaussian", "impulse") for s in (0, 3))


def test_a_sweep_over_uploaded_weights_gives_the_single_run_api_numbers(lab):
    """A model from an uploaded file (a 2-layer bidirectional GRU with a head, PyTorch's names)
    swept over T and the input: its points carry the file's parameters to the workers."""
    from safetensors.numpy import save

    rng = np.random.default_rng(5)
    D, H, O = 3, 5, 2
    arrays = {}
    for k in range(2):
        for s in ("", "_reverse"):
            arrays[f"weight_ih_l{k}{s}"] = 0.5 * rng.standard_normal((3 * H, D if k == 0 else 2 * H))
            arrays[f"weight_hh_l{k}{s}"] = 0.5 * rng.standard_normal((3 * H, H))
            arrays[f"bias_ih_l{k}{s}"] = 0.1 * rng.standard_normal(3 * H)
            arrays[f"bias_hh_l{k}{s}"] = 0.1 * rng.standard_normal(3 * H)
    arrays |= {"fc.weight": rng.standard_normal((O, 2 * H)), "fc.bias": rng.standard_normal(O)}
    uploaded = lab.post("/api/weights", files={"file": ("gru.safetensors", save(arrays))})
    assert uploaded.status_code == 201, uploaded.text
    weights = uploaded.json()["id"]
    base = {"include": [], "models": [{"weights": weights}, {"cell": "lstm"}], "hidden_size": H}
    body = {"kind": "run", "base": base, "grid": {"seq_len": [12, 30], "input.kind": ["gaussian", "impulse"]},
            "seeds": [0, 1]}
    r = lab.post("/api/sweeps", json=body)
    assert r.status_code == 201, r.text
    done = finished(lab, r.json()["id"])
    assert done["status"] == "done" and done["errors"] == 0 and len(done["results"]) == 16
    for result in done["results"]:
        single = lab.post("/api/runs", json={**base, "seed": result["seed"], "include": ["grads"],
                                             "seq_len": result["point"]["seq_len"],
                                             "input": {"kind": result["point"]["input.kind"]}})
        assert single.status_code == 200, single.text
        one = single.json()["models"][result["model"]]
        m = result["metrics"]
        assert result["label"] == one["label"] and m["loss"] == one["loss"]
        for name in ("log10_grad_ratio", "memory_horizon", "sigma_max", "overflow_step"):
            assert m[name] == one["summary"][name], name
        assert m["decay_rate"] == decay_rate(np.array(one["grad_norm"]))
    # and a file the store does not hold names the model's field
    gone = {**body, "base": {**base, "models": [{"weights": "sha256:" + "0" * 64}]}}
    r = lab.post("/api/sweeps", json=gone)
    assert r.status_code == 422 and "weights" in r.text and "upload the file again" in r.text


def test_the_same_sweep_is_answered_from_the_store(lab):
    first = lab.post("/api/sweeps", json=RUN_SWEEP)
    id_ = first.json()["id"]
    finished(lab, id_)
    again = lab.post("/api/sweeps", json=RUN_SWEEP)
    assert again.status_code == 200
    assert again.json() == {
        "id": id_,
        "kind": "run",
        "status": "done",
        "total": 8,
        "done": 8,
        "errors": 0,
        "detail": None,
    }
    # the defaults written out, the grid's paths in another order: the same sweep
    explicit = {
        **RUN_SWEEP,
        "grid": dict(reversed(list(RUN_SWEEP["grid"].items()))),
        "base": {**RUN_SWEEP["base"], "batch_size": 1, "loss": {"at": "last"}, "seed": 7},
    }
    assert lab.post("/api/sweeps", json=explicit).json()["id"] == id_
    other = lab.post("/api/sweeps", json={**RUN_SWEEP, "seeds": [0, 4]})
    assert other.status_code == 201 and other.json()["id"] != id_
    finished(lab, other.json()["id"])


def test_a_plan_gives_the_size_and_an_estimate_without_computing(lab):
    body = {**RUN_SWEEP, "grid": {"seq_len": [10, 20, 5000]}, "seeds": [40, 41]}
    plan = lab.post("/api/sweeps/plan", json=body)
    assert plan.status_code == 200, plan.text
    p = plan.json()
    assert (p["total"], p["valid"], p["models"], p["kind"]) == (6, 4, 2, "run")
    assert [e["point"] for e in p["point_errors"]] == [{"seq_len": 5000}] * 2
    assert p["workers"] == 2 and p["compute_seconds"] > p["longest_point_seconds"] > 0
    assert p["estimated_seconds"] == max(p["longest_point_seconds"], p["compute_seconds"] / 2)
    assert lab.get(f"/api/sweeps/{p['id']}").status_code == 404  # nothing started
    assert lab.post("/api/sweeps/plan", json={**body, "grid": {}}).status_code == 422
    started = lab.post("/api/sweeps", json=body).json()
    assert started["id"] == p["id"] and started["total"] == 6
    finished(lab, p["id"])


def test_a_late_client_gets_what_is_finished_then_done(lab):
    id_ = lab.post("/api/sweeps", json=RUN_SWEEP).json()["id"]
    finished(lab, id_)
    evs = events(lab, id_)
    names = [e.event for e in evs]
    assert names[0] == "start" and names[-1] == "done" and names.count("result") == 8
    assert "progress" in names
    assert [int(e.id) for e in evs] == list(range(len(evs)))
    start = evs[0].data
    assert start["id"] == id_ and start["request"]["grid"] == RUN_SWEEP["grid"]
    results = [r for e in evs if e.event == "result" for r in e.data["results"]]
    assert sorted(json.dumps(r, sort_keys=True) for r in results) == sorted(
        json.dumps(r, sort_keys=True) for r in lab.get(f"/api/sweeps/{id_}").json()["results"]
    )
    last = [e.data for e in evs if e.event == "progress"][-1]
    assert last["done"] == last["total"] == 8 and last["eta_seconds"] == 0.0
    assert evs[-1].data["status"] == "done"


def test_a_client_follows_a_sweep_live_and_leaving_does_not_stop_it(lab):
    body = {**TRAIN_SWEEP, "seeds": [5, 6]}
    id_ = lab.post("/api/sweeps", json=body).json()["id"]
    parser = SSEParser()
    with lab.stream("GET", f"/api/sweeps/{id_}/events") as r:  # read the start, then go
        chunks = r.iter_text()
        while not parser.feed(next(chunks)):
            pass
    evs = events(lab, id_)  # a second client, from the start to the end
    assert [e.event for e in evs][-1] == "done"
    assert sum(e.event == "result" for e in evs) == 4


def test_a_train_sweep_gives_the_training_api_numbers(lab):
    r = lab.post("/api/sweeps", json=TRAIN_SWEEP)
    assert r.status_code == 201, r.text
    body = finished(lab, r.json()["id"])
    assert body["status"] == "done" and len(body["results"]) == 4
    for result in body["results"]:
        assert set(result["metrics"]) == set(TRAIN_METRICS)
        request = {**TRAIN_SWEEP["base"], "seq_len": result["point"]["seq_len"], "seed": result["seed"]}
        stream = []
        parser = SSEParser()
        with lab.stream("POST", "/api/train/stream", json=request) as s:
            for text in s.iter_text():
                stream += parser.feed(text)
        i = result["model"]
        done = stream[-1].data["models"][i]
        progress = [e.data for e in stream if e.event == "progress" and e.data["model"] == i]
        evals = [e.data for e in stream if e.event == "eval" and e.data["model"] == i]
        m = result["metrics"]
        assert m["final_metric"] == done["value"] and m["solved"] == done["solved"]
        assert (
            m["final_loss"] == progress[-1]["loss"] and progress[-1]["step"] == TRAIN_SWEEP["base"]["steps"]
        )
        solved_at = [e["step"] for e in evals if e["value"] > 0.99]
        assert m["steps_to_solve"] == (solved_at[0] if solved_at else None)
        assert result["baseline"] == {"final_loss": pytest.approx(np.log(4)), "final_metric": 0.25}


BAD = [
    ({"grid": {"init.sigmamax": [1]}}, "grid.init.sigmamax: unknown field of a RunRequest"),
    ({"grid": {}}, "grid: give at least one dotted path"),
    ({"grid": {"seq_len": []}}, "grid.seq_len: needs at least one value"),
    ({"grid": {"seq_len": [10, 10]}}, "grid.seq_len: has a value twice"),
    ({"grid": {"seed": [1, 2]}}, "grid.seed: unknown field of a RunRequest (vary the seed with"),
    ({"grid": {"models.cell": ["rnn"]}}, "grid.models.cell: unknown field"),
    ({"seeds": [1, 1]}, "seeds: has a seed twice"),
    ({"seeds": []}, "seeds: List should have at least 1 item"),
    ({"seeds": [-1]}, "seeds.0: Input should be greater than or equal to 0"),
    ({"kind": "walk"}, "kind: Input should be 'run' or 'train'"),
    ({"base": {"seq_len": "long"}}, "base.seq_len: Input should be a valid integer"),
    ({"grid": {"seq_len": list(range(1, 2002))}}, "over the limit sweep_points_max = 2000"),
    (
        {"grid": {"seq_len": [5000, 6000]}},
        "grid: no point of the sweep can be computed; the first: seq_len: "
        "must be at most 2000 (limit seq_len_max)",
    ),
]


@pytest.mark.parametrize(("change", "detail"), BAD)
def test_bad_sweeps_are_422_naming_the_field(lab, change, detail):
    r = lab.post("/api/sweeps", json={**RUN_SWEEP, **change})
    assert r.status_code == 422, r.text
    assert detail in r.json()["detail"]


def test_a_sweep_over_its_work_budget_is_422():
    req = SweepRequest.model_validate(RUN_SWEEP)
    assert plan_sweep(req, Settings()).total == 8
    with pytest.raises(RequestValidationError) as e:
        plan_sweep(req, Settings(sweep_work_units_max=1e7))
    assert "over the limit sweep_work_units_max = 1e+07" in str(e.value.errors())


def test_a_point_made_invalid_by_the_grid_is_an_error_and_the_rest_compute(lab):
    body = {**RUN_SWEEP, "grid": {"seq_len": [10, 5000], "init.sigma_max": [1.0, -1.0]}, "seeds": [0]}
    r = lab.post("/api/sweeps", json=body)
    assert r.status_code == 201, r.text
    result = finished(lab, r.json()["id"])
    assert result["status"] == "done" and result["done"] == 4 and result["errors"] == 3
    errors = {
        (e["point"]["seq_len"], e["point"]["init.sigma_max"]): e["error"] for e in result["point_errors"]
    }
    assert "seq_len: must be at most 2000 (limit seq_len_max), got 5000" in errors[(5000, 1.0)]
    assert "init.sigma_max: Input should be greater than 0" in errors[(10, -1.0)]
    assert {(r["point"]["seq_len"], r["point"]["init.sigma_max"]) for r in result["results"]} == {(10, 1.0)}


def test_an_exploding_point_is_a_result_with_nulls_flagged(lab):
    body = {
        "kind": "run",
        "base": {
            "models": [{"cell": "rnn", "activation": "relu"}],
            "seq_len": 600,
            "init": {"scheme": "orthogonal"},
            "include": [],
        },
        "grid": {"init.sigma_max": [50.0]},
        "seeds": [0],
    }
    result = finished(lab, lab.post("/api/sweeps", json=body).json()["id"])["results"][0]
    assert result["metrics"]["overflow_step"] is not None
    assert result["nonfinite"] and all(result["metrics"][k] is None for k in result["nonfinite"])


def test_unknown_and_malformed_ids(lab):
    unknown = "sha256:" + "0" * 64
    for method, path in (("GET", ""), ("GET", "/events"), ("DELETE", "")):
        r = lab.request(method, f"/api/sweeps/{unknown}{path}")
        assert r.status_code == 404 and "no sweep" in r.json()["detail"]
    assert lab.get("/api/sweeps/sha256:xyz").status_code == 422


def computing(observer) -> int:
    """Tasks running in the workers' threads now (a cancelled task's thread runs on until the
    task returns: the scheduler's view would not show it)."""
    return sum(observer.run(lambda dask_worker: len(dask_worker.active_threads)).values())


def test_cancel_stops_computing_points_within_a_second_and_resubmitting_resumes(lab, scheduler):
    from distributed import Client

    observer = Client(scheduler, set_as_default=False)
    try:
        id_ = lab.post("/api/sweeps", json=LONG_TRAIN).json()["id"]
        deadline = time.monotonic() + 60
        while computing(observer) < 2:  # both workers computing a point
            assert time.monotonic() < deadline
            time.sleep(0.05)
        asked = time.monotonic()
        r = lab.delete(f"/api/sweeps/{id_}")
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        while computing(observer):
            assert time.monotonic() - asked < 3.0, "points still compute after the cancel"
            time.sleep(0.02)
        stopped = time.monotonic() - asked
        body = lab.get(f"/api/sweeps/{id_}").json()
        assert body["status"] == "cancelled" and body["results"] == []
        evs = events(lab, id_)
        assert evs[-1].event == "error" and evs[-1].data["status"] == "cancelled"
        # resubmitted: computing again, then cancelled again
        again = lab.post("/api/sweeps", json=LONG_TRAIN)
        assert again.status_code == 200 and again.json()["status"] in ("queued", "running")
        assert lab.delete(f"/api/sweeps/{id_}").json()["status"] == "cancelled"
        while computing(observer):
            assert time.monotonic() - asked < 60
            time.sleep(0.05)
    finally:
        observer.close()
    assert stopped < 3.0


def test_a_restart_fails_the_unfinished_and_a_resubmission_computes_only_the_missing(
    lab, scheduler, tmp_path
):
    settings = settings_for(tmp_path, dask_scheduler=scheduler)
    body = {**RUN_SWEEP, "seeds": [11]}
    with TestClient(create_app(settings)) as first:
        id_ = first.post("/api/sweeps", json=body).json()["id"]
        done = finished(first, id_)
    assert done["status"] == "done"
    # a server that crashed mid-way: two points missing, the row left running, untouched
    store = Store.open(settings)
    kept = {p["index"]: seq for seq, p in store.sweep_points(id_)}
    with store.connect() as conn:
        for index in (1, 2):
            store._execute(conn, "DELETE FROM sweep_points WHERE sweep_id = %s AND idx = %s", (id_, index))
        store._execute(
            conn, "UPDATE sweeps SET status = 'running', updated = %s WHERE id = %s", (time.time() - 60, id_)
        )
    with TestClient(create_app(settings)) as second:
        assert store.sweep(id_)["status"] == "failed"  # at the start, before anything asks
        failed = second.get(f"/api/sweeps/{id_}").json()
        assert failed["status"] == "failed" and failed["detail"] == STOPPED and failed["done"] == 2
        again = second.post("/api/sweeps", json=body)
        assert again.status_code == 200
        result = finished(second, id_)
    assert result["status"] == "done" and result["done"] == 4
    now = {p["index"]: seq for seq, p in store.sweep_points(id_)}
    assert all(now[i] == kept[i] for i in (0, 3))  # not computed again
    assert min(now[1], now[2]) > max(kept[0], kept[3])  # computed after them


def test_a_server_that_stops_fails_its_sweeps_and_a_restart_resumes_them(lab, scheduler, tmp_path):
    settings = settings_for(tmp_path, dask_scheduler=scheduler)
    with TestClient(create_app(settings)) as first:
        id_ = first.post("/api/sweeps", json=LONG_TRAIN).json()["id"]
        while first.get(f"/api/sweeps/{id_}").json()["status"] == "queued":
            time.sleep(0.05)
    with TestClient(create_app(settings)) as second:
        row = second.get(f"/api/sweeps/{id_}").json()
        assert row["status"] == "failed" and row["detail"] == STOPPED
        assert second.post("/api/sweeps", json=LONG_TRAIN).json()["status"] in ("queued", "running")
        assert second.delete(f"/api/sweeps/{id_}").json()["status"] == "cancelled"


def test_too_many_sweeps_at_once_is_503(lab, scheduler, tmp_path):
    with TestClient(
        create_app(settings_for(tmp_path, dask_scheduler=scheduler, max_concurrent_sweeps=1))
    ) as c:
        id_ = c.post("/api/sweeps", json=LONG_TRAIN).json()["id"]
        r = c.post("/api/sweeps", json=RUN_SWEEP)
        assert r.status_code == 503 and "max_concurrent_sweeps" in r.json()["detail"]
        assert r.headers["retry-after"] == "2"
        assert c.post("/api/sweeps", json=LONG_TRAIN).status_code == 200  # the same: followed
        c.delete(f"/api/sweeps/{id_}")


def test_sweeps_on_postgresql(lab, scheduler, tmp_path, postgres_url):
    settings = settings_for(tmp_path, dask_scheduler=scheduler, database_url=postgres_url)
    with TestClient(create_app(settings)) as c:
        r = c.post("/api/sweeps", json=TRAIN_SWEEP)
        assert r.status_code == 201
        body = finished(c, r.json()["id"])
        assert body["status"] == "done" and len(body["results"]) == 4
        assert [e.event for e in events(c, body["id"])].count("result") == 2
    with TestClient(create_app(settings)) as c:  # another server on the same database
        again = c.post("/api/sweeps", json=TRAIN_SWEEP)
        assert again.status_code == 200 and again.json()["status"] == "done"
        assert c.get(f"/api/sweeps/{body['id']}").json()["results"] == body["results"]
        assert c.get("/api/sweeps").json()[0]["id"] == body["id"]


def test_meta_reports_the_sweeps(lab):
    meta = lab.get("/api/meta").json()
    limits = meta["limits"]
    assert (limits["sweep_points_max"], limits["max_concurrent_sweeps"]) == (2000, 2)
    assert meta["sweeps"]["metrics"] == {"run": list(RUN_METRICS), "train": list(TRAIN_METRICS)}
    assert "init.sigma_max" in meta["sweeps"]["paths"]["run"] and "seed" not in meta["sweeps"]["paths"]["run"]
    assert {t["name"]: t["metric_baseline"] for t in meta["tasks"]} == {
        "adding": pytest.approx(1 / 6),
        "copy": 0.125,
        "temporal_order": 0.25,
    }
    assert meta["sweeps"]["presets"] == PRESETS


@pytest.mark.parametrize("name", list(PRESETS))
def test_the_presets_are_valid_sweeps_within_the_limits(name):
    plan = plan_sweep(SweepRequest.model_validate(PRESETS[name]), Settings())
    assert all(p.error is None for p in plan.points)
    assert plan.total <= Settings().sweep_points_max


# --- the store's side, on both databases ----------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path) -> Store:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else ""
    return Store.open(Settings(data_dir=str(tmp_path), database_url=url))


def test_the_store_keeps_sweeps_and_numbers_points_in_the_order_they_finish(store):
    id_ = "sha256:" + "1" * 64
    assert store.create_sweep(id_, "run", {"kind": "run", "note": "한국어"}, 3)
    assert not store.create_sweep(id_, "run", {}, 3)  # there already: the first stays
    row = store.sweep(id_)
    assert (row["status"], row["total"], row["done"], row["errors"]) == ("queued", 3, 0, 0)
    assert row["request"] == {"kind": "run", "note": "한국어"}
    store.put_sweep_points(
        id_, [(2, b'{"index": 2, "error": null}', False), (0, '{"index": 0, "error": "x"}', True)]
    )
    store.put_sweep_points(id_, [(2, b'{"index": 2, "again": true}', False)])  # kept already: stays
    assert [(seq, p["index"]) for seq, p in store.sweep_points(id_)] == [(1, 2), (2, 0)]
    assert store.sweep_points(id_, after=1) == [(2, {"index": 0, "error": "x"})]
    assert store.sweep_indices(id_) == {0, 2}
    assert (store.sweep(id_)["done"], store.sweep(id_)["errors"]) == (2, 1)
    assert store.set_sweep_status(id_, "running", restarted=True, only_if=("queued",))
    assert store.sweep(id_)["resumed_from"] == 2
    assert not store.set_sweep_status(id_, "failed", only_if=("queued",))  # not from running
    assert store.sweeps(10)[0]["id"] == id_


def test_a_stopped_server_s_sweeps_are_failed_and_bad_rows_are_never_served(store):
    id_, other = "sha256:" + "2" * 64, "sha256:" + "3" * 64
    store.create_sweep(id_, "run", {}, 2)
    store.create_sweep(other, "run", {}, 2)
    time.sleep(0.05)
    alive = time.time()
    store.touch_sweeps([other])  # the heartbeat of the server computing it
    assert store.fail_stale_sweeps(alive - 0.01, "stopped") == [id_]
    assert store.sweep(other)["status"] == "queued"
    assert store.sweep(id_)["status"] == "failed" and store.sweep(id_)["detail"] == "stopped"
    # a point row and a request that do not parse: logged, dropped, not served
    store.put_sweep_points(other, [(0, b"{not json", False), (1, b'{"index": 1, "error": null}', False)])
    assert [p["index"] for _, p in store.sweep_points(other)] == [1]
    assert store.sweep_indices(other) == {1}  # a resubmission computes point 0 again
    with store.connect() as conn:
        store._execute(conn, "UPDATE sweeps SET request = %s WHERE id = %s", ("[1, 2", other))
    assert store.sweep(other) is None and store.sweep_points(other) == []
