"""The Train tab in Debian's Chromium (headless) through Playwright, against a live server.

Like tests/test_browser.py: every page is offline (requests that are not to this machine are
blocked) and each test ends by checking there was no failed request and no console error
(except the ones it provokes). Screenshots go to tests/artifacts/.
"""

from urllib.parse import parse_qs, urlencode

import pytest
from browser_helpers import offline_page, wait_for

pytestmark = pytest.mark.browser

HTTP_ERROR_LOG = "Failed to load resource: the server responded with a status of"

SHORT = {
    "train_models": "rnn-tanh,gru",
    "train_task": "adding",
    "train_seq_len": "12",
    "train_hidden_size": "16",
    "train_steps": "60",
    "train_eval_every": "20",
    "train_eval_size": "100",
}

# What the Train tab drew, read from the Plotly figures.
PROBE = r"""
() => {
  const loss = document.getElementById('chart-loss');
  const metric = document.getElementById('chart-metric');
  const lines = (el) => (el.data || []).filter((d) => d.mode !== 'markers')
    .map((d) => ({ name: d.name, n: d.x.length, y: d.y }));
  const maps = [...document.querySelectorAll('#chart-flowmaps .heat-chart')].map((el) => {
    const z = el.data?.[0]?.z || [];
    const cols = z.length ? z[0].length : 0;
    let filled = 0;
    for (const row of z) for (const v of row) if (v !== null && Number.isFinite(v)) filled += 1;
    return { rows: z.length, cols, filled, x: el.data?.[0]?.x.length,
      label: el.parentElement.querySelector('.heat-label').textContent };
  });
  return {
    yType: loss._fullLayout?.yaxis?.type,
    yTitle: loss._fullLayout?.yaxis?.title?.text,
    loss: lines(loss),
    clips: (loss.data || []).filter((d) => d.mode === 'markers').map((d) => d.x.length),
    metric: lines(metric),
    maps,
    cards: [...document.querySelectorAll('#train-cards .train-card')].map((c) => ({
      model: c.dataset.model, final: c.classList.contains('is-final'),
      verdict: c.querySelector('.verdict').textContent })),
    progress: document.getElementById('train-progress-text').textContent,
    percent: Number(document.getElementById('train-progress-text').dataset.percent),
    state: document.documentElement.dataset.train,
    status: document.getElementById('train-status').textContent,
  };
}
"""


def train_url(base: str, **state) -> str:
    return f"{base}/?{urlencode({'tab': 'train', **state})}"


def search(page) -> str:
    """The query string now (page.url can lag behind history.replaceState)."""
    return page.evaluate("location.search.slice(1)")


def checked_models(page) -> list[str]:
    return page.eval_on_selector_all('input[name="train_models"]:checked', "els => els.map(e => e.value)")


def aborted_stream_ok(page):
    """Stop aborts the fetch on purpose: Chrome reports that as a failed request."""
    page.rec.failed[:] = [f for f in page.rec.failed if not ("/api/train/stream" in f and "ERR_ABORTED" in f)]


def wait_state(page, state: str, timeout=30_000):
    wait_for(page, "(s) => document.documentElement.dataset.train === s", arg=state, timeout=timeout)


def test_tabs_switch_by_mouse_and_keyboard_and_keep_the_explorer(page, live_server):
    page.goto(live_server.url + "/")
    assert page.is_visible("#panel-explore") and not page.is_visible("#panel-train")
    assert page.get_attribute("#tab-explore", "aria-selected") == "true"
    page.click("#tab-train")
    assert page.is_visible("#panel-train") and not page.is_visible("#panel-explore")
    assert "tab=train" in search(page) and "train_steps=1500" in search(page)
    # the default models and the task's text
    assert checked_models(page) == ["rnn-sigmoid", "rnn-tanh", "lstm", "gru"]
    assert "1/6" in page.text_content("#train-task-text")
    page.select_option("#train_task", "copy")
    assert "12.5 %" in page.text_content("#train-task-text")
    # keyboard: ← on the focused tab goes back to Explore; explorer shortcuts are off on Train
    page.focus("#tab-train")
    page.keyboard.press("ArrowLeft")
    assert page.is_visible("#panel-explore")
    assert page.evaluate("document.activeElement.id") == "tab-explore"
    assert "tab=train" not in search(page) and "train_task=copy" in search(page)
    page.keyboard.press("ArrowRight")  # Train is the tab after Explore (Sweep is the last)
    assert page.is_visible("#panel-train") and "tab=train" in search(page)
    page.click("#train-views")
    page.keyboard.press("r")  # the explorer's Run shortcut must not fire on this tab
    page.wait_for_timeout(200)
    assert page.evaluate("document.documentElement.dataset.run") == "idle"


def test_short_training_fills_every_chart(page, live_server, artifacts):
    page.goto(train_url(live_server.url, **SHORT))
    assert page.is_visible("#panel-train")
    assert page.evaluate("document.documentElement.dataset.train") == "idle"  # no autorun
    page.click("#train-start")
    wait_state(page, "done")
    wait_for(page, "document.documentElement.dataset.trainSettled === 'true'")
    s = page.evaluate(PROBE)
    assert s["yType"] == "log" and "log scale" in s["yTitle"]
    names = [line["name"] for line in s["loss"]]
    assert names[:2] == ["RNN (tanh)", "GRU"] and names[2].startswith("baseline")
    assert [line["n"] for line in s["loss"][:2]] == [60, 60]
    assert all(v > 0 for line in s["loss"][:2] for v in line["y"])
    assert s["loss"][2]["y"] == pytest.approx([1 / 6, 1 / 6])
    assert len(s["clips"]) == 2 and sum(s["clips"]) > 0  # clip 1 by default: clipped steps marked
    assert [line["n"] for line in s["metric"]] == [3, 3, 2]  # evals at 20, 40, 60 + the baseline
    assert [(m["rows"], m["cols"], m["x"]) for m in s["maps"]] == [(12, 60, 60)] * 2
    assert all(m["filled"] == 12 * 60 for m in s["maps"])
    assert s["percent"] == 100 and "step 60 / 60" in s["progress"] and "steps/s" in s["progress"]
    assert [c["model"] for c in s["cards"]] == ["rnn-tanh", "gru"] and all(c["final"] for c in s["cards"])
    for card, label in zip(s["cards"], ["RNN (tanh)", "GRU"], strict=True):
        assert card["verdict"].startswith(f"{label}: MSE ") and "vs baseline 0.167 — " in card["verdict"]
        assert card["verdict"].endswith(("— solved", "(needs MSE below 0.01)"))
    assert s["status"].startswith("Done: 60 steps")
    page.screenshot(path=artifacts / "train-1280x800.png")
    page.screenshot(path=artifacts / "train-1280x800-full.png", full_page=True)


def test_stop_stops_the_training(page, live_server):
    page.goto(train_url(live_server.url, **{**SHORT, "train_steps": "20000", "train_seq_len": "40",
                                             "train_eval_every": "1000"}))
    page.click("#train-start")
    wait_for(page, "Number(document.getElementById('train-progress-text').dataset.step) >= 5")
    assert "ETA" in page.text_content("#train-progress-text")
    page.click("#train-stop")
    wait_state(page, "stopped")
    step = page.evaluate("Number(document.getElementById('train-progress-text').dataset.step)")
    page.wait_for_timeout(300)
    s = page.evaluate(PROBE)
    assert s["state"] == "stopped" and f"Stopped at step {step} of 20000" in s["status"]
    assert page.is_hidden("#train-message")  # no error
    assert all("stopped" in c["verdict"] for c in s["cards"])
    assert page.is_disabled("#train-stop") and page.is_enabled("#train-start")
    aborted_stream_ok(page)


def test_a_bad_value_shows_the_api_message(page, live_server):
    page.allowed_console = (HTTP_ERROR_LOG,)
    page.goto(train_url(live_server.url, **SHORT))
    page.fill("#train_steps", str(10**6))
    page.click("#train-start")
    wait_state(page, "error")
    text = page.text_content("#train-message")
    assert "The API did not accept these settings" in text
    assert "steps: must be at most 20000 (limit steps_max), got 1000000" in text
    assert page.text_content("#train-status") == "The training did not start."
    # no model: said in words, nothing sent
    for box in page.query_selector_all('input[name="train_models"]:checked'):
        box.uncheck()
    page.click("#train-start")
    assert "Choose at least one model" in page.text_content("#train-message")


def test_busy_server_and_broken_streams_are_shown_in_words(page, live_server):
    page.allowed_console = (HTTP_ERROR_LOG,)
    page.goto(train_url(live_server.url, **SHORT))
    start = ('event: start\ndata: {"config": {"steps": 10, "clip": null, "eval_every": 5, "eval_size": 10, '
             '"task": "adding", "seq_len": 3}, '
             '"models": [{"label": "GRU", "cell": "gru", "activation": null}], '
             '"baseline": 0.1667, "metric": "mse", "metric_baseline": 0.1667, "sequence_length": 3, '
             '"progress_every": 1, "profile_t": [1, 2, 3]}\n\n'
             'event: progress\ndata: {"model": 0, "step": 1, "loss": 0.5, "grad_norm": [0.1, 0.2, 0.3], '
             '"grad_norm_total": 0.4, "clipped": false, "clipped_fraction": 0.0}\n\n')
    answers = [
        {"status": 503, "headers": {"Retry-After": "7"}, "content_type": "application/json",
         "body": '{"detail": "too many trainings at once"}'},
        {"status": 200, "content_type": "text/event-stream",
         "body": start + 'event: error\ndata: {"detail": "the training failed mid-way"}\n\n'},
        {"status": 200, "content_type": "text/event-stream", "body": start},
    ]
    page.route("**/api/train/stream", lambda route: route.fulfill(**answers.pop(0)))
    expected = [
        "The server is busy: too many trainings at once (Retry-After: 7 s",
        "The server stopped the training: the training failed mid-way",
        "The stream ended after 2 events without finishing the training",
    ]
    for text in expected:
        page.click("#train-start")
        wait_state(page, "error")
        assert text in page.text_content("#train-message")
        page.evaluate("document.documentElement.dataset.train = 'idle'")
    assert "broke off at step 1 of 10" in page.text_content("#train-status")
    assert "broken off" in page.text_content("#train-cards")
    aborted_stream_ok(page)  # after an `error` event the page cancels the rest of the stream


def test_url_state_round_trip(page, live_server):
    state = {"train_models": "rnn-relu,lstm", "train_task": "temporal_order", "train_seq_len": "30",
             "train_hidden_size": "24", "train_batch_size": "32", "train_optimizer": "sgd",
             "train_lr": "0.1", "train_momentum": "0.9", "train_clip": "none", "train_steps": "300",
             "train_eval_every": "50", "train_eval_size": "500", "train_seed": "7",
             "train_init": "orthogonal", "train_forget_bias": "2"}
    # the explorer's keys stay untouched next to the train keys
    page.goto(train_url(live_server.url, seed="3", **state))
    assert page.is_visible("#panel-train")
    assert checked_models(page) == ["rnn-relu", "lstm"]
    assert page.input_value("#train_task") == "temporal_order"
    assert page.input_value("#train_optimizer") == "sgd" and page.is_enabled("#train_momentum")
    assert not page.is_checked("#train_clip_on") and page.is_disabled("#train_clip")
    assert page.input_value("#train_seed") == "7"
    page.fill("#train_steps", "400")
    page.check("#train_clip_on")
    page.fill("#train_clip", "2.5")
    assert page.input_value("#train_init") == "orthogonal" and page.is_disabled("#train_sigma_max")
    page.check("#train_sigma_on")
    page.fill("#train_sigma_max", "1.5")
    q = parse_qs(search(page))
    assert q["train_steps"] == ["400"] and q["train_clip"] == ["2.5"] and q["seed"] == ["3"]
    assert (q["train_init"], q["train_sigma_max"], q["train_forget_bias"]) == (["orthogonal"], ["1.5"], ["2"])
    assert q["tab"] == ["train"]
    # a reload restores exactly these settings
    page.goto(live_server.url + "/?" + search(page))
    # the reload may cut the first load's favicon request short
    page.rec.failed[:] = [f for f in page.rec.failed if "favicon" not in f]
    assert page.input_value("#train_steps") == "400" and page.input_value("#train_clip") == "2.5"
    assert page.is_checked("#train_clip_on") and page.input_value("#train_eval_size") == "500"
    assert parse_qs(search(page)) == q
    # the request sent is the one the URL names
    with page.expect_request("**/api/train/stream") as req:
        page.click("#train-start")
    body = req.value.post_data_json
    wait_state(page, "running")
    assert body["models"] == [{"cell": "rnn", "activation": "relu"}, {"cell": "lstm"}]
    assert body["optimizer"] == {"name": "sgd", "lr": 0.1, "momentum": 0.9}
    assert (body["clip"], body["steps"], body["seed"], body["task"]) == (2.5, 400, 7, "temporal_order")
    init = {"scheme": "orthogonal", "sigma_max": 1.5, "forget_bias": 2, "std": 0.1, "bias_std": 0}
    assert body["init"] == init
    page.keyboard.press("Escape")  # Esc stops, like the Stop button
    wait_state(page, "stopped")
    aborted_stream_ok(page)


@pytest.mark.parametrize("scheme", ["dark"])
def test_phone_width_dark(context, live_server, artifacts, scheme):
    page, rec = offline_page(context, width=390, height=844, scheme=scheme)
    try:
        page.goto(train_url(live_server.url, **{**SHORT, "train_steps": "30", "train_eval_every": "10"}))
        page.click("#train-start")
        wait_state(page, "done")
        wait_for(page, "document.documentElement.dataset.trainSettled === 'true'")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        bg = page.evaluate("document.getElementById('chart-loss')._fullLayout.paper_bgcolor")
        assert bg != "#ffffff" and bg != "rgb(255, 255, 255)"
        page.screenshot(path=artifacts / f"train-phone-390-{scheme}-full.png", full_page=True)
    finally:
        page.close()
    assert not rec.problems()
