"""Work a client has abandoned stops, and gives its slot back, within about a second — also a
training whose every step is long (issue 15).

The cause of a 503 "2 trainings are in progress" answered to a client that sent one request at
a time (schemathesis, which reads only the start of a stream and goes): a stream learned of
its client's departure only between two trips to its compute thread, and a trip ran until the
training yielded its next frame — a whole training step, seconds for a long sequence — so the
abandoned training kept its slot for the rest of that step while the client's next requests
were refused. Now the departure sets the training's checkpoint, which the core calls every few
time steps inside a step (core/train.py, Sweep.run), and the trip ends there.
"""

import threading
import time

import httpx
import pytest
from conftest import LiveServer
from sse import SSEParser

# one rnn step over T = 2000, H = 256, B = 64: about 10 s here (16 s under load)
LONG_STEPS = {
    "models": [{"cell": "rnn", "activation": "tanh"}],
    "task": "adding",
    "seq_len": 2000,
    "hidden_size": 256,
    "batch_size": 64,
    "steps": 3,
    "eval_every": 3,
    "eval_size": 10,
}
TINY = {
    "models": [{"cell": "rnn", "activation": "tanh"}],
    "task": "adding",
    "seq_len": 5,
    "hidden_size": 4,
    "batch_size": 2,
    "steps": 1,
    "eval_every": 1,
    "eval_size": 2,
}
HELD_MAX_SECONDS = 2.0  # the bound asked for is 1 s; the rest is the probes' own round trips


@pytest.fixture(scope="module")
def one_training():
    """A server that trains one model at a time and keeps no line: a busy slot is a 503 at once."""
    server = LiveServer({"GFL_MAX_CONCURRENT_TRAININGS": "1", "GFL_QUEUE_SECONDS": "0"})
    yield server
    server.stop()


def slot_is_free(url: str) -> bool:
    """A tiny training is accepted (its stream read to the end) rather than refused with 503."""
    with httpx.Client(timeout=30) as client, client.stream("POST", url + "/api/train/stream", json=TINY) as r:
        if r.status_code == 503:
            return False
        assert r.status_code == 200, r.read()
        r.read()
        return True


def start_and_leave(url: str, body: dict, meanwhile=lambda: None) -> float:
    """Start a training stream, read its `start` event, call `meanwhile()` and go; when the
    client left."""
    parser = SSEParser()
    with httpx.Client(timeout=60) as client, client.stream("POST", url + "/api/train/stream", json=body) as r:
        assert r.status_code == 200
        chunks = r.iter_text()  # kept: a dropped iterator closes the connection
        while not any(e.event == "start" for e in parser.feed(next(chunks))):
            pass
        meanwhile()
    return time.monotonic()


def test_a_training_left_mid_step_frees_its_slot_within_a_second(one_training):
    url = one_training.url
    assert slot_is_free(url)

    def while_there():
        time.sleep(0.3)  # the first step is well under way
        assert not slot_is_free(url), "the long training holds the only slot while its client is there"

    left = start_and_leave(url, LONG_STEPS, while_there)
    while not slot_is_free(url):
        assert time.monotonic() - left < 8, "the abandoned training still holds its slot"
        time.sleep(0.05)
    held = time.monotonic() - left
    assert held < HELD_MAX_SECONDS, f"the slot stayed held {held:.2f} s after the client left"


def test_one_client_at_a_time_is_never_refused(one_training):
    """The pattern of the schemathesis run: read the start of a long training, go, send the next
    request at once — several times. With the slot given back on departure, at most a moment of
    refusals (retried briefly), never a wait for the abandoned steps."""
    url = one_training.url
    for _ in range(3):
        left = start_and_leave(url, LONG_STEPS)
        while not slot_is_free(url):
            assert time.monotonic() - left < HELD_MAX_SECONDS, "an abandoned training kept the slot"
            time.sleep(0.05)


def test_a_client_that_stays_keeps_its_training(one_training):
    """The checkpoint stops only abandoned work: a client that reads on gets its progress events."""
    body = {**LONG_STEPS, "seq_len": 200, "steps": 2, "eval_every": 2}
    names = []
    parser = SSEParser()
    with (
        httpx.Client(timeout=120) as client,
        client.stream("POST", one_training.url + "/api/train/stream", json=body) as r,
    ):
        for text in r.iter_text():
            names += [e.event for e in parser.feed(text)]
    assert names[0] == "start" and names[-1] == "done" and names.count("progress") == 2


def test_stop_from_another_thread_ends_a_long_step_in_the_core():
    """The core's side: a checkpoint that raises ends core.train.train inside a long step."""
    from gradient_flow_lab.core.run import ModelSpec
    from gradient_flow_lab.core.train import TrainSpec, train

    class Gone(Exception):
        pass

    stop = threading.Event()

    def checkpoint():
        if stop.is_set():
            raise Gone

    spec = TrainSpec(
        models=(ModelSpec("rnn", "tanh"),),
        seq_len=2000,
        hidden_size=256,
        batch_size=64,
        steps=3,
        eval_every=3,
        eval_size=10,
    )
    frames = train(spec, checkpoint)
    next(frames)  # TrainStart
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    began = time.monotonic()
    with pytest.raises(Gone):
        next(frames)
    assert time.monotonic() - began < 0.3 + HELD_MAX_SECONDS
