"""A small progress bar for long computations: in Jupyter a display that updates in place, in a
terminal one line on stderr redrawn with a carriage return. No dependency: IPython's display is
used only when the code runs in a Jupyter kernel (which has IPython loaded already).

    with ProgressBar(1500, description="training") as bar:
        for step in …:
            bar.update(step)

It appears once the work has taken `delay` seconds (1 s), so that a quick call prints nothing.
"""

import html
import sys
import time
from typing import TextIO

DELAY_SECONDS = 1.0
REDRAW_SECONDS = 0.1  # at most ten redraws a second
WIDTH = 30  # characters of the terminal's bar


def in_jupyter() -> bool:
    """Whether this code runs in a Jupyter kernel."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class _Html:
    """What Jupyter shows: an HTML <progress> and its words; plain text elsewhere."""

    def __init__(self, text: str, done: int, total: int):
        self.text, self.done, self.total = text, done, total

    def _repr_html_(self) -> str:
        return (
            f'<div class="gfl-progress"><progress value="{self.done}" max="{self.total}" '
            f'style="width: 18em; vertical-align: middle"></progress> '
            f"<span>{html.escape(self.text)}</span></div>"
        )

    def __repr__(self) -> str:
        return self.text


class ProgressBar:
    """`update(done)` with `done` in 0..total. `enabled`: None shows the bar after `delay`
    seconds in Jupyter or when `stream` is a terminal; True shows it from the start, wherever;
    False never. `clock` and `stream` are for tests."""

    def __init__(
        self,
        total: int,
        *,
        description: str = "",
        enabled: bool | None = None,
        delay: float = DELAY_SECONDS,
        stream: TextIO | None = None,
        clock=time.monotonic,
    ):
        self.total = max(1, int(total))
        self.description = description
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.start = clock()
        self.delay = 0.0 if enabled else delay
        self.done = 0
        self.last_draw = None
        self.handle = None  # Jupyter's display handle, once shown
        if enabled is False:
            self.mode = None
        elif in_jupyter():
            self.mode = "jupyter"
        elif enabled or getattr(self.stream, "isatty", lambda: False)():
            self.mode = "terminal"
        else:
            self.mode = None

    @property
    def shown(self) -> bool:
        return self.last_draw is not None

    def text(self) -> str:
        elapsed = self.clock() - self.start
        percent = 100 * self.done // self.total
        words = f"{percent:3d}% {self.done}/{self.total} · {elapsed:.0f} s"
        return f"{self.description} {words}" if self.description else words

    def update(self, done: int) -> None:
        self.done = min(max(0, int(done)), self.total)
        if self.mode is None:
            return
        now = self.clock()
        if now - self.start < self.delay:
            return
        if self.shown and now - self.last_draw < REDRAW_SECONDS and self.done < self.total:
            return
        self._draw(now)

    def _draw(self, now: float) -> None:
        self.last_draw = now
        if self.mode == "jupyter":
            from IPython.display import display

            shown = _Html(self.text(), self.done, self.total)
            if self.handle is None:
                self.handle = display(shown, display_id=True)
            else:
                self.handle.update(shown)
            return
        filled = WIDTH * self.done // self.total
        self.stream.write(f"\r[{'█' * filled}{'·' * (WIDTH - filled)}] {self.text()}")
        self.stream.flush()

    def close(self) -> None:
        """The last state drawn (if the bar was shown), and the terminal's line ended."""
        if not self.shown:
            return
        self._draw(self.clock())
        if self.mode == "terminal":
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
