"""The explorer page in Debian's Chromium (headless) through Playwright, against a live server.

Every page blocks all requests that are not to this machine and records failed requests,
console errors and page errors; each test ends by checking there were none (or only the
ones it expects). Screenshots go to tests/artifacts/ (git-ignored).
"""

import csv
import io
import json
import re
from itertools import pairwise
from urllib.parse import urlencode

import httpx
import pytest
from browser_helpers import (
    offline_page,
    position,
    probe,
    wait_for,
    wait_rendered,
    wait_settled,
)

pytestmark = pytest.mark.browser

# Chrome logs an HTTP error answer as a console error; the tests that provoke one allow it.
HTTP_ERROR_LOG = "Failed to load resource: the server responded with a status of"


def run_url(base: str, **state) -> str:
    return f"{base}/?{urlencode(state)}"


def test_page_is_a_csp_ready_template(live_server):
    r = httpx.get(live_server.url + "/")
    html = r.text
    # assets under a content-versioned prefix (cached for a year), Plotly from the package
    assert re.search(r'<script type="module" src="/static/[0-9a-f]{12}/js/main\.js"></script>', html)
    assert re.search(r'<script src="/vendor/plotly-[0-9.]+\.min\.js"></script>', html)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    # no inline scripts, no inline event handlers, nothing from another origin
    # (the page's texts travel as a JSON data block, which is never executed)
    assert not re.search(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>", html)
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "{{" not in html and "{%" not in html  # rendered by Jinja2


def test_load_offline_no_failed_request_no_console_error(page, live_server):
    page.goto(live_server.url + "/")
    wait_for(page, "document.getElementById('chart-why').data !== undefined")
    assert page.evaluate("typeof window.Plotly") == "object"
    assert page.locator("#position").text_content() == "ready"
    assert page.evaluate("document.documentElement.dataset.run") == "idle"
    # limits come from GET /api/meta
    assert page.get_attribute("#seq_len", "max") == "2000"
    # every control has a label (an accessible name) and a tooltip
    unlabeled = page.evaluate("""() => [...document.querySelectorAll(
        '.panel input, .panel select, .panel button, .card input, .card button')].filter((el) => {
          if (el.closest('.modebar')) return false; // Plotly's own toolbar
          const named = el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim();
          const tip = el.title || el.closest('[title]');
          return !(named && tip);
        }).map((el) => el.id || el.name || el.outerHTML.slice(0, 80))""")
    assert unlabeled == []
    # no toolbar button that would send a chart off this machine (Plotly's "Share chart...")
    titles = page.evaluate("[...document.querySelectorAll('.modebar-btn')].map((b) => b.dataset.title)")
    assert "Download plot as a PNG" in titles and not any("Share" in t for t in titles)
    # the critical values 1/γ are marked on the σ_max slider
    marks = page.locator("#sigma-mark-labels .mark").all_text_contents()
    assert any(m.startswith("4") and "sigmoid" in m for m in marks)
    assert any(m.startswith("1") and "tanh" in m for m in marks)
    assert page.rec.blocked == []


def test_the_tests_pages_reach_nothing_outside_this_machine(context, live_server):
    """The guard the browser tests rely on (tests/browser_helpers.py): a request to another
    host — a name or an address — fails, and is recorded as blocked; this machine's are served.
    (From a blank page: the app's own pages would stop such requests by their CSP first.)"""
    from browser_helpers import offline_page

    page, rec = offline_page(context)
    page.set_content('<img src="http://example.com/x.png"><img src="http://93.184.215.14/y.png">')
    page.wait_for_timeout(300)  # the failures' events
    assert sorted(rec.blocked) == ["http://93.184.215.14/y.png", "http://example.com/x.png"]
    # and this machine's pages are served (every other browser test loads them)
    page.goto(live_server.url + "/healthz")
    assert "ok" in page.text_content("body") and rec.failed == []
    page.close()


def test_default_run_fills_every_view(page, live_server, artifacts):
    page.goto(live_server.url + "/")
    page.click("#run")
    wait_rendered(page)
    T, H = 50, 16
    s = probe(page)
    assert s["yType"] == "log" and "log scale" in s["yTitle"]
    assert [(l["name"], l["n"]) for l in s["lines"]] == [("RNN (sigmoid)", T), ("RNN (tanh)", T), ("LSTM", T)]
    assert all(all(v is not None and v > 0 for v in l["y"]) for l in s["lines"])
    assert [b["n"] for b in s["bounds"]] == [T, T]  # one dashed bound per RNN
    assert [(r["units"], r["cols"], r["filled"]) for r in s["hidden"]] == [(H, T, T)] * 4  # + LSTM c_t
    assert "cell state" in s["hidden"][3]["label"]
    assert [(r["units"], r["cols"], r["filled"]) for r in s["grads"]] == [(H, T, T)] * 3
    assert [[g["n"] for g in chart] for chart in s["gates"]] == [[T] * 4]
    assert [p["n"] for p in s["path"]] == [T]
    assert [round(b["mass"], 6) for b in s["bars"]] == [1.0, 1.0]  # histograms of all T·H z_t
    assert [c["model"] for c in s["cards"]] == ["rnn-sigmoid", "rnn-tanh", "lstm"]
    assert all(c["final"] for c in s["cards"])
    assert re.search(r"sigmoid RNN's gradient is 10⁻\S+ of its start", s["headline"])
    assert "memory horizon" in s["cards"][0]["text"]
    # the state went to the URL
    assert "models=rnn-sigmoid,rnn-tanh,lstm" in page.url and "seed=0" in page.url
    page.screenshot(path=artifacts / "default-1280x800.png")
    page.screenshot(path=artifacts / "default-1280x800-full.png", full_page=True)


def test_step_pause_resume_and_scrubber(page, live_server):
    T = 20
    page.goto(live_server.url + "/")
    page.fill("#seq_len", str(T))
    # Step from idle starts the run paused at t = 1
    page.click("#step")
    wait_settled(page, 1)
    assert position(page) == {"p": 1, "phase": "forward", "t": 1}
    for expected in (2, 3, 4):
        page.click("#step")
        wait_settled(page, expected)
        s = probe(page)
        assert [r["filled"] for r in s["hidden"]] == [expected] * 4
        assert [g["n"] for g in s["gates"][0]] == [expected] * 4
        assert all(l["n"] == 0 for l in s["lines"])  # no gradient before the backward sweep
    # the keyboard: → one step, ← one step back
    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("ArrowRight")
    wait_settled(page, 5)
    page.keyboard.press("ArrowLeft")
    wait_settled(page, 4)
    assert [r["filled"] for r in probe(page)["hidden"]] == [4] * 4

    # resume slowly, pause, nothing moves, resume again
    page.select_option("#speed", "10")
    page.click("#pause")  # it reads "Resume" while paused
    wait_for(page, "Number(document.getElementById('position').dataset.p) >= 6")
    page.click("#pause")
    paused_at = position(page)["p"]
    page.wait_for_timeout(500)
    assert position(page)["p"] == paused_at
    assert page.locator("#pause .label").text_content() == "Resume"
    page.locator("main").click(position={"x": 5, "y": 5})  # the focus off the <select>
    page.keyboard.press("Space")
    wait_for(page, f"Number(document.getElementById('position').dataset.p) > {paused_at}")

    # to the end at full speed, then scrub back into the backward sweep and the forward sweep
    page.select_option("#speed", "max")
    wait_rendered(page)
    assert position(page)["phase"] == "summary"
    page.locator("#scrubber").fill(str(T + 5))  # backward, 5 steps: t = 20 … 16
    wait_settled(page, T + 5)
    assert position(page) == {"p": T + 5, "phase": "backward", "t": T - 4}
    s = probe(page)
    assert [l["n"] for l in s["lines"]] == [5, 5, 5]
    assert [r["filled"] for r in s["grads"]] == [5] * 3
    assert [r["filled"] for r in s["hidden"]] == [T] * 4
    assert [p["n"] for p in s["path"]] == [5]
    assert not any(c["final"] for c in s["cards"])
    page.locator("#scrubber").fill("7")  # forward, t = 7
    wait_settled(page, 7)
    s = probe(page)
    assert [r["filled"] for r in s["hidden"]] == [7] * 4
    assert [r["filled"] for r in s["grads"]] == [0] * 3
    assert [l["n"] for l in s["lines"]] == [0, 0, 0]
    page.keyboard.press("End")
    wait_settled(page, 2 * T)
    assert all(c["final"] for c in probe(page)["cards"])
    # Reset clears the charts; Run starts again
    page.click("#reset")
    wait_for(page, "document.documentElement.dataset.run === 'idle'")
    assert probe(page)["lines"] == [] and probe(page)["hidden"] == []
    assert position(page)["phase"] == "ready"


STATE = {
    "models": "rnn-tanh,rnn-relu,gru",
    "seq_len": "30",
    "hidden_size": "8",
    "input": "sine",
    "init": "orthogonal",
    "sigma_max": "1.5",
    "forget_bias": "2",
    "loss": "all",
    "seed": "7",
    "jacobian": "1",
    "speed": "max",
    "view": "jac",
    "x": "back",
}
REQUEST = {
    "models": [{"cell": "rnn", "activation": "tanh"}, {"cell": "rnn", "activation": "relu"}, {"cell": "gru"}],
    "seq_len": 30,
    "hidden_size": 8,
    "input": {"kind": "sine"},
    "init": {"scheme": "orthogonal", "sigma_max": 1.5, "forget_bias": 2},
    "loss": {"at": "all"},
    "seed": 7,
    "include": ["hidden", "cell_state", "gates", "grads", "jacobian", "preactivation"],
}


def test_url_state_fills_the_controls_and_reproduces_the_api_numbers(page, live_server, artifacts):
    page.goto(run_url(live_server.url, **STATE))
    wait_rendered(page)
    checked = page.eval_on_selector_all('input[name="models"]:checked', "els => els.map(e => e.value)")
    assert checked == ["rnn-tanh", "rnn-relu", "gru"]
    assert page.input_value("#seq_len") == "30"
    assert page.input_value("#hidden_size") == "8"
    assert page.input_value("#input") == "sine"
    assert page.input_value("#init") == "orthogonal"
    assert page.is_checked("#sigma_on") and page.input_value("#sigma_value") == "1.5"
    assert page.input_value("#forget_bias") == "2"
    assert page.is_checked('input[name="loss"][value="all"]')
    assert page.input_value("#seed") == "7"
    assert page.is_checked("#jacobian")
    assert page.input_value("#speed") == "max"
    assert page.is_checked('input[name="view"][value="jac"]') and page.is_checked(
        'input[name="x"][value="back"]'
    )
    # the URL keeps every key
    for key, value in STATE.items():
        assert f"{key}={value}" in page.url
    s = probe(page)
    assert "s<sub>T</sub>" in s["yTitle"] and s["yType"] == "log"
    assert "steps back" in s["xTitle"]
    assert [l["n"] for l in s["lines"]] == [30, 30, 30]

    expected = httpx.post(live_server.url + "/api/runs", json=REQUEST, timeout=30).json()
    with page.expect_download() as download:
        page.click("#export-json")
    exported = json.loads(download.value.path().read_text())
    assert exported["config"] == expected["config"]
    assert exported["models"] == expected["models"]  # every number, exactly

    with page.expect_download() as download:
        page.click("#export-csv")
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    steps = [r for r in rows if r["row"] == "step"]
    summaries = [r for r in rows if r["row"] == "summary"]
    assert len(steps) == 3 * 30 and len(summaries) == 3
    for r in steps[:30]:
        m = expected["models"][0]
        t = int(r["t"])
        assert float(r["grad_norm"]) == m["grad_norm"][t - 1]
        assert float(r["jacobian_norm"]) == m["jacobian_norm"][t - 1]
        assert float(r["bound"]) == m["bound"][t - 1]
    assert float(summaries[2]["loss"]) == expected["models"][2]["loss"]
    page.screenshot(path=artifacts / "url-state-jacobian-1280x800.png", full_page=True)


def test_a_bad_value_shows_the_api_message(page, live_server):
    page.allowed_console = (HTTP_ERROR_LOG,)
    page.goto(live_server.url + "/")
    page.fill("#seq_len", "5000")
    page.click("#run")
    wait_for(page, "document.documentElement.dataset.run === 'error'")
    detail = httpx.post(live_server.url + "/api/runs", json={"seq_len": 5000}).json()["detail"]
    message = page.locator("#message")
    assert message.is_visible()
    assert detail in message.text_content()  # "seq_len: must be at most 2000 (limit seq_len_max), got 5000"
    assert "422" not in message.text_content() or "did not accept" in message.text_content()
    # a refusal of the Jacobian norms' cost: the page runs without them by itself, and says so
    page.fill("#seq_len", "400")
    page.fill("#hidden_size", "128")
    page.click("#run")
    wait_for(page, "document.documentElement.dataset.run === 'done'", timeout=30_000)
    assert not page.is_checked("#jacobian") and "jacobian=0" in page.url
    assert "left out the Jacobian norms" in message.text_content()


def sse(*events) -> str:
    return "".join(
        f"event: {name}\ndata: {json.dumps(data)}\nid: {i}\n\n" for i, (name, data) in enumerate(events)
    )


def test_busy_server_and_broken_streams_are_shown_in_words(page, live_server):
    page.allowed_console = (HTTP_ERROR_LOG,)
    page.goto(live_server.url + "/")
    answers = []
    page.route("**/api/runs/stream", lambda r: r.fulfill(**answers.pop(0)))

    answers.append(
        {
            "status": 503,
            "headers": {"Retry-After": "2"},
            "content_type": "application/json",
            "body": json.dumps(
                {
                    "detail": "the server is busy: 4 runs are in progress (limit "
                    "max_concurrent_runs); retry in 2 s"
                }
            ),
        }
    )
    page.click("#run")
    wait_for(page, "document.documentElement.dataset.run === 'error'")
    text = page.locator("#message").text_content()
    assert "busy" in text and "Retry-After: 2 s" in text

    start = httpx.post(live_server.url + "/api/runs/stream", json={"seq_len": 3, "hidden_size": 2}).text
    head = start.split("\n\n")
    answers.append(
        {"status": 200, "content_type": "text/event-stream", "body": "\n\n".join(head[:3]) + "\n\n"}
    )
    page.get_by_role("button", name="Try again").click()
    wait_for(page, "document.getElementById('message').textContent.includes('without finishing')")
    assert page.evaluate("document.documentElement.dataset.run") == "error"

    answers.append(
        {
            "status": 200,
            "content_type": "text/event-stream",
            "body": "\n\n".join(head[:2]) + "\n\n" + sse(("error", {"detail": "the run failed mid-way"})),
        }
    )
    page.click("#run")
    wait_for(page,
        "document.getElementById('message').textContent.includes('the run failed mid-way')"
    )


EXPLODING = {"init": {"scheme": "orthogonal", "sigma_max": 5}, "seq_len": 2000}


def test_exploding_run_shows_overflow_and_underflow_as_markers(page, live_server, artifacts):
    """σ_max = 5 on orthogonal weights, T = 2000: the sigmoid RNN's gradient still vanishes
    (γσ_max = 1.25, but saturation) down to exactly 0 (below float64's smallest subnormal, some
    1700 steps back), the tanh RNN's explodes, the relu RNN's states overflow in the forward
    sweep, so all its gradients are null."""
    page.goto(
        run_url(
            live_server.url,
            models="rnn-sigmoid,rnn-tanh,rnn-relu",
            init="orthogonal",
            sigma_max="5",
            seq_len="2000",
            speed="max",
        )
    )
    wait_rendered(page, timeout=60_000)
    expected = httpx.post(
        live_server.url + "/api/runs",
        json={
            **EXPLODING,
            "models": [{"cell": "rnn", "activation": a} for a in ("sigmoid", "relu")],
            "include": ["grads"],
        },
        timeout=30,
    ).json()["models"]
    T = EXPLODING["seq_len"]
    zeros = sum(1 for g in expected[0]["grad_norm"] if g == 0)
    zero_columns = sum(1 for g in expected[0]["grads"] if 0 in g)
    step = expected[1]["summary"]["overflow_step"]
    assert zeros > 0 and step == 663
    s = probe(page)
    # every relu gradient is null: ✕ at the top; the sigmoid's zeros: ▽ at the bottom
    assert s["marks"] == {"RNN (relu): overflow": T, "RNN (sigmoid): underflow": zeros}
    assert s["hidden"][2]["specialCols"] == T - step + 1  # relu states overflow from t = 663
    assert s["grads"][2]["specialCols"] == T
    assert s["grads"][0]["specialCols"] == zero_columns  # the sigmoid's exact zeros, in grey
    relu = next(c for c in s["cards"] if c["model"] == "rnn-relu")
    assert f"t = {step} (forward)" in relu["text"] and "overflowed" in relu["text"]
    assert re.search(r"sigmoid RNN's gradient is exactly 0 \(it underflowed \d+ steps back\)", s["headline"])
    assert re.search(r"tanh RNN's is 10[⁰¹²³⁴⁵⁶⁷⁸⁹]+ times its start", s["headline"]), s["headline"]
    # the log axis stays inside float64: its labels are numbers
    labels = page.eval_on_selector_all("#chart-flow .ytick text", "els => els.map(e => e.textContent)")
    assert labels and not any("NaN" in t or "inity" in t for t in labels)
    page.screenshot(path=artifacts / "exploding-1280x800.png")
    page.screenshot(path=artifacts / "exploding-1280x800-full.png", full_page=True)


MARKS = """() => {
  const el = document.getElementById('chart-flow');
  const xs = (mode) => [...el.data.find((d) => d.mode === mode).x];
  return { all: xs('none'), drawn: xs('markers') };
}"""


def test_flow_chart_draws_dense_marks_thinned_and_every_one_when_zoomed(page, live_server):
    """A run of marks closer than a marker's width is drawn every few steps and at both ends;
    every mark keeps its point (and hover) in the chart's data, and zoomed in, every mark in view
    is drawn."""
    T = 1000
    page.goto(run_url(live_server.url, models="rnn-sigmoid,rnn-tanh", seq_len=T, hidden_size=64, speed="max"))
    wait_rendered(page, timeout=60_000)
    grad = httpx.post(
        live_server.url + "/api/runs",
        json={"models": [{"cell": "rnn", "activation": "sigmoid"}], "seq_len": T, "hidden_size": 64},
        timeout=30,
    ).json()["models"][0]["grad_norm"]
    zeros = [t for t, g in enumerate(grad, start=1) if g == 0]
    assert len(zeros) > 100  # the sigmoid RNN's gradient underflows far back
    m = page.evaluate(MARKS)
    assert sorted(m["all"]) == zeros
    drawn = sorted(m["drawn"])
    assert set(drawn) <= set(zeros) and len(drawn) < len(zeros) / 2
    runs = [t for t in zeros if t - 1 not in zeros] + [t for t in zeros if t + 1 not in zeros]
    assert set(runs) <= set(drawn)  # both ends of every run
    assert max(b - a for a, b in pairwise(drawn)) <= 10  # a few pixels apart
    # zoomed in, every mark in view is drawn; zoomed out again, thinned again
    page.evaluate("Plotly.relayout('chart-flow', {'xaxis.range': [0.5, 60.5]})")
    in_view = [t for t in zeros if t <= 60]
    wait_for(page, f"() => ({MARKS})().drawn.filter((t) => t <= 60).length === {len(in_view)}")
    page.evaluate("Plotly.relayout('chart-flow', {'xaxis.autorange': true})")
    wait_for(page, f"() => ({MARKS})().drawn.length < {len(zeros) / 2}")
    assert sorted(page.evaluate(MARKS)["all"]) == zeros


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_width(context, live_server, artifacts, scheme):
    page, rec = offline_page(context, width=390, height=844, scheme=scheme)
    try:
        page.goto(run_url(live_server.url, models="rnn-sigmoid,rnn-tanh,lstm", speed="max"))
        wait_rendered(page)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390  # nothing sticks out
        s = probe(page)
        assert [l["n"] for l in s["lines"]] == [50, 50, 50]
        white = s["paper"].lower() in ("#ffffff", "#fff", "white", "rgb(255, 255, 255)")
        assert white == (scheme == "light")  # the charts follow the system's light/dark
        page.screenshot(path=artifacts / f"phone-390-{scheme}.png")
        page.screenshot(path=artifacts / f"phone-390-{scheme}-full.png", full_page=True)
        assert not rec.problems()
    finally:
        page.close()


def test_charts_follow_a_switch_between_light_and_dark(page, live_server):
    page.goto(run_url(live_server.url, seq_len="10", speed="max"))
    wait_rendered(page)
    assert probe(page)["paper"] in ("#ffffff", "rgb(255, 255, 255)")
    page.emulate_media(color_scheme="dark")
    wait_for(page,
        "() => !['#ffffff', 'rgb(255, 255, 255)']"
        ".includes(document.getElementById('chart-flow')._fullLayout.paper_bgcolor)"
        " && document.documentElement.dataset.settled === 'true'"
    )
    heat = page.evaluate("document.querySelector('#chart-hidden .heat-chart')._fullLayout.paper_bgcolor")
    assert heat not in ("#ffffff", "rgb(255, 255, 255)")
