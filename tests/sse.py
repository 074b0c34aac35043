"""A parser of the Server-Sent Events wire format, for the API tests.

It follows the WHATWG "event stream interpretation"
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):

- lines end in CRLF, LF or CR; a leading byte-order mark is dropped;
- a line `field: value` sets a field (one space after the colon is dropped; a line without
  a colon is a field with an empty value); a line starting with `:` is a comment;
- `data` lines are joined with `\\n`; `event` names the event (default `message`); `id` sets
  the last event id, which persists into later events until set again (an id containing
  NUL is ignored); `retry` and unknown fields are ignored here;
- a blank line dispatches the event, unless no `data` line was seen; an event that is not
  terminated by a blank line when the stream ends is discarded.

Every event's data is parsed as JSON that must not contain NaN or ±Infinity (the contract
sends non-finite numbers as null).
"""

import json
import re
import threading
import time
from typing import Any, NamedTuple

import httpx


class Event(NamedTuple):
    event: str
    id: str | None
    data: Any


def _reject_constant(name: str):
    raise ValueError(f"non-JSON number {name} in an event's data")


def loads_strict(text: str | bytes) -> Any:
    """json.loads that refuses NaN, Infinity and -Infinity."""
    return json.loads(text, parse_constant=_reject_constant)


_LINE_END = re.compile(r"\r\n|\n|\r")


class SSEParser:
    """Incremental: `feed(text)` returns the events completed by that text."""

    def __init__(self):
        self._buffer = ""
        self._after_cr = False  # the last chunk ended in CR: a leading LF is part of it
        self._started = False
        self._data: list[str] = []
        self._event = ""
        self._last_id: str | None = None

    def feed(self, text: str) -> list[Event]:
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._after_cr and text.startswith("\n"):
            text = text[1:]  # the LF of a CRLF split across two chunks
        self._after_cr = False
        buffer = self._buffer + text
        events, pos = [], 0
        for m in _LINE_END.finditer(buffer):
            event = self._line(buffer[pos:m.start()])
            if event is not None:
                events.append(event)
            pos = m.end()
        self._after_cr = buffer.endswith("\r") and pos == len(buffer)
        self._buffer = buffer[pos:]
        return events

    def _line(self, line: str) -> Event | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        elif field == "id":
            if "\0" not in value:
                self._last_id = value
        return None  # "retry" and unknown fields are ignored

    def _dispatch(self) -> Event | None:
        data, event = self._data, self._event or "message"
        self._data, self._event = [], ""
        if not data:
            return None
        return Event(event, self._last_id, loads_strict("\n".join(data)))


def parse(text: str) -> list[Event]:
    """Every complete event of a whole stream, in order."""
    return SSEParser().feed(text)


class StreamReader(threading.Thread):
    """One SSE stream (POST url + path with a JSON body) read in the background, from the
    moment it is made: its events with the times they arrived, its status, its error."""

    def __init__(self, url: str, body: dict, path: str = "/api/runs/stream"):
        super().__init__(daemon=True)
        self.url, self.body, self.path = url, body, path
        self.events: list[Event] = []
        self.arrivals: list[float] = []
        self.status: int | None = None
        self.error: BaseException | None = None
        self.first_event = threading.Event()
        self.leave = threading.Event()  # set: the client goes at the next chunk that arrives
        self.sent = time.perf_counter()
        self.finished: float | None = None
        self.start()

    def run(self):
        try:
            with httpx.Client(timeout=60) as client, \
                    client.stream("POST", self.url + self.path, json=self.body) as r:
                self.status = r.status_code
                parser = SSEParser()
                for text in r.iter_text():
                    now = time.perf_counter()
                    for event in parser.feed(text):
                        self.events.append(event)
                        self.arrivals.append(now)
                        self.first_event.set()
                    if self.leave.is_set():
                        break
            self.finished = time.perf_counter()
        except BaseException as e:  # reported by the test that reads the result
            self.error = e
        finally:
            self.first_event.set()

    def wait_for(self, predicate, seconds: float = 30):
        deadline = time.monotonic() + seconds
        while not predicate(self):
            assert time.monotonic() < deadline, [e.event for e in self.events]
            assert self.error is None, self.error
            time.sleep(0.01)

    def names(self) -> list[str]:
        return [e.event for e in self.events]

    def arrival(self, name: str) -> float:
        return self.arrivals[self.names().index(name)]

    def result(self, timeout: float = 60) -> list[Event]:
        self.join(timeout)
        assert not self.is_alive(), "the stream did not end"
        if self.error is not None:
            raise self.error
        assert self.status == 200
        return self.events
