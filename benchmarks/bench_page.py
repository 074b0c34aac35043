"""Browser benchmark of the explorer page: from the Run click to the last chart update.

    .venv/bin/python benchmarks/bench_page.py [--repeat 5] [--busy N] [--only TEXT] [--chromium PATH]

Starts uvicorn on a free loopback port, drives Debian's Chromium (headless) with Playwright and,
for each scenario, clicks Run and waits until the page marks `gfl:rendered` (every view drawn up
to the end of the backward sweep, the summary cards filled). Reported per scenario (median and
worst over the repeats):

- run→rendered: `performance.now()` at the click to the page's `gfl:rendered` mark;
- run→streamed: the click to the end of the stream (`gfl:streamed`): the server's computing and
  the page's reading of the stream, which share the CPU with the drawing;
- longest task: the longest main-thread task of the run (PerformanceObserver "longtask";
  tasks under 50 ms are not reported by the browser, so "< 50" means none was);
- longest frame gap: the longest interval between two animation frames during the run — an
  equivalent measure of how long the page could not respond.

Targets (the issue): the default request under 1 s; T = 1000, H = 64, 4 models keeps the page
responsive (longest task < 200 ms) even when the machine is busy. The playback speed is part of
the URL: "max" measures the pipeline (server, stream, parsing, charts), the default 250 steps/s
adds the intended animation. `--busy N` keeps N processes spinning on the CPU while it measures
(a busy machine on purpose, rather than whatever else happens to run).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from browser_helpers import wait_for  # noqa: E402

from benchmarks.common import free_port, wait_healthy  # noqa: E402  (polls without eval: the page's CSP forbids it)

SCENARIOS = [
    ("default request, speed max", "?speed=max"),
    ("default request, speed 250 steps/s (page default)", "?speed=250"),
    (
        "T=1000, H=64, 4 models, speed max",
        "?models=rnn-sigmoid,rnn-tanh,lstm,gru&seq_len=1000&hidden_size=64&speed=max",
    ),
    (
        "T=1000, H=64, 4 models, speed 1000 steps/s",
        "?models=rnn-sigmoid,rnn-tanh,lstm,gru&seq_len=1000&hidden_size=64&speed=1000",
    ),
]

PROBE = """
window.__gfl = { longtasks: [], frames: [] };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__gfl.longtasks.push([e.startTime, e.duration]);
}).observe({ type: "longtask", buffered: true });
(function loop(t) { window.__gfl.frames.push(t); requestAnimationFrame(loop); })(performance.now());
"""

CLICK = """() => {
  window.__gfl.longtasks = []; window.__gfl.frames = [];
  performance.clearMarks("gfl:rendered");
  window.__gfl.t0 = performance.now();
  document.querySelector("#run").click();
}"""

MEASURE = """() => {
  const g = window.__gfl;
  const end = performance.getEntriesByName("gfl:rendered").at(-1).startTime;
  // NaN: a page from before the mark
  const streamed = performance.getEntriesByName("gfl:streamed").at(-1)?.startTime ?? NaN;
  const tasks = g.longtasks.filter(([s, d]) => s + d >= g.t0 && s <= end).map(([, d]) => d);
  const frames = g.frames.filter((t) => t >= g.t0 && t <= end + 20);
  let gap = 0;
  for (let i = 1; i < frames.length; i++) gap = Math.max(gap, frames[i] - frames[i - 1]);
  return { total: end - g.t0, streamed: streamed - g.t0, longest: tasks.length ? Math.max(...tasks) : 0,
    ntasks: tasks.length, gap };
}"""


def start_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "GFL_LOG_LEVEL": "warning"},  # the app's own JSON access log too
    )
    try:
        wait_healthy(url, proc, 30)
    except RuntimeError:
        proc.terminate()
        raise
    return proc, url


def spin() -> None:
    while True:
        pass


def start_busy(n: int) -> list[subprocess.Popen]:
    """n processes that keep one CPU each busy until terminated."""
    code = "import benchmarks.bench_page as b; b.spin()"
    return [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--busy", type=int, default=0, metavar="N",
                        help="keep N processes spinning on the CPU while measuring")
    parser.add_argument("--only", default="", metavar="TEXT", help="the scenarios whose name contains TEXT")
    parser.add_argument(
        "--chromium",
        default=os.environ.get("GFL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium",
    )
    args = parser.parse_args()

    proc, base = start_server()
    busy = start_busy(args.busy)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=args.chromium,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            print(
                f"Chromium {browser.version}, {os.cpu_count()} CPUs, {args.repeat} repeats (first run of "
                f"each scenario is a warm-up), {args.busy} busy processes\n"
            )
            header = (f"{'scenario':<54} {'run→streamed ms':>16} {'run→rendered ms':>16} "
                      f"{'longest task ms':>16} {'frame gap ms':>14}")
            print(header)
            print("-" * len(header))
            for name, query in [s for s in SCENARIOS if args.only in s[0]]:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.add_init_script(PROBE)
                page.goto(base + "/" + query)
                wait_for(page, "document.documentElement.dataset.rendered === 'true'", timeout=60_000)
                rows = []
                for _ in range(args.repeat):
                    page.evaluate(CLICK)
                    wait_for(page,
                        "document.documentElement.dataset.rendered === 'true'", timeout=60_000
                    )
                    rows.append(page.evaluate(MEASURE))
                page.close()

                def stat(key, rows=rows):
                    values = [r[key] for r in rows]
                    return f"{statistics.median(values):7.0f} / {max(values):5.0f}"

                longest = [r["longest"] for r in rows]
                lt = "   < 50 /  < 50" if max(longest) == 0 else stat("longest")
                print(f"{name:<54} {stat('streamed'):>16} {stat('total'):>16} {lt:>16} {stat('gap'):>14}")
            print("\n(median / worst; long tasks are only reported from 50 ms)")
            browser.close()
    finally:
        for child in [*busy, proc]:
            child.terminate()
            child.wait(10)


if __name__ == "__main__":
    main()
