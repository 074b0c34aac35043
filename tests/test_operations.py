"""Operations, replayed for real: the Dockerfile's install and start commands in a fresh venv,
and the short forms of the load, fuzz and disconnect-storm scripts (their exit code says
whether every check that is not a timing passed: no errors, no 5xx, schema-valid answers,
CPU idle and no slot leaked after the storm). Their figures are in README."""

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import free_port, need

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")

pytestmark = pytest.mark.slow


def dockerfile(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in DOCKERFILE.splitlines() if line.startswith(name + " ")]


def test_the_dockerfile_install_and_start_commands_serve_the_app(tmp_path):
    """No Docker engine here: replay the image's pip commands in a fresh venv, then its CMD from
    a directory that is not the checkout, and probe /healthz, the page and one of its assets."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip_commands = [part.strip() for run in dockerfile("RUN") for part in run.split("&&")
                    if part.strip().startswith("pip install")]
    assert pip_commands, "the Dockerfile installs with pip"
    for command in pip_commands:
        argv = shlex.split(command)
        subprocess.run([str(venv / "bin" / "pip"), *argv[1:]], cwd=ROOT, check=True, timeout=900)

    (cmd,) = dockerfile("CMD")
    argv = json.loads(cmd)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GFL_")}
    env.update(GFL_HOST="127.0.0.1", GFL_PORT=str(port), PATH=f"{venv / 'bin'}:{env['PATH']}")
    work = tmp_path / "elsewhere"
    work.mkdir()
    server = subprocess.Popen([str(venv / "bin" / argv[0]), *argv[1:]], cwd=work, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(url + "/healthz", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert health.json() == {"status": "ok"}
        page = httpx.get(url + "/")
        assert page.status_code == 200 and "Gradient Flow Lab" in page.text
        asset = page.text.split('type="module" src="', 1)[1].split('"', 1)[0]
        assert httpx.get(url + asset).status_code == 200  # the page's files were installed too
        assert httpx.post(url + "/api/runs", json={"seq_len": 5}).status_code == 200
    finally:
        server.terminate()
        server.wait(20)


@pytest.mark.parametrize("script", ["bench_load.py", "fuzz_api.py", "bench_storm.py"])
def test_operations_script_short_form_passes_its_checks(script):
    if script == "fuzz_api.py":
        try:
            import schemathesis  # noqa: F401
        except ImportError as e:
            need("schemathesis", f"{e}; install the test extra")
    args = [sys.executable, str(ROOT / "benchmarks" / script), "--quick"]
    if script == "bench_load.py":
        args += ["--workers", "1", "--seconds", "3"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
