"""A client of a Gradient Flow Lab server over HTTP (httpx): the same objects as in this process.

    >>> lab = gfl.Client("http://127.0.0.1:8000")
    >>> r = lab.run(models=[{"cell": "lstm"}], seq_len=200)          # a Run, as gfl.run gives
    >>> for event, data in lab.stream(seq_len=200):                    # the frames as they come
    ...     if event == "backward" and data["t"] == 1:
    ...         break                                                  # closes the connection
    >>> tr = gfl.Training.from_events(lab.train(steps=200))
    >>> info = lab.upload_weights("model.safetensors")                 # {"id": "sha256:…", …}

Every answer the API refuses — and an `error` event in a stream — raises `ApiError` with the
status and the API's `detail`. Streams are generators: stopping the iteration (`break`, or the
generator collected) closes the response, and the server stops computing for it.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Unpack

import httpx
import orjson

from gradient_flow_lab.errors import ApiError
from gradient_flow_lab.runs import Event, Run, RunFields, SeedsRun, TrainFields, _plain

TIMEOUT = httpx.Timeout(60.0, connect=10.0)  # a run waits at most run_seconds_max, plus its line


def _error(response: httpx.Response) -> ApiError:
    response.read()
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text or response.reason_phrase}
    detail = body.get("detail") if isinstance(body, dict) else None
    retry = response.headers.get("Retry-After")
    return ApiError(
        response.status_code,
        str(detail or response.reason_phrase),
        body.get("errors") if isinstance(body, dict) else None,
        float(retry) if retry else None,
    )


def _events(response: httpx.Response) -> Iterator[Event]:
    """The Server-Sent Events of a response (the WHATWG wire format: `field: value` lines, `data`
    lines joined, a blank line dispatching), each data parsed as JSON."""
    name, data = "message", []
    for line in response.iter_lines():
        if not line:
            if data:
                yield Event(name, orjson.loads("\n".join(data)))
            name, data = "message", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)


class Client:
    """The API of the server at `base_url`. `http`: an httpx.Client of your own (proxies,
    authentication, a transport for tests), else one is made and closed with this one (use it
    in a `with` block, or call `close()`)."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        http: httpx.Client | None = None,
        timeout: httpx.Timeout | float = TIMEOUT,
    ):
        self.base_url = base_url.rstrip("/")
        self._own = http is None
        self.http = http or httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        if self._own:
            self.http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _json(self, method: str, path: str, **kwargs) -> httpx.Response:
        response = self.http.request(method, self._url(path), **kwargs)
        if response.status_code >= 400:
            raise _error(response)
        return response

    def meta(self) -> dict:
        """GET /api/meta: what the server offers, its limits and defaults."""
        return self._json("GET", "/api/meta").json()

    def run(self, **fields: Unpack[RunFields]) -> "Run | SeedsRun":
        """POST /api/runs: one complete run (RunRequest `fields`), as a `Run` — or, with `seeds`,
        the run over those seeds as a `SeedsRun`."""
        answer = self._json(
            "POST",
            "/api/runs",
            content=orjson.dumps(_plain(fields)),
            headers={"Content-Type": "application/json"},
        ).content
        return SeedsRun(answer) if fields.get("seeds") else Run(answer)

    def _stream(self, method: str, path: str, body: dict | None = None) -> Iterator[Event]:
        kwargs = (
            {}
            if body is None
            else {"content": orjson.dumps(_plain(body)), "headers": {"Content-Type": "application/json"}}
        )
        with self.http.stream(method, self._url(path), **kwargs) as response:
            if response.status_code >= 400:
                raise _error(response)
            for event in _events(response):
                if event.event == "error":
                    raise ApiError(
                        503 if "retry_after" in event.data else response.status_code,
                        event.data.get("detail", "the stream failed"),
                        retry_after=event.data.get("retry_after"),
                    )
                yield event

    def stream(self, **fields: Unpack[RunFields]) -> Iterator[Event]:
        """POST /api/runs/stream: the run's events as they come — (event, data) pairs `queued`
        (while it waits for a slot), `start`, `forward`, `backward`, `summary`, `done`."""
        return self._stream("POST", "/api/runs/stream", fields)

    def train(self, **fields: Unpack[TrainFields]) -> Iterator[Event]:
        """POST /api/train/stream: a training's events — `queued`, `start`, `progress`, `eval`,
        `done`. `Training.from_events(...)` reads them into arrays."""
        return self._stream("POST", "/api/train/stream", fields)

    def upload_weights(
        self, path: str | Path, *, prefix: str | None = None, head_prefix: str | None = None
    ) -> dict:
        """POST /api/weights: a safetensors or .npz file of an nn.RNN/LSTM/GRU state_dict; the
        answer describes the network and gives its `id` for a model entry {"weights": id}."""
        path = Path(path)
        form = {k: v for k, v in (("prefix", prefix), ("head_prefix", head_prefix)) if v is not None}
        with path.open("rb") as f:
            return self._json("POST", "/api/weights", files={"file": (path.name, f)}, data=form).json()

    def weights(self, weights_id: str) -> dict:
        """GET /api/weights/{id}: the description of uploaded weights (ApiError 404 once gone)."""
        return self._json("GET", f"/api/weights/{weights_id}").json()

    def sweep(self, **fields) -> "SweepStream":
        """POST /api/sweeps (`kind`, `base`, `grid`, `seeds`), then its events from
        GET /api/sweeps/{id}/events: `start`, `result` per point, `progress`, `done`. The
        returned SweepStream is iterable and has the sweep's `id`, `results()` and `cancel()`."""
        answer = self._json(
            "POST",
            "/api/sweeps",
            content=orjson.dumps(_plain(fields)),
            headers={"Content-Type": "application/json"},
        ).json()
        return SweepStream(self, answer)


class SweepStream:
    """A sweep the server runs: iterate for its events (they end with `done`; an `error` event
    raises ApiError); `answer` is what POST /api/sweeps said (`id`, `status`, `total`, `done`)."""

    def __init__(self, client: Client, answer: dict):
        self.client = client
        self.answer = answer
        self.id: str = answer["id"]

    def __iter__(self) -> Iterator[Event]:
        return self.client._stream("GET", f"/api/sweeps/{self.id}/events")

    def status(self) -> dict:
        """GET /api/sweeps/{id}: the status and the results so far."""
        return self.client._json("GET", f"/api/sweeps/{self.id}").json()

    def results(self) -> list[dict]:
        return self.status().get("results", [])

    def cancel(self) -> dict:
        """DELETE /api/sweeps/{id}: its unfinished points are cancelled."""
        return self.client._json("DELETE", f"/api/sweeps/{self.id}").json()
