"""The one exception of the Python API, raised alike by the in-process functions and the client."""


class ApiError(Exception):
    """What the API refused, or failed to do: `status` is the HTTP status the server answers
    (422 for a field out of range — also in-process —, 413, 415, 404, 503 when busy; for an
    `error` event in the middle of a stream, the status the stream started with), `detail` its
    message naming the field and the limit, `errors` the fields one by one when it has them.

        >>> try:
        ...     gfl.run(seq_len=0)
        ... except gfl.ApiError as e:
        ...     print(e.status, e.detail)
        422 seq_len: Input should be greater than or equal to 1
    """

    def __init__(
        self, status: int, detail: str, errors: list[dict] | None = None, retry_after: float | None = None
    ):
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.retry_after = retry_after  # seconds, for a busy server (503)
