"""Security and cache headers, compression, and the Dockerfile's promises."""

import json
import re
import signal
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer
from fastapi.testclient import TestClient
from sse import parse

from gradient_flow_lab.app import logs
from gradient_flow_lab.app.main import create_app
from gradient_flow_lab.app.security import CSP
from gradient_flow_lab.app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(Settings()))


def static_prefix(client) -> str:
    match = re.search(r'src="(/static/[0-9a-f]{12})/js/main\.js"', client.get("/").text)
    assert match, "the page names its versioned asset prefix"
    return match.group(1)


REQUESTS = [
    ("GET", "/", None),
    ("GET", "/healthz", None),
    ("GET", "/api/meta", None),
    ("POST", "/api/runs", {"seq_len": 3}),
    ("POST", "/api/runs", {"seq_len": 0}),  # 422
    ("POST", "/api/runs/stream", {"seq_len": 3}),
    ("GET", "/vendor/plotly.min.js", None),
    ("GET", "/no/such/page", None),  # 404
]


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS, ids=[f"{m} {p}" for m, p, _ in REQUESTS])
def test_every_response_carries_the_security_headers(client, method, path, body):
    r = client.request(method, path, json=body)
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]  # no inline script
    assert "http" not in csp  # no external origin
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"


def test_a_refused_oversized_body_carries_the_headers_too():
    c = TestClient(create_app(Settings(body_bytes_max=100)))
    r = c.post("/api/runs", content=b"{" + b" " * 200 + b"}", headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.headers["x-content-type-options"] == "nosniff"


def test_the_api_docs_are_served_offline_under_the_same_policy(client):
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-security-policy"] == CSP
    assert not re.search(r"""(src|href)=["']https?://""", r.text)  # Swagger UI from the package
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text)  # no inline script
    for url in re.findall(r'(?:src|href)="(/[^"]+)"', r.text):
        assert client.get(url).status_code == 200, url


def test_versioned_assets_are_cached_for_a_year_and_plain_ones_revalidated(client):
    prefix = static_prefix(client)
    for path in (f"{prefix}/js/main.js", f"{prefix}/css/page.css", f"{prefix}/js/i18n.js"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/static/js/main.js").headers["cache-control"] == "no-cache"
    plotly_src = re.search(r'<script src="(/vendor/plotly-[^"]+)"', client.get("/").text).group(1)
    r = client.get(plotly_src)
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    assert r.headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize("path", ["/", "/vendor/plotly.min.js", "/api/meta"])
def test_page_javascript_and_json_are_compressed(client, path):
    r = client.get(path, headers={"accept-encoding": "gzip"})
    assert r.headers.get("content-encoding") == "gzip", path


def test_json_answers_are_compressed_up_to_a_size_and_sent_plain_beyond(client):
    r = client.post("/api/runs", json={"seq_len": 200}, headers={"accept-encoding": "gzip"})
    assert r.status_code == 200 and r.headers.get("content-encoding") == "gzip"
    big = {"seq_len": 1000, "hidden_size": 128, "include": ["hidden", "grads"]}  # ~5 MB of JSON
    r = client.post("/api/runs", json=big, headers={"accept-encoding": "gzip"})
    assert r.status_code == 200 and "content-encoding" not in r.headers
    assert len(r.content) > 2_000_000


def test_static_files_are_compressed_once_and_revalidation_still_works(client):
    first = client.get("/vendor/plotly.min.js", headers={"accept-encoding": "gzip"})
    again = client.get("/vendor/plotly.min.js", headers={"accept-encoding": "gzip"})
    assert first.content == again.content and len(first.content) > 1_000_000
    assert int(first.headers["content-length"]) < 2_000_000  # compressed on the wire
    asset = client.get("/static/js/main.js", headers={"accept-encoding": "gzip"})
    assert asset.headers["content-encoding"] == "gzip"
    r = client.get("/static/js/main.js", headers={"accept-encoding": "gzip",
                                                    "if-none-match": asset.headers["etag"]})
    assert r.status_code == 304 and not r.content


def test_event_streams_are_not_compressed(client):
    """Compressing SSE would hold frames back in the compressor's buffer."""
    with client.stream("POST", "/api/runs/stream", json={"seq_len": 200},
                       headers={"accept-encoding": "gzip"}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in r.headers


def test_no_stack_trace_reaches_a_client():
    app = create_app(Settings())

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    r = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert r.status_code == 500
    assert "secret" not in r.text and "Traceback" not in r.text
    assert r.json()["detail"]


# --- the Dockerfile (no Docker engine here: read it, and CI replays its steps) ----------------

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions(name: str) -> list[str]:
    """The arguments of every `name` instruction, continuation lines joined."""
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(name + " ")]


def test_dockerfile_base_is_pinned_to_a_version():
    (base,) = instructions("FROM")
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base), base


def test_dockerfile_runs_as_a_non_root_user():
    users = instructions("USER")
    assert users and users[-1] not in ("root", "0")


def test_dockerfile_installs_pinned_dependencies_and_has_a_healthcheck_and_a_command():
    assert any("requirements.lock" in r for r in instructions("RUN"))
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    pins = [line for line in lock if line and not line.startswith("#")]
    assert pins and all("==" in line for line in pins)
    assert instructions("EXPOSE") == ["8000"]
    (health,) = instructions("HEALTHCHECK")
    assert "/healthz" in health
    (cmd,) = instructions("CMD")
    assert "gradient-flow-lab" in cmd and "serve" in cmd


def test_dockerignore_keeps_the_image_lean():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests"} <= set(ignored)


# --- time limits and graceful shutdown --------------------------------------------------------

def test_a_run_past_its_time_limit_is_a_503_or_an_error_event_naming_the_limit():
    c = TestClient(create_app(Settings(run_seconds_max=0.0)))
    r = c.post("/api/runs", json={"seq_len": 20})
    assert r.status_code == 503 and "run_seconds_max" in r.json()["detail"]
    assert r.headers["retry-after"]
    with c.stream("POST", "/api/runs/stream", json={"seq_len": 20}) as s:
        events = parse(s.read().decode())
    assert events[0].event == "start" and events[-1].event == "error"
    assert "run_seconds_max" in events[-1].data["detail"]
    assert "done" not in [e.event for e in events]


def test_a_training_past_its_time_limit_ends_with_an_error_event():
    c = TestClient(create_app(Settings(train_seconds_max=0.0)))
    with c.stream("POST", "/api/train/stream", json={"steps": 50, "seq_len": 10, "eval_size": 50}) as s:
        events = parse(s.read().decode())
    assert events[-1].event == "error" and "train_seconds_max" in events[-1].data["detail"]


def test_sigterm_ends_running_streams_with_an_error_event_then_the_server_exits():
    server = LiveServer()
    try:
        body = {"models": [{"cell": "lstm"}] * 2, "seq_len": 2000, "hidden_size": 200, "include": ["grads"]}
        with httpx.stream("POST", server.url + "/api/runs/stream", json=body, timeout=30) as r:
            lines = r.iter_lines()
            head = [next(lines) for _ in range(8)]  # the run is under way
            server.proc.send_signal(signal.SIGTERM)
            rest = list(lines)
        events = parse("\n".join(head + rest) + "\n\n")
        assert events[0].event == "start"
        assert events[-1].event == "error", [e.event for e in events[-3:]]
        assert "shutting down" in events[-1].data["detail"]
        # uvicorn shuts down gracefully, then re-raises the signal it caught: exit by SIGTERM
        assert server.proc.wait(timeout=20) in (0, -signal.SIGTERM)
    finally:
        server.stop()


def test_access_and_error_logs_are_json_lines(caplog):
    app = create_app(Settings())

    @app.get("/boom2")
    def boom():
        raise RuntimeError("secret internals")

    c = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level("INFO", logger="gradient_flow_lab"):
        c.get("/healthz")
        c.get("/boom2")
    formatter = logs.JSONFormatter()
    lines = [json.loads(formatter.format(r)) for r in caplog.records]
    access = [x for x in lines if x["logger"] == "gradient_flow_lab.access"]
    assert {"method": "GET", "path": "/healthz", "status": 200, "complete": True}.items() <= access[0].items()
    assert access[0]["ms"] >= 0 and access[0]["bytes"] > 0
    errors = [x for x in lines if x["level"] == "ERROR"]
    assert errors and "secret internals" in errors[0]["exc"]  # the trace stays in the log


def test_a_body_that_is_not_utf8_is_a_422_naming_the_body(client):
    r = client.post("/api/runs", content=b"\xff\xfe", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"].startswith("body:")


def test_openapi_documents_json_answers_and_event_streams(client):
    paths = client.get("/openapi.json").json()["paths"]
    ok = paths["/api/runs"]["post"]["responses"]["200"]["content"]
    assert ok["application/json"]["schema"]["anyOf"] == [  # one seed, or quantiles over `seeds`
        {"$ref": "#/components/schemas/RunResultSchema"}, {"$ref": "#/components/schemas/SeedsResultSchema"}]
    for path in ("/api/runs/stream", "/api/train/stream"):
        content = paths[path]["post"]["responses"]["200"]["content"]
        assert list(content) == ["text/event-stream"], path
        assert content["text/event-stream"]["schema"]["required"] == ["event", "data", "id"]


@pytest.mark.parametrize("path", ["/api/runs", "/api/runs/stream", "/api/train/stream"])
def test_each_validation_error_is_said_once(client, path):
    r = client.post(path, json={"models": [{"cell": "rnn", "colour": 1}], "seq_len": 0})
    assert r.status_code == 422
    errors = [(tuple(e["loc"]), e["type"]) for e in r.json()["errors"]]
    assert len(errors) == len(set(errors)) == 2, errors
    assert r.json()["detail"].count("colour") == 1
