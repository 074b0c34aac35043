"""Sweeps on a real, separate Dask cluster: a scheduler and two workers started by the test as
processes (`dask scheduler`, `dask worker` from the project's venv, where gradient_flow_lab is
installed: the scheduler unpickles the task graphs and the workers run the points), the app
pointed at it by GFL_DASK_SCHEDULER — the commands and environment of deploy/docker-compose.yml's
dask-scheduler and dask-worker services, run without Docker — and the command line
(`gradient-flow-lab sweep --scheduler`)."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import need
from fastapi.testclient import TestClient

from gradient_flow_lab.app.cli import main as cli
from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.app.sweep_schemas import SweepRequest
from gradient_flow_lab.app.sweep_tasks import compute_point
from gradient_flow_lab.app.sweeps import plan_sweep

BIN = Path(sys.executable).parent
SWEEP = {
    "kind": "run",
    "base": {
        "seq_len": 60,
        "hidden_size": 16,
        "include": ["jacobian"],
        "models": [{"cell": "rnn", "activation": "tanh"}, {"cell": "gru"}],
    },
    "grid": {"init.sigma_max": [0.5, 1.0, 1.5, 2.0], "hidden_size": [8, 16]},
    "seeds": [0, 1],
}


COMPOSE = Path(__file__).resolve().parent.parent / "deploy" / "docker-compose.yml"


def compose_services() -> dict:
    import yaml

    return yaml.safe_load(COMPOSE.read_text())["services"]


class DaskCluster:
    """The Dask cluster of deploy/docker-compose.yml, without Docker: its dask-scheduler
    service's command on a free loopback port, and `workers` × its dask-worker service's command
    (one thread each), with the services' environment, from the project's venv."""

    def __init__(self, workers: int = 2):
        dask = BIN / "dask"
        if not dask.exists():
            need("dask", f"{dask} is missing; pip install -e . (dask[distributed] is a dependency)")
        services = compose_services()
        self.dir = Path(tempfile.mkdtemp(prefix="gfl-dask-"))
        file = self.dir / "scheduler.json"
        common = {"cwd": self.dir, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}

        def command(service: str, **replace) -> list:
            args = [replace.get(a, a) for a in services[service]["command"]]
            assert args[0] == "dask", args
            return [dask, *args[1:]]

        def env(service: str) -> dict:
            return {**os.environ, **{k: str(v) for k, v in services[service].get("environment", {}).items()}}

        scheduler = command("dask-scheduler", **{"8786": "0"})
        self.procs = [subprocess.Popen([*scheduler, "--host", "127.0.0.1", "--scheduler-file", file],
                                       env=env("dask-scheduler"), **common)]
        deadline = time.monotonic() + 60
        while not (file.exists() and file.stat().st_size):
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        self.address = json.loads(file.read_text())["address"]
        at = {"tcp://dask-scheduler:8786": self.address, "/tmp/dask": str(self.dir)}
        worker = command("dask-worker", **at)
        for i in range(workers):
            self.procs.append(subprocess.Popen([*worker, "--host", "127.0.0.1", "--name", f"gfl-test-{i}"],
                                               env=env("dask-worker"), **common))
        from distributed import Client

        with Client(self.address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=90)

    def stop(self):
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def cluster():
    c = DaskCluster(2)
    yield c
    c.stop()


@pytest.fixture(scope="module")
def lab(cluster, tmp_path_factory):
    settings = Settings(data_dir=str(tmp_path_factory.mktemp("cluster")), dask_scheduler=cluster.address)
    with TestClient(create_app(settings)) as client:
        yield client


def finished(client, id_: str) -> dict:
    deadline = time.monotonic() + 120
    while (body := client.get(f"/api/sweeps/{id_}").json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return body


def test_the_compose_files_app_finds_its_scheduler():
    """What the cluster fixture cannot run from deploy/docker-compose.yml: the app's services
    name the scheduler's service and port, and the workers run the app's image."""
    services = compose_services()
    scheduler = services["dask-scheduler"]["command"]
    port = scheduler[scheduler.index("--port") + 1]
    assert services["app"]["environment"]["GFL_DASK_SCHEDULER"] == f"tcp://dask-scheduler:{port}"
    assert f"tcp://dask-scheduler:{port}" in services["dask-worker"]["command"]
    images = {services[name]["image"] for name in ("app", "dask-scheduler", "dask-worker")}
    assert images == {"gradient-flow-lab"}
    assert all(services[n]["build"] == ".." for n in ("app", "dask-scheduler", "dask-worker"))


def test_points_run_on_both_workers_with_the_numbers_of_the_core(cluster, lab):
    from distributed import Client, get_task_stream

    with (
        Client(cluster.address, set_as_default=False) as observer,
        get_task_stream(client=observer) as stream,
    ):
        r = lab.post("/api/sweeps", json=SWEEP)
        assert r.status_code == 201, r.text
        body = finished(lab, r.json()["id"])
    assert body["status"] == "done" and body["done"] == 16 and len(body["results"]) == 32
    workers = {task["worker"] for task in stream.data if task["key"].startswith("gfl-")}
    assert len(workers) == 2, "the points are spread over both workers"
    # the same points computed here, in this process, by the function the workers ran
    plan = plan_sweep(SweepRequest.model_validate(SWEEP), Settings())
    by_index = {}
    for result in body["results"]:
        by_index.setdefault(result["index"], []).append(result)
    for point in plan.points:
        local = compute_point("run", point.spec, plan.seconds)["results"]
        remote = sorted(by_index[point.index], key=lambda r: r["model"])
        assert [r["metrics"] for r in remote] == [m["metrics"] for m in local]
        assert [r["label"] for r in remote] == [m["label"] for m in local]
        assert remote[0]["point"] == point.values and remote[0]["seed"] == point.seed


def test_a_train_sweep_on_the_cluster_matches_the_single_training(lab):
    body = {
        "kind": "train",
        "base": {
            "task": "adding",
            "models": [{"cell": "lstm"}],
            "seq_len": 8,
            "hidden_size": 8,
            "batch_size": 8,
            "steps": 10,
            "eval_every": 5,
            "eval_size": 20,
        },
        "grid": {"optimizer.lr": [0.01, 0.1]},
        "seeds": [2],
    }
    result = finished(lab, lab.post("/api/sweeps", json=body).json()["id"])
    assert result["status"] == "done" and len(result["results"]) == 2
    for r in result["results"]:
        request = {**body["base"], "optimizer": {"lr": r["point"]["optimizer.lr"]}, "seed": 2}
        with lab.stream("POST", "/api/train/stream", json=request) as s:
            text = s.read().decode()
        done = json.loads(text.rsplit("event: done\ndata: ", 1)[1].split("\n", 1)[0])["models"][0]
        assert r["metrics"]["final_metric"] == done["value"] and r["metrics"]["solved"] == done["solved"]


def test_the_command_line_sweeps_on_the_cluster(cluster, lab, tmp_path, monkeypatch, capsys):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({**SWEEP, "seeds": [5]}))
    monkeypatch.setenv("GFL_DATA_DIR", str(tmp_path / "data"))
    assert cli(["sweep", str(spec), "--scheduler", cluster.address, "--json"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["status"] == "done" and doc["total"] == 8 and len(doc["results"]) == 16
    assert "8/8 points" in err and "done" in err
    # the same sweep through the API (another store) gives the same numbers
    api = finished(lab, lab.post("/api/sweeps", json={**SWEEP, "seeds": [5]}).json()["id"])
    assert api["id"] == doc["id"]
    key = lambda r: (r["index"], r["model"])  # noqa: E731
    assert sorted(api["results"], key=key) == sorted(doc["results"], key=key)
    # asked again: answered from the store; the table form
    assert cli(["sweep", str(spec), "--scheduler", cluster.address]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith(f"sweep {doc['id']}: done, 8/8 points") and out.count("RNN (tanh):") == 8


def test_the_command_line_refuses_a_bad_spec_in_words(tmp_path, capsys):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({**SWEEP, "grid": {"init.sigmamax": [1]}}))
    assert cli(["sweep", str(spec)]) == 2
    assert "grid.init.sigmamax: unknown field of a RunRequest" in capsys.readouterr().err
    assert cli(["sweep", str(tmp_path / "missing.json")]) == 2
    assert "missing.json" in capsys.readouterr().err
