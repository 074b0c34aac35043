"""axe-core's serious and critical violations on the page, per state and rule.

    .venv/bin/python benchmarks/axe_audit.py [--chromium PATH] [--details] [--full]

Starts uvicorn on a free loopback port, drives Debian's Chromium (headless) through Playwright
into the five states of issue 18 and runs axe-core (WCAG 2.1 A and AA rule sets, tests/axe_check.py)
in each:

- explore: Explore after a default run (1280 × 800, English, light);
- explore-ko-dark-4: Explore in Korean in the dark theme with four models;
- phone: a default run on a 390 × 844 phone;
- lesson: the first lesson open (its run drawn);
- train: the Train tab after a short training.

With --full, the whole matrix of issue 18 instead: every state — Explore before and after a
run (four models), its tables open, the shortcuts and lessons dialogs, Train before and after a
short training, Sweep before and after a small sweep, every lesson the Lessons dialog lists — in
both languages, both colour schemes, at 1280 × 800 and on a 390 × 844 phone: each state reached
once per viewport, then switched in place between languages and schemes, the whole page audited
in each (tests/test_browser_a11y.py audits a pairwise sample of this matrix on every test run).

Prints a table of the nodes that violate each rule (serious or critical only), and with
--details the nodes themselves. The counts are of nodes, as axe reports them: a rule broken by
twelve checkboxes counts twelve. tests/test_browser_a11y.py holds the page to zero in these
states and more.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from axe_check import count_by_rule, report, run_axe, serious  # noqa: E402
from browser_helpers import CHROMIUM_ARGS, set_language, set_scheme, wait_for, wait_rendered  # noqa: E402

from benchmarks.common import free_port, wait_healthy  # noqa: E402

SHORT_TRAINING = ("tab=train&train_models=rnn-tanh,gru&train_seq_len=12&train_hidden_size=16"
                  "&train_steps=60&train_eval_every=20&train_eval_size=100")


def run_default(page):
    page.click("#run")
    wait_rendered(page)


def open_lesson(page, base):
    href = page.evaluate("() => document.querySelector('#lesson-list .lesson-item a').getAttribute('href')")
    page.goto(base + href)
    wait_rendered(page)


def train_short(page):
    page.click("#train-start")
    wait_for(page, "document.documentElement.dataset.train === 'done'", timeout=60_000)
    wait_for(page, "document.documentElement.dataset.trainSettled === 'true'")


# name → (viewport, colour scheme, path, what to do once there)
STATES = {
    "explore": ((1280, 800), "light", "/", lambda page, base: run_default(page)),
    "explore-ko-dark-4": ((1280, 800), "dark", "/?lang=ko&models=rnn-sigmoid,rnn-tanh,lstm,gru",
                          lambda page, base: wait_rendered(page)),
    "phone": ((390, 844), "light", "/", lambda page, base: run_default(page)),
    "lesson": ((1280, 800), "light", "/", open_lesson),
    "train": ((1280, 800), "light", "/?" + SHORT_TRAINING, lambda page, base: train_short(page)),
}


def audit(browser, base: str, details: bool) -> dict[str, dict[str, int]]:
    table = {}
    for name, ((width, height), scheme, path, act) in STATES.items():
        context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
        page = context.new_page()
        page.goto(base + path)
        act(page, base)
        found = serious(run_axe(page))
        table[name] = dict(count_by_rule(found))
        if details and found:
            print(report(found, name), "\n")
        context.close()
    return table


RUN = "/?models=rnn-sigmoid,rnn-tanh,lstm,gru&seq_len=20&hidden_size=8&speed=max"
SWEEP = ("/?tab=sweep&seq_len=12&hidden_size=8&sweep_x=init.sigma_max&sweep_x_values=0.5:2:2"
         "&sweep_models=rnn-tanh&sweep_seeds=0&sweep_metric=decay_rate")
VIEWPORTS = {"desk": {"viewport": {"width": 1280, "height": 800}},
             "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}}
COMBOS = [("en", "light"), ("en", "dark"), ("ko", "light"), ("ko", "dark")]


def full_states(page, base: str) -> list[tuple[str, object]]:
    """(name, reach(page)) for every state of the matrix, each reached from a fresh load."""
    def load(path, then=None):
        def reach(page):
            page.goto(base + path)
            wait_for(page, "document.documentElement.lang !== ''")
            if then:
                then(page)
        return reach

    def after_run(page):
        wait_rendered(page)
        wait_for(page, "document.documentElement.dataset.explained === 'true'")
        page.wait_for_timeout(200)

    def tables(page):
        after_run(page)
        for toggle in page.locator(".table-toggle").all():
            if toggle.is_visible():
                toggle.click()

    def dialog(opener):
        return lambda page: page.locator(opener).click()

    def tab(name, then=None):
        def go(page):
            page.click(f"#tab-{name}")
            if then:
                then(page)
        return go

    def sweep_done(page):
        page.click("#sweep-start")
        wait_for(page, "document.documentElement.dataset.sweep === 'done'", timeout=120_000)

    states = [
        ("explore before a run", load("/")),
        ("explore after a run", load(RUN, after_run)),
        ("explore, tables open", load(RUN, tables)),
        ("shortcuts dialog", load("/", dialog("#help-open"))),
        ("lessons dialog", load("/", dialog("#lessons-open"))),
        ("train before", load("/", tab("train"))),
        ("train after a training", load("/?" + SHORT_TRAINING, train_short)),
        ("sweep before", load("/", tab("sweep"))),
        ("sweep after a sweep", load(SWEEP, sweep_done)),
    ]
    page.goto(base + "/")
    links = page.evaluate("() => [...document.querySelectorAll('#lesson-list .lesson-item a')]"
                          ".map((a) => a.getAttribute('href'))")
    for href in links:
        def lesson(page, href=href):
            page.goto(base + href)
            wait_for(page, "!document.getElementById('lesson-banner').hidden")
            # an Explore lesson runs; a Train lesson waits for Start
            if page.evaluate("document.querySelector('.tabs [aria-selected=\"true\"]').id") == "tab-explore":
                wait_rendered(page)
        states.append((f"lesson {href}", lesson))
    return states


def audit_full(browser, base: str, details: bool) -> dict[str, dict[str, int]]:
    """Every state × viewport × language × scheme: {"state · viewport": {rule: nodes}}, and the
    number of audits."""
    table = {}
    audits = 0
    for where, options in VIEWPORTS.items():
        context = browser.new_context(**options)
        page = context.new_page()
        for name, reach in full_states(page, base):
            reach(page)
            counts = {}
            for lang, scheme in COMBOS:
                set_language(page, lang)
                set_scheme(page, scheme)
                found = serious(run_axe(page))
                audits += 1
                for rule, n in count_by_rule(found).items():
                    counts[rule] = counts.get(rule, 0) + n
                if details and found:
                    print(report(found, f"{name} · {where} · {lang} · {scheme}"), "\n")
            table[f"{name} · {where}"] = counts
            print(f"{name} · {where}: {sum(counts.values())} nodes over {len(COMBOS)} audits", flush=True)
        context.close()
    total = sum(sum(c.values()) for c in table.values())
    rules = sorted({rule for c in table.values() for rule in c})
    print(f"\n{audits} audits of {len(table)} states × viewports: {total} serious/critical nodes"
          + (f" ({', '.join(rules)})" if rules else ""))
    return table


def print_table(table: dict[str, dict[str, int]]) -> None:
    rules = sorted({rule for counts in table.values() for rule in counts})
    states = list(table)
    width = max([len(r) for r in rules] + [len("rule"), len("total")])
    cols = [max(len(s), 5) for s in states]
    print("serious/critical axe-core nodes (WCAG 2.1 A/AA), per state and rule\n")
    print(f"{'rule':<{width}}  " + "  ".join(f"{s:>{c}}" for s, c in zip(states, cols, strict=True)))
    for rule in rules:
        counts = [table[s].get(rule, 0) for s in states]
        print(f"{rule:<{width}}  " + "  ".join(f"{n:>{c}}" for n, c in zip(counts, cols, strict=True)))
    totals = [sum(table[s].values()) for s in states]
    print(f"{'total':<{width}}  " + "  ".join(f"{n:>{c}}" for n, c in zip(totals, cols, strict=True)))
    print(f"\nall states: {sum(totals)} nodes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=os.environ.get("GFL_CHROMIUM") or shutil.which("chromium"))
    parser.add_argument("--details", action="store_true", help="print every violating node")
    parser.add_argument("--full", action="store_true",
                        help="every state × viewport × language × colour scheme (minutes)")
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "GFL_LOG_LEVEL": "warning", "GFL_DATA_DIR": tempfile.mkdtemp(prefix="gfl-axe-")}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "gradient_flow_lab.app.main:app", "--host",
                               "127.0.0.1", "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env)
    try:
        wait_healthy(base, server, 60)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            try:
                table = (audit_full if args.full else audit)(browser, base, args.details)
            finally:
                browser.close()
        if not args.full:
            print_table(table)
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(env["GFL_DATA_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
