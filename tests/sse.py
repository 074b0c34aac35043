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
from typing import Any, NamedTuple


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
