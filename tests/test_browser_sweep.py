"""The Sweep tab in Debian's Chromium through Playwright, against the live server and its
embedded Dask cluster (offline pages, as in tests/test_browser.py).

A small sweep (8 points of T = 20 runs) started from the page fills the heatmap and the lines
with the API's numbers (the medians over the seeds of GET /api/sweeps/{id}'s results), shows its
progress, and reopens from its URL (sweep=sha256:…) without being sent again; a click on a cell
opens that run in the Explore tab with the point's settings and seed; a training sweep is
cancelled; the mean-field preset, shrunk, draws the theory's critical line (GET
/api/theory/critical-line); bad values are said in words before anything is sent, and the API's
refusal after. Screenshots in English and Korean, light and dark, at 1280×800 and 390×844 go to
tests/artifacts/sweep-*.png; the tab before and after the small sweep, in both languages at both
sizes, to tests/artifacts/sweep-{before,after}-{en,ko}-{width}x{height}[-full].png.
"""

from urllib.parse import parse_qs, urlencode

import httpx
import numpy as np
import pytest
from browser_helpers import offline_page, wait_for

from gradient_flow_lab.app.settings import Settings
from gradient_flow_lab.app.sweep_presets import PRESETS
from gradient_flow_lab.app.sweep_schemas import SweepRequest
from gradient_flow_lab.app.sweeps import plan_sweep

pytestmark = pytest.mark.browser

HTTP_ERROR_LOG = "Failed to load resource: the server responded with a status of"
# the settings of the small run sweep: the Explore tab's T = 20, two models, σ_max × 4, 2 seeds
SMALL = {
    "tab": "sweep",
    "seq_len": "20",
    "hidden_size": "8",
    "sweep_x": "init.sigma_max",
    "sweep_x_values": "0.5:2:4",
    "sweep_models": "rnn-tanh,lstm",
    "sweep_seeds": "0-1",
    "sweep_metric": "decay_rate",
}

# what the Sweep tab drew, read from the Plotly figures (traces by their meta)
PROBE = r"""
() => {
  const heat = document.getElementById('chart-sweep-heat');
  const lines = document.getElementById('chart-sweep-lines');
  const of = (el, kind) => (el.data || []).filter((d) => d.meta?.kind === kind);
  const cells = of(heat, 'cells')[0];
  return {
    state: document.documentElement.dataset.sweep,
    results: Number(document.documentElement.dataset.sweepResults),
    z: cells ? cells.z : null,
    x: cells ? Array.from(cells.x) : null,
    yTicks: heat.layout?.yaxis?.ticktext || null,
    xTitle: heat.layout?.xaxis?.title?.text,
    theory: of(heat, 'theory').map((d) => ({ name: d.name, x: Array.from(d.x), y: Array.from(d.y) })),
    medians: of(lines, 'median').map((d) => ({ name: d.name, x: Array.from(d.x), y: Array.from(d.y) })),
    bands: of(lines, 'band').length,
    baseline: of(lines, 'baseline').map((d) => ({ name: d.name, y: Array.from(d.y) })),
    yTitle: lines.layout?.yaxis?.title?.text,
    progress: document.getElementById('sweep-progress-text').textContent,
    status: document.getElementById('sweep-status').textContent,
    size: document.getElementById('sweep-size').textContent,
    heatEmpty: document.getElementById('sweep-heat-empty').hidden,
  };
}
"""


def url(base: str, **state) -> str:
    return f"{base}/?{urlencode(state)}"


def query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(page.evaluate("location.search.slice(1)")).items()}


def wait_state(page, *states, timeout=90_000):
    wait_for(
        page, "(s) => s.includes(document.documentElement.dataset.sweep)", arg=list(states), timeout=timeout
    )
    wait_for(page, "document.documentElement.dataset.sweepSettled === 'true'", timeout=timeout)


def measured(page):
    """Until the page has timed one point of the run sweep its controls describe (a POST /api/runs
    that leaving the page would abort)."""
    wait_for(page, "document.getElementById('sweep-size').textContent.includes('one point took')")


def sweep_posts(page) -> list:
    posts = []
    page.on(
        "request",
        lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith("/api/sweeps") else None,
    )
    return posts


def medians(results: list[dict], metric: str, xs: list, models: list[str]) -> list[list]:
    """The heatmap's rows (one per model label) from the API's results: the median over the seeds."""
    rows = []
    for label in models:
        row = []
        for x in xs:
            v = [
                r["metrics"][metric]
                for r in results
                if r["label"] == label and r["point"]["init.sigma_max"] == x
            ]
            v = [a for a in v if a is not None]
            row.append(float(np.median(v)) if v else None)
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def small(context, live_server):
    """The small run sweep, started from the page: {id, search, results (GET's)}."""
    page, rec = offline_page(context)
    posts = sweep_posts(page)
    page.goto(url(live_server.url, **SMALL))
    wait_for(page, "document.getElementById('sweep-size').textContent.includes('16 runs')")
    assert page.evaluate("document.documentElement.dataset.run") == "idle"  # no autorun of the explorer
    page.click("#sweep-start")
    wait_for(page, "['running', 'done'].includes(document.documentElement.dataset.sweep)", timeout=60_000)
    wait_state(page, "done")
    s = page.evaluate(PROBE)
    measured(page)
    q = query(page)
    body = httpx.get(f"{live_server.url}/api/sweeps/{q['sweep']}", timeout=30).json()
    problems = rec.problems()
    page.close()
    assert not problems, problems
    assert len(posts) == 1
    return {"id": q["sweep"], "search": q, "results": body["results"], "request": body["request"], "probe": s}


def test_a_small_sweep_fills_the_views_with_the_apis_numbers(small):
    s = small["probe"]
    assert small["id"].startswith("sha256:") and len(small["id"]) == 71
    assert small["request"]["base"]["seq_len"] == 20 and small["request"]["base"]["hidden_size"] == 8
    assert small["request"]["grid"] == {"init.sigma_max": [0.5, 1, 1.5, 2]} and small["request"]["seeds"] == [
        0,
        1,
    ]
    assert s["results"] == len(small["results"]) == 16  # 4 σ × 2 seeds × 2 models
    assert s["progress"] == "8 / 8 points (100 %)" and s["status"] == "Done: 8 of 8 points."
    # the heatmap: σ_max across, the models down, the median decay rate over the two seeds
    assert s["x"] == [0.5, 1, 1.5, 2] and s["yTicks"] == ["RNN (tanh)", "LSTM"]
    assert s["xTitle"].startswith("σ_max")
    expected = medians(small["results"], "decay_rate", s["x"], s["yTicks"])
    np.testing.assert_allclose(np.array(s["z"], dtype=float), np.array(expected, dtype=float), rtol=1e-12)
    # the lines: one per model with its band, the same medians
    assert [m["name"] for m in s["medians"]] == ["RNN (tanh)", "LSTM"] and s["bands"] == 2
    np.testing.assert_allclose([m["y"] for m in s["medians"]], expected, rtol=1e-12)
    assert s["yTitle"] == "decay rate per step" and s["baseline"] == []  # a run sweep has no chance level


def test_the_url_reopens_the_stored_sweep_without_sending_it(page, live_server, small, artifacts):
    posts = sweep_posts(page)
    page.goto(url(live_server.url, **small["search"]))
    wait_state(page, "done", timeout=30_000)
    measured(page)
    s = page.evaluate(PROBE)
    assert posts == [] and s["results"] == 16
    np.testing.assert_allclose(
        np.array(s["z"], dtype=float), np.array(small["probe"]["z"], dtype=float), rtol=0
    )
    # another metric: the memory horizon, from the same results
    page.select_option("#sweep_metric", "memory_horizon")
    wait_for(page, "document.documentElement.dataset.sweepSettled === 'true'")
    s = page.evaluate(PROBE)
    # a horizon of null (never dropped below 10⁻³ within T) counts as T = 20
    censored = [
        {
            **r,
            "metrics": {
                "h": 20 if r["metrics"]["memory_horizon"] is None else r["metrics"]["memory_horizon"]
            },
        }
        for r in small["results"]
    ]
    horizons = medians(censored, "h", s["x"], s["yTicks"])
    np.testing.assert_allclose(np.array(s["z"], dtype=float), np.array(horizons, dtype=float))
    assert query(page)["sweep_metric"] == "memory_horizon"
    page.select_option("#sweep_metric", "decay_rate")
    wait_for(page, "document.documentElement.dataset.sweepSettled === 'true'")
    page.screenshot(path=artifacts / "sweep-1280x800-en.png", full_page=True)


def cell_centre(page, i: int, j: int) -> dict:
    """The page coordinates of heatmap cell (x index i, y index j)."""
    return page.evaluate(
        """([i, j]) => {
      const gd = document.getElementById('chart-sweep-heat');
      const { xaxis, yaxis } = gd._fullLayout;
      const cells = gd.data.find((d) => d.meta?.kind === 'cells');
      const box = gd.getBoundingClientRect();
      return { x: box.left + xaxis._offset + xaxis.l2p(cells.x[i]),
               y: box.top + yaxis._offset + yaxis.l2p(cells.y[j]) };
    }""",
        [i, j],
    )


def test_a_click_on_a_cell_opens_that_run_in_the_explore_tab(page, live_server, small):
    page.goto(url(live_server.url, **small["search"]))
    wait_state(page, "done", timeout=30_000)
    measured(page)
    page.locator("#chart-sweep-heat").scroll_into_view_if_needed()
    at = cell_centre(page, 2, 1)  # σ_max = 1.5, LSTM
    with page.expect_navigation():
        page.mouse.click(at["x"], at["y"])
    q = query(page)
    assert q.get("tab", "explore") == "explore"
    assert (q["models"], q["seq_len"], q["hidden_size"], q["sigma_max"]) == ("lstm", "20", "8", "1.5")
    assert q["seed"] in ("0", "1")
    wait_for(page, "document.documentElement.dataset.run === 'done'", timeout=30_000)
    # the run on screen is the point's: its decay rate is one of the cell's two seeds'
    seeds = {
        r["seed"] for r in small["results"] if r["label"] == "LSTM" and r["point"]["init.sigma_max"] == 1.5
    }
    assert int(q["seed"]) in seeds
    # Back returns to the sweep (once the explorer has loaded all it asks for)
    wait_for(page, "document.documentElement.dataset.rendered === 'true'", timeout=30_000)
    page.wait_for_load_state("networkidle")
    page.go_back()
    wait_state(page, "done", timeout=30_000)
    assert query(page)["sweep"] == small["id"]
    # the sweep tab's timing of one point (POST /api/runs) cut short by a navigation is no fault
    page.rec.failed[:] = [f for f in page.rec.failed if not f.endswith("/api/runs (net::ERR_ABORTED)")]


def test_bad_values_are_said_in_words_before_anything_is_sent(page, live_server):
    page.allowed_console = (HTTP_ERROR_LOG,)
    posts = sweep_posts(page)
    page.goto(url(live_server.url, **{**SMALL, "sweep_x_values": "0.5, two"}))
    wait_for(page, "document.getElementById('sweep-x-preview').textContent !== ''")
    assert page.text_content("#sweep-x-preview") == "“two” is not a number"
    page.fill("#sweep_seeds", "3-1")
    assert "“3-1” is not a seed" in page.text_content("#sweep-seeds-preview")
    page.click("#sweep-start")
    text = page.text_content("#sweep-message .message-text")
    assert "σ_max (largest singular value of W_hh): “two” is not a number." in text
    assert "Seeds: “3-1” is not a seed" in text
    assert posts == [] and page.evaluate("document.documentElement.dataset.sweep") == "idle"
    # the server's refusal: every point over its limits (seq_len_max)
    page.fill("#sweep_seeds", "0")
    page.select_option("#sweep_x", "seq_len")
    page.fill("#sweep_x_values", "200000, 300000")
    page.click("#sweep-start")
    wait_for(page, "document.documentElement.dataset.sweep === 'error'")
    text = page.text_content("#sweep-message .message-text")
    assert (
        text.startswith("The API did not accept these settings: ")
        and "no point of the sweep can be computed" in text
    )
    assert "seq_len" in text and page.text_content("#sweep-status") == "The sweep did not start."
    assert len(posts) == 1  # the first Start sent nothing


def test_a_point_the_server_refuses_is_named_and_the_rest_computed(page, live_server):
    page.allowed_console = (HTTP_ERROR_LOG,)  # the time of the costliest point, measured: refused
    page.goto(
        url(
            live_server.url,
            **{
                **SMALL,
                "sweep_x": "seq_len",
                "sweep_x_values": "12, 200000",
                "sweep_models": "rnn-tanh",
                "sweep_seeds": "0",
            },
        )
    )
    wait_for(page, "document.getElementById('sweep-size').textContent.includes('2 points')")
    page.click("#sweep-start")
    wait_state(page, "done")
    s = page.evaluate(PROBE)
    assert s["results"] == 1 and s["status"].startswith(
        "Done: 2 of 2 points. 1 point could not be computed: "
    )
    assert "seq_len" in s["status"]


def test_a_training_sweep_is_cancelled(page, live_server):
    page.goto(
        url(
            live_server.url,
            tab="sweep",
            sweep_kind="train",
            sweep_x="hidden_size",
            sweep_x_values="8, 12, 16, 20",
            sweep_models="lstm",
            sweep_seeds="0-1",
            train_seq_len="30",
            train_steps="20000",
            train_eval_every="5000",
            train_eval_size="100",
        )
    )
    wait_for(page, "document.getElementById('sweep-size').textContent.includes('8 points')")
    # too long to try here: the server's estimate (POST /api/sweeps/plan), said before Start
    wait_for(page, "document.getElementById('sweep-size').textContent.includes('estimate')")
    said = page.text_content("#sweep-size")
    page.click("#sweep-start")
    wait_for(page, "document.documentElement.dataset.sweep === 'running'", timeout=60_000)
    request = httpx.get(f"{live_server.url}/api/sweeps/{query(page)['sweep']}", timeout=30).json()["request"]
    plan = httpx.post(f"{live_server.url}/api/sweeps/plan", json=request, timeout=30).json()
    assert plan["valid"] == 8 and plan["compute_seconds"] > 8 * plan["longest_point_seconds"] / 2 > 0
    total, one = clock(plan["compute_seconds"]), clock(plan["longest_point_seconds"])
    assert said == (f"8 points (8 trainings). About {total} of computing by the server's estimate "
                    f"(its longest point about {one}); the workers share it.")
    assert page.is_enabled("#sweep-cancel")
    progress = page.text_content("#sweep-progress-text")
    assert progress.startswith(("0 / 8 points · ", "1 / 8 points · ")) and "points/s · ETA " in progress
    page.click("#sweep-cancel")
    wait_state(page, "cancelled", timeout=30_000)
    s = page.evaluate(PROBE)
    assert s["status"].startswith("Cancelled after ") and "; the finished ones are shown." in s["status"]
    assert page.is_disabled("#sweep-cancel") and page.is_hidden("#sweep-message")
    sweep = httpx.get(f"{live_server.url}/api/sweeps/{query(page)['sweep']}", timeout=30).json()
    assert sweep["status"] == "cancelled" and sweep["done"] < sweep["total"] == 8


def clock(seconds: float) -> str:
    """sweep-controls.js's duration() in English."""
    if seconds < 0.1:
        return f"{max(1, round(1000 * seconds))} ms"
    if seconds < 10:
        return f"{seconds:.1f} s"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s // 60 % 60:02d} min"


def test_a_busy_server_is_asked_again_after_its_retry_after(page, live_server):
    """A 503 (the server's sweeps at their limit) is retried by itself after its Retry-After,
    as the other tabs do; the countdown is said and Cancel stops it."""
    page.allowed_console = (HTTP_ERROR_LOG,)
    answers = []
    busy = {"left": 2}

    def route(r):
        if r.request.method != "POST" or busy["left"] == 0:
            r.continue_()
            return
        busy["left"] -= 1
        answers.append(503)
        detail = "the server is busy: 2 sweeps are computing (limit max_concurrent_sweeps = 2)"
        r.fulfill(status=503, headers={"Retry-After": "1"}, json={"detail": detail})

    page.route("**/api/sweeps", route)
    page.goto(url(live_server.url, **SMALL))
    page.click("#sweep-start")
    wait_for(page, "document.documentElement.dataset.sweepRetry === '1'")
    busy_words = "The server is busy with other sweeps: trying again by itself in 1 s…"
    wait_for(page, "(w) => document.getElementById('sweep-status').textContent === w", arg=busy_words)
    assert "max_concurrent_sweeps = 2" in page.text_content("#sweep-message")
    wait_state(page, "done", timeout=60_000)  # asked again twice: the second retry is answered
    assert answers == [503, 503] and page.is_hidden("#sweep-message")
    assert page.evaluate(PROBE)["results"] == 16
    # Cancel stops the countdown
    busy["left"] = 1
    page.fill("#sweep_seeds", "2")
    page.click("#sweep-start")
    wait_for(page, "document.documentElement.dataset.sweepRetry === '1'")
    page.locator("#sweep-message").get_by_role("button", name="Cancel").click()
    assert page.evaluate("document.documentElement.dataset.sweepRetry") is None
    wait_for(page, "(w) => document.getElementById('sweep-status').textContent === w",
             arg="Not tried again. Press Start when you are ready.")
    page.wait_for_timeout(1500)
    assert answers == [503, 503, 503], "asked again after Cancel"


def test_a_training_sweep_draws_the_success_rate_and_the_chance_level(page, live_server):
    page.goto(
        url(
            live_server.url,
            tab="sweep",
            sweep_kind="train",
            sweep_x="hidden_size",
            sweep_x_values="6, 12",
            sweep_models="lstm",
            sweep_seeds="0-1",
            train_task="adding",
            train_seq_len="8",
            train_steps="40",
            train_eval_every="20",
            train_eval_size="64",
        )
    )
    wait_for(page, "document.getElementById('sweep-size').textContent.includes('4 points')")
    assert page.input_value("#sweep_metric") == "success_rate"
    page.click("#sweep-start")
    wait_state(page, "done")
    s = page.evaluate(PROBE)
    results = httpx.get(f"{live_server.url}/api/sweeps/{query(page)['sweep']}", timeout=30).json()["results"]
    assert s["results"] == len(results) == 4
    # the share of the two seeds solved, per H
    rates = [
        np.mean([r["metrics"]["solved"] for r in results if r["point"]["hidden_size"] == h]) for h in (6, 12)
    ]
    assert s["medians"][0]["y"] == rates and s["yTitle"] == "success rate (share of seeds solved)"
    # the adding problem's chance level (MSE 1/6) never counts as solved
    [chance] = s["baseline"]
    assert chance["y"] == [0, 0] and chance["name"] == "chance level (0.167): never solved"
    page.select_option("#sweep_metric", "final_metric")
    wait_for(page, "document.documentElement.dataset.sweepSettled === 'true'")
    s = page.evaluate(PROBE)
    assert s["baseline"][0]["y"] == [r["baseline"]["final_metric"] for r in results[:1]] * 2 == [1 / 6, 1 / 6]
    assert s["yTitle"] == "final held-out metric (log scale)"  # an MSE spans decades
    # a click on the point of H = 12 opens that training in the Train tab, ready to start
    page.locator("#chart-sweep-lines").scroll_into_view_if_needed()
    at = page.evaluate("""() => {
      const gd = document.getElementById('chart-sweep-lines');
      const { xaxis, yaxis } = gd._fullLayout;
      const median = gd.data.find((d) => d.meta?.kind === 'median');
      const box = gd.getBoundingClientRect();
      return { x: box.left + xaxis._offset + xaxis.l2p(median.x[1]),
               y: box.top + yaxis._offset + yaxis.l2p(Math.log10(median.y[1])) };
    }""")
    with page.expect_navigation():
        page.mouse.click(at["x"], at["y"])
    q = query(page)
    assert q["tab"] == "train" and q["train_models"] == "lstm" and q["train_hidden_size"] == "12"
    assert (q["train_task"], q["train_seq_len"], q["train_steps"]) == ("adding", "8", "40") and q[
        "train_seed"
    ] in "01"
    wait_for(page, "document.getElementById('train_hidden_size').value === '12'")
    assert (
        page.is_visible("#panel-train") and page.evaluate("document.documentElement.dataset.train") == "idle"
    )


def test_each_preset_left_as_it_is_sends_the_servers_own(page, live_server):
    """The request the page sends for each preset chosen from the menu: the server's preset."""
    page.allowed_console = (HTTP_ERROR_LOG,)
    sent = []

    def refuse(route):
        sent.append(route.request.post_data_json)
        route.fulfill(status=503, content_type="application/json", body='{"detail": "not in this test"}')

    page.route("**/api/sweeps", refuse)
    page.goto(url(live_server.url, tab="sweep"))
    wait_for(page, "document.getElementById('sweep_preset').options.length === 4")
    settings = Settings()
    for name in sorted(PRESETS):
        page.select_option("#sweep_preset", name)
        assert query(page)["sweep_preset"] == name
        page.click("#sweep-start")
        wait_for(page, "document.documentElement.dataset.sweep === 'error'")
        assert "not in this test" in page.text_content("#sweep-message .message-text")
        # the same canonical request (the server's defaults filled in, its grid in its order);
        # numbers compared as numbers: JSON has one kind, and a browser writes the preset's 1.0 as 1
        planned = plan_sweep(SweepRequest(**sent.pop()), settings).request
        assert planned == plan_sweep(SweepRequest(**PRESETS[name]), settings).request, name


def test_the_mean_field_preset_draws_the_critical_line(page, live_server, artifacts):
    page.goto(url(live_server.url, tab="sweep", sweep_preset="mean_field_phase_diagram"))
    wait_for(page, "document.getElementById('sweep_preset').value === 'mean_field_phase_diagram'")
    assert page.input_value("#sweep_x") == "init.std" and page.input_value("#sweep_y") == "init.bias_std"
    assert page.text_content("#sweep-size").startswith("154 points (154 runs).")
    assert "critical line χ₁ = 1" in page.text_content("#sweep-preset-text")
    # shrunk to 12 points for the test: σ_w = std·√100 from 0.5 to 3, σ_b 0 to 0.6, one seed
    page.fill("#sweep_x_values", "0.05:0.3:4")
    page.fill("#sweep_y_values", "0:0.6:3")
    page.fill("#sweep_seeds", "0")
    page.click("#sweep-start")
    wait_state(page, "done")
    # the theory's line comes from its own request, drawn when it arrives
    wait_for(
        page,
        "(document.getElementById('chart-sweep-heat').data || []).some((d) => d.meta?.kind === 'theory')",
    )
    wait_for(page, "document.documentElement.dataset.sweepSettled === 'true'")
    s = page.evaluate(PROBE)
    assert len(s["z"]) == 3 and len(s["z"][0]) == 4 and s["results"] == 12
    [line] = s["theory"]
    assert line["name"] == "mean-field critical line χ₁ = 1"
    theory = httpx.get(
        f"{live_server.url}/api/theory/critical-line",
        params={"sigma_b": [line["y"][0], line["y"][-1]], "hidden_size": 100},
        timeout=30,
    ).json()
    assert line["x"][0] == pytest.approx(theory["points"][0]["init_std"], rel=1e-9)
    assert line["x"][-1] == pytest.approx(theory["points"][-1]["init_std"], rel=1e-9)
    assert line["y"][0] == 0 and line["y"][-1] == pytest.approx(0.6)
    # the measured decay rate is below 1 left of the line and above it right of it (σ_b = 0: σ_w < 1 vs 3)
    assert s["z"][0][0] < 1 < s["z"][0][3]
    assert "Dashed: the mean-field theory's critical line" in page.text_content("#sweep-heat-sub")
    measured(page)
    # a bare link (sweep=… alone) shows the sweep with its own settings in the controls
    page.goto(url(live_server.url, tab="sweep", sweep=query(page)["sweep"]))
    wait_state(page, "done", timeout=30_000)
    wait_for(page, "document.getElementById('sweep_preset').value === 'mean_field_phase_diagram'")
    wait_for(
        page,
        "(document.getElementById('chart-sweep-heat').data || []).some((d) => d.meta?.kind === 'theory')",
    )
    wait_for(page, "document.documentElement.dataset.sweepSettled === 'true'")
    assert (page.input_value("#sweep_x"), page.input_value("#sweep_x_values")) == ("init.std", "0.05:0.3:4")
    assert (page.input_value("#sweep_y"), page.input_value("#sweep_y_values")) == ("init.bias_std", "0:0.6:3")
    assert page.input_value("#sweep_seeds") == "0" and page.text_content("#sweep-size").startswith(
        "12 points"
    )
    again = page.evaluate(PROBE)
    assert again["z"] == s["z"] and again["x"] == s["x"] and len(again["theory"]) == 1
    measured(page)
    # a cell opens in Explore with σ_w and σ_b as its weight and bias std (scheme normal, H = 100)
    page.locator("#chart-sweep-heat").scroll_into_view_if_needed()
    at = cell_centre(page, 3, 2)
    with page.expect_navigation():
        page.mouse.click(at["x"], at["y"])
    q = query(page)
    assert (q["init"], q["init_std"], q["bias_std"], q["hidden_size"], q["input"]) == (
        "normal",
        "0.3",
        "0.6",
        "100",
        "impulse",
    )
    assert (q["models"], q["seq_len"], q["seed"]) == ("rnn-tanh", "100", "0")
    wait_for(page, "document.documentElement.dataset.rendered === 'true'", timeout=60_000)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=artifacts / "sweep-mean-field-1280x800-en.png", full_page=True)


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_screenshots_before_and_after_a_small_sweep(context, live_server, artifacts, lang, width, height):
    """The tab with the small sweep's settings before Start (its size and time said, the views
    empty), then once its 8 points are in."""
    page, rec = offline_page(context, width=width, height=height)
    page.goto(url(live_server.url, **{**SMALL, "lang": lang}))
    # until the page has timed one point ("one point took …", "점 하나에 …")
    took = {"en": "one point took", "ko": "점 하나에"}[lang]
    wait_for(page, "(w) => document.getElementById('sweep-size').textContent.includes(w)", arg=took)
    s = page.evaluate(PROBE)
    assert s["state"] == "idle" and s["z"] is None and s["heatEmpty"] is False
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=artifacts / f"sweep-before-{lang}-{width}x{height}.png")
    page.screenshot(path=artifacts / f"sweep-before-{lang}-{width}x{height}-full.png", full_page=True)
    page.click("#sweep-start")
    wait_state(page, "done")
    s = page.evaluate(PROBE)
    assert s["results"] == 16 and len(s["z"]) == 2 and s["heatEmpty"] is True
    assert (s["status"] == "Done: 8 of 8 points.") == (lang == "en")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=artifacts / f"sweep-after-{lang}-{width}x{height}.png")
    page.locator("#sweep-views").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / f"sweep-after-{lang}-{width}x{height}-views.png")
    page.screenshot(path=artifacts / f"sweep-after-{lang}-{width}x{height}-full.png", full_page=True)
    problems = rec.problems()
    page.close()
    assert not problems, problems


def shots(page, artifacts, name: str):
    page.screenshot(path=artifacts / f"{name}.png")
    page.locator("#sweep-views").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / f"{name}-views.png")
    page.screenshot(path=artifacts / f"{name}-full.png", full_page=True)
    page.evaluate("window.scrollTo(0, 0)")


def test_korean_dark_then_a_phone_then_english_light(context, live_server, small, artifacts):
    """One page through the screenshots: Korean in the dark at 1280×800, the same on a phone
    (390×844), then switched live to English and the light theme."""
    page, rec = offline_page(context, width=1280, height=800, scheme="dark")
    page.goto(url(live_server.url, **{**small["search"], "lang": "ko"}))
    wait_state(page, "done", timeout=30_000)
    wait_for(page, "document.getElementById('sweep-size').textContent.includes('걸립니다')")
    s = page.evaluate(PROBE)
    assert page.text_content("#tab-sweep") == "스윕"
    assert s["status"] == "끝: 점 8개 중 8개." and s["yTitle"] == "단계당 감쇠율"
    assert s["xTitle"].startswith("σ_max (W_hh의") and s["progress"] == "8 / 8개 점 (100 %)"
    shots(page, artifacts, "sweep-1280x800-ko-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)  # the charts follow the width
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    shots(page, artifacts, "sweep-390x844-ko-dark")
    page.emulate_media(color_scheme="light")
    page.select_option("#lang", "en")
    wait_for(page, "document.getElementById('sweep-status').textContent === 'Done: 8 of 8 points.'")
    wait_for(page, "document.documentElement.dataset.sweepSettled === 'true'")
    s = page.evaluate(PROBE)
    assert s["yTitle"] == "decay rate per step" and s["xTitle"].startswith("σ_max (largest")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(244, 245, 247)"
    assert page.evaluate("document.getElementById('chart-sweep-heat').layout.paper_bgcolor") == "#ffffff"
    shots(page, artifacts, "sweep-390x844-en-light")
    problems = rec.problems()
    page.close()
    assert not problems, problems
