"""Shared fixtures. With CI=true (or GFL_STRICT=1) a missing PyTorch or Chromium fails the
tests that need them instead of skipping them."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
STRICT = os.environ.get("CI", "").lower() in ("1", "true", "yes") or os.environ.get("GFL_STRICT") == "1"


def need(what: str, why: str):
    """Skip locally, fail in CI, when a test's dependency is missing."""
    message = f"{what} is not available: {why}"
    if STRICT:
        pytest.fail(message + " (CI=true: this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def torch():
    try:
        import torch as torch_module
    except ImportError as e:
        need("PyTorch", f"{e}; install the test extra (pip install -e '.[test]')")
    torch_module.set_default_dtype(torch_module.float64)
    return torch_module


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("GFL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        need("Debian's chromium", "apt-get install -y chromium (make test does this)")
    return path


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of the test session's own (tests/postgres.py)."""
    from postgres import PostgresServer, binaries

    bin_dir = binaries()
    if bin_dir is None:
        need("PostgreSQL", "apt-get install -y postgresql (make test does this)")
    server = PostgresServer(bin_dir, free_port())
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the session's server, for one test."""
    import psycopg

    name = f"gfl_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return postgres_server.url.rsplit("/", 1)[0] + "/" + name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving app.main:app in a subprocess on a free loopback port."""

    def __init__(self, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, "GFL_LOG_LEVEL": "warning",  # no access log noise
                    "GFL_DATA_DIR": tempfile.mkdtemp(prefix="gfl-data-"), **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "gradient_flow_lab.app.main:app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=full_env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the test server did not start")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def live_server():
    server = LiveServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# --- the browser (tests/test_browser*.py) ---------------------------------------------------


@pytest.fixture(scope="module")
def browser(chromium_path):
    """Debian's Chromium, headless, through Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        need("Playwright", f"{e}; install the test extra: pip install -e '.[test]'")
    from browser_helpers import CHROMIUM_ARGS

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def context(browser):
    context = browser.new_context(accept_downloads=True)
    yield context
    context.close()


@pytest.fixture
def page(context):
    """An offline 1280×800 page; fails the test on any failed request or console error
    (except those a test allows in `page.allowed_console`)."""
    from browser_helpers import offline_page

    page, rec = offline_page(context)
    page.rec = rec
    yield page
    problems = rec.problems(allow_console=getattr(page, "allowed_console", ()))
    page.close()
    assert not problems, problems


# --- the order of the files, for `make test`'s processes (pytest-xdist, --dist loadfile) ------

# The longest files first (seconds summed per file in a run of the whole suite), so that the
# processes finish together rather than one waiting on the last long file; the others follow
# in their usual order. Only the order changes, never what runs.
LONGEST_FIRST = [
    "test_browser_a11y", "test_browser_rough_edges", "test_browser_learn", "test_browser_compare",
    "test_operations", "test_browser_lessons", "test_browser_i18n_explore", "test_browser_loose_ends",
    "test_browser_i18n_train", "test_browser_networks", "test_browser", "test_browser_sweep",
    "test_queue", "test_browser_train", "test_browser_queue", "test_browser_sentences", "test_api_live",
]


def pytest_collection_modifyitems(session, config, items):
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(Path(str(item.fspath)).stem, len(rank)))  # stable
