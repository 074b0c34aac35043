"""The page when the server is busy, in Chromium against servers whose limit is one run and one
training: it shows its place in the server's line instead of an error, and it retries a busy
answer by itself after its Retry-After — a wait in line that ran out (an `error` event with
`retry_after`) or a 503 — with the seconds counting down and a Cancel."""

import json
import socket
import time

import pytest
from browser_helpers import wait_for, wait_rendered
from conftest import LiveServer

pytestmark = pytest.mark.browser

HTTP_ERROR_LOG = "Failed to load resource: the server responded with a status of"
# a run with tens of MB of events: a client that reads none of it holds the slot (the
# computation waits for the client) without keeping a core busy
HOLD_RUN = {"models": [{"cell": "lstm"}, {"cell": "lstm"}], "seq_len": 2000, "hidden_size": 200,
            "include": ["hidden", "grads"]}
# a training of many steps of about half a second
HOLD_TRAINING = {"models": [{"cell": "lstm"}], "task": "adding", "seq_len": 200, "hidden_size": 256,
                 "batch_size": 64, "steps": 80, "eval_every": 80, "eval_size": 10}
SMALL_TRAINING = {"tab": "train", "train_models": "rnn-tanh", "train_task": "adding", "train_seq_len": "5",
                  "train_hidden_size": "4", "train_steps": "20", "train_eval_every": "10",
                  "train_eval_size": "20"}
LINE = {"GFL_MAX_CONCURRENT_RUNS": "1", "GFL_MAX_CONCURRENT_TRAININGS": "1", "GFL_RETRY_AFTER_SECONDS": "1"}


class Holder:
    """A client that takes the only slot and keeps it: its stream starts, then it reads
    nothing more (a small receive window) until release() closes the connection."""

    def __init__(self, url: str, path: str, body: dict):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", int(url.rsplit(":", 1)[1])))
        raw = json.dumps(body).encode()
        self.sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(raw)}\r\n\r\n".encode() + raw)
        self.sock.settimeout(30)
        head = b""
        while b"event: start" not in head:
            head += self.sock.recv(4096)
            assert head.startswith(b"HTTP/1.1 200 ") or b"\r\n\r\n" not in head, head[:300]

    def release(self):
        self.sock.close()


def serve(queue_seconds: str, **env):
    server = LiveServer(env={**LINE, "GFL_QUEUE_SECONDS": queue_seconds, **env})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def waiting_server():
    """Limit 1, a line of 30 s."""
    yield from serve("30")


@pytest.fixture(scope="module")
def line_server():
    """Limit 1, a line whose wait runs out after 1 s, then Retry-After 1 s."""
    yield from serve("1")


@pytest.fixture(scope="module")
def no_line_server():
    """Limit 1, no line: 503 at once, Retry-After 2 s."""
    yield from serve("0", GFL_RETRY_AFTER_SECONDS="2")


def aborted_stream_ok(page):
    """After an `error` event the page cancels the rest of the stream: Chrome reports that as a
    failed request."""
    page.rec.failed[:] = [f for f in page.rec.failed if not ("/stream" in f and "ERR_ABORTED" in f)]


def root_data(page, key: str):
    return page.evaluate("(k) => document.documentElement.dataset[k] ?? null", key)


def test_a_run_waits_in_line_showing_its_place_then_streams(page, waiting_server):
    url = waiting_server.url
    page.goto(url + "/")
    holder = Holder(url, "/api/runs/stream", HOLD_RUN)
    try:
        page.click("#run")
        wait_for(page, "document.documentElement.dataset.queued === '1'")
        assert page.text_content("#status") == "Waiting for the server (position 1)…"
        assert page.locator("#message").is_hidden()  # waiting is not an error
        assert root_data(page, "run") == "streaming"
        time.sleep(0.5)
        assert root_data(page, "queued") == "1"
    finally:
        holder.release()
    wait_rendered(page)
    assert root_data(page, "run") == "done" and root_data(page, "queued") is None
    assert page.locator("#message").is_hidden()
    assert page.text_content("#status").startswith("Done:")


def test_a_wait_that_runs_out_is_retried_by_itself_with_a_countdown(page, line_server):
    url = line_server.url
    page.allowed_console = (HTTP_ERROR_LOG,)
    page.goto(url + "/")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.url.endswith("/api/runs/stream") else None)
    holder = Holder(url, "/api/runs/stream", HOLD_RUN)
    try:
        page.click("#run")
        wait_for(page, "document.documentElement.dataset.queued === '1'")
        # after 1 s in line: busy, and a retry in 1 s, said and counted down
        wait_for(page, "document.documentElement.dataset.retry === '1'")
        assert root_data(page, "run") == "error"
        text = page.text_content("#message .message-text")
        assert text.startswith("The server is busy: ") and "queue_seconds" in text
        assert "(Retry-After: 1 s — try again then)" in text
        assert page.text_content("#status") == "The server is busy: trying again by itself in 1 s…"
        buttons = page.locator("#message .message-actions button").all_text_contents()
        assert buttons == ["Try again", "Cancel"]
        # … then it asks again by itself, and waits in line again
        wait_for(page, "document.documentElement.dataset.queued === '1'")
        assert len(posts) == 2 and root_data(page, "retry") is None
        assert page.locator("#message").is_hidden()
    finally:
        holder.release()
    wait_rendered(page)
    assert root_data(page, "run") == "done" and page.locator("#message").is_hidden()
    aborted_stream_ok(page)


def test_a_503_is_retried_after_retry_after_unless_cancelled(page, no_line_server):
    url = no_line_server.url
    page.allowed_console = (HTTP_ERROR_LOG,)
    page.goto(url + "/")
    answers = []
    page.on("response", lambda r: answers.append(r.status) if r.url.endswith("/api/runs/stream") else None)
    holder = Holder(url, "/api/runs/stream", HOLD_RUN)
    try:
        page.click("#run")
        wait_for(page, "document.documentElement.dataset.retry === '2'")
        assert answers == [503] and root_data(page, "run") == "error"
        assert "max_concurrent_runs" in page.text_content("#message .message-text")
        assert page.text_content("#status") == "The server is busy: trying again by itself in 2 s…"
        wait_for(page, "document.documentElement.dataset.retry === '1'")  # counting down
        assert page.text_content("#status") == "The server is busy: trying again by itself in 1 s…"
        wait_for(page, "document.documentElement.dataset.retry === '2'", timeout=5_000)  # asked again: 503
        assert answers == [503, 503]
        page.get_by_role("button", name="Cancel").click()
        assert root_data(page, "retry") is None
        assert page.text_content("#status") == "Not tried again. Press Run when you are ready."
        assert page.locator("#message .message-actions button").all_text_contents() == ["Try again"]
        time.sleep(2.5)
        assert answers == [503, 503], "asked again after Cancel"
    finally:
        holder.release()
    time.sleep(0.3)  # the server notices that the holder has gone
    page.get_by_role("button", name="Try again").click()
    wait_rendered(page)
    assert answers[-1] == 200 and page.locator("#message").is_hidden()


def test_a_training_waits_in_line_then_retries_by_itself_then_trains(page, line_server):
    url = line_server.url
    page.allowed_console = (HTTP_ERROR_LOG,)
    page.goto(url + "/?" + "&".join(f"{k}={v}" for k, v in SMALL_TRAINING.items()))
    holder = Holder(url, "/api/train/stream", HOLD_TRAINING)
    try:
        page.click("#train-start")
        wait_for(page, "document.documentElement.dataset.trainQueued === '1'")
        assert page.text_content("#train-status") == "Waiting for the server (position 1)…"
        assert page.text_content("#train-progress-text") == "waiting for the server…"
        assert page.locator("#train-message").is_hidden()
        assert root_data(page, "train") == "running" and page.is_enabled("#train-stop")
        wait_for(page, "document.documentElement.dataset.trainRetry === '1'")
        assert "(Retry-After: 1 s — try again then)" in page.text_content("#train-message .message-text")
        assert page.text_content("#train-status") == "The server is busy: trying again by itself in 1 s…"
        assert page.locator("#train-message .message-actions button").all_text_contents() == [
            "Try again", "Cancel"]
        wait_for(page, "document.documentElement.dataset.trainQueued === '1'")  # asked again
    finally:
        holder.release()
    wait_for(page, "document.documentElement.dataset.train === 'done'", timeout=30_000)
    assert page.locator("#train-message").is_hidden()
    assert root_data(page, "trainQueued") is None and root_data(page, "trainRetry") is None
    aborted_stream_ok(page)
