"""Helpers for the browser tests: an offline page that records what went wrong, and probes
that read what the charts actually drew (the figures handed to Plotly, not the page's own
arrays)."""

import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

# Every request that is not to this machine goes to a proxy that is not there (port 9, discard),
# and fails: the pages are offline without Playwright's request routing, which would turn the
# browser's cache off (every page would load and compile plotly.js again)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1;localhost;[::1]"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


@dataclass
class Recorder:
    """Failed requests, blocked (non-local) requests, console errors and page errors."""

    failed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def problems(self, allow_console: tuple[str, ...] = ()) -> list[str]:
        console = [m for m in self.console_errors if not any(a in m for a in allow_console)]
        return (
            [f"failed request: {u}" for u in self.failed]
            + [f"blocked request: {u}" for u in self.blocked]
            + [f"console error: {m}" for m in console]
            + [f"page error: {m}" for m in self.page_errors]
        )


def offline_page(context, *, width=1280, height=800, scheme="light"):
    """A new page where every request that is not to this machine fails (CHROMIUM_ARGS) and is
    recorded as blocked, with failed requests, console errors and page errors recorded. The
    tests' pages share one browser context and its cache, so plotly.js is compiled once rather
    than per test."""
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.emulate_media(color_scheme=scheme)
    rec = Recorder()

    def failed(r):
        host = urlparse(r.url).hostname or ""
        if not (r.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS):
            rec.blocked.append(r.url)
        # the icon's request cut short by the next navigation is no fault of the page
        elif not (r.url.endswith("/favicon.svg") and "ERR_ABORTED" in (r.failure or "")):
            rec.failed.append(f"{r.url} ({r.failure})")

    page.on("requestfailed", failed)
    page.on("console", lambda m: rec.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: rec.page_errors.append(str(e)))
    return page, rec


def wait_for(page, expression: str, arg=None, timeout=30_000, interval=0.025):
    """Poll `expression` (a JS expression or a function of `arg`) until it is truthy.

    Playwright's own wait_for_function evaluates a string with eval() inside the page, which
    the page's Content-Security-Policy (script-src 'self') forbids; page.evaluate goes
    through the DevTools protocol and is not subject to it."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        if page.evaluate(expression, arg):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} ms waiting for: {expression}")
        time.sleep(interval)


def wait_rendered(page, timeout=30_000):
    """Until the run is complete and every view has drawn its last frame."""
    wait_for(page, "document.documentElement.dataset.rendered === 'true'", timeout=timeout)


def wait_settled(page, p: int, timeout=15_000):
    """Until the playback position is p and every panel has been drawn."""
    wait_for(
        page,
        """(p) => document.getElementById('position').dataset.p === String(p)
                 && document.documentElement.dataset.settled === 'true'""",
        arg=p,
        timeout=timeout,
    )


def position(page) -> dict:
    return page.evaluate("""() => { const d = document.getElementById('position').dataset;
        return {p: Number(d.p), phase: d.phase, t: Number(d.t)}; }""")


# What each chart drew, read from Plotly's public figure (gd.data, gd.layout): every trace the
# views draw names what it is in its `meta` ({kind, model, …}; static/js/views/common.js), so
# the probe finds traces by identity rather than by their (translated) names.
PROBE = r"""
() => {
  const drawn = (v) => v !== null && v !== undefined && !Number.isNaN(v);
  const of = (el, kind) => (el.data || []).filter((d) => d.meta?.kind === kind);
  const flow = document.getElementById('chart-flow');
  const label = Object.fromEntries(of(flow, 'line').map((d) => [d.meta.model, d.name]));
  const lines = of(flow, 'line').map((d) => ({ name: d.name, n: d.x.length, y: Array.from(d.y) }));
  const bounds = of(flow, 'bound').map((d) => ({ name: d.name, n: d.x.length }));
  // the values a log axis cannot draw: "<model's label>: overflow" / "<model's label>: underflow"
  const marks = {};
  for (const d of of(flow, 'marks')) {
    d.customdata.forEach((c, k) => {
      const key = `${label[c.model]}: ${d.marker.symbol[k].startsWith('x') ? 'overflow' : 'underflow'}`;
      marks[key] = (marks[key] || 0) + 1;
    });
  }
  const heat = (id) => [...document.querySelectorAll(`#${id} .heat-chart`)].map((el) => {
    const z = of(el, 'values')[0]?.z || [];
    const cols = z.length ? z[0].length : 0;
    let filled = 0;
    for (let k = 0; k < cols; k++) if (z.some((row) => drawn(row[k]))) filled += 1;
    const special = of(el, 'special')[0];
    let specialCols = 0;
    if (special?.visible === true) {
      const rows = special.z;
      for (let k = 0; k < rows[0].length; k++) if (rows.some((row) => drawn(row[k]))) specialCols += 1;
    }
    return { units: z.length, cols, filled, specialCols,
      label: el.parentElement.querySelector('.heat-label').textContent };
  });
  const gates = [...document.querySelectorAll('#gates-charts .js-plotly-plot')].map((el) =>
    of(el, 'gate').map((d) => ({ name: d.name, n: d.x.length })));
  const path = document.getElementById('chart-path');
  const why = document.getElementById('chart-why');
  return {
    yType: flow.layout?.yaxis?.type,
    yTitle: flow.layout?.yaxis?.title?.text,
    xTitle: flow.layout?.xaxis?.title?.text,
    paper: flow.layout?.paper_bgcolor,
    lines,
    bounds,
    marks,
    hidden: heat('chart-hidden'),
    grads: heat('chart-grads'),
    gates,
    path: of(path, 'path').map((d) => ({ name: d.name, n: d.x.length })),
    bars: of(why, 'density').map((d) => ({ name: d.name, mass: d.y.reduce((a, b) => a + b, 0) * 0.25 })),
    cards: [...document.querySelectorAll('#model-cards .model-card')].map((c) => ({
      model: c.dataset.model, final: c.classList.contains('is-final'), text: c.textContent })),
    headline: document.getElementById('headline').textContent,
  };
}
"""


def probe(page) -> dict:
    return page.evaluate(PROBE)


# --- language and colour scheme, switched in place ------------------------------------------

TRANSITIONS_DONE = ("document.getAnimations()"
                    ".every((a) => !(a instanceof CSSTransition) || a.playState !== 'running')")


def set_language(page, lang):
    if page.evaluate("document.documentElement.lang") != lang:
        page.select_option("#lang", lang)
        wait_for(page, "(lang) => document.documentElement.lang === lang", lang)


def set_scheme(page, scheme):
    page.emulate_media(color_scheme=scheme)
    wait_for(page, "(dark) => matchMedia('(prefers-color-scheme: dark)').matches === dark", scheme == "dark")
    # until the colours have changed: no transition running (the buttons' take 0.12 s)
    page.wait_for_timeout(50)
    wait_for(page, TRANSITIONS_DONE)
