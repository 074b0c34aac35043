"""The rough edges a class would hit (issue 13, "What the class would hit"), each reproduced in
Debian's Chromium through Playwright against a live server, and the screenshots of the fixed
page (tests/artifacts/issue13-edges-*.png) in English and Korean, light and dark, at 1280 × 800
and 390 × 844.

Every page is offline and ends by checking there was no failed request, console error or page
error (the `page` fixture), so a Plotly exception anywhere fails the test that provoked it.
"""

import csv
import io
import json
import re
import struct
from urllib.parse import urlencode

import httpx
import numpy as np
import pytest
from browser_helpers import offline_page, wait_for, wait_rendered

pytestmark = pytest.mark.browser

HTTP_ERROR_LOG = "Failed to load resource: the server responded with a status of"

SHORT_TRAINING = {
    "tab": "train",
    "train_models": "rnn-tanh,lstm",
    "train_task": "adding",
    "train_seq_len": "10",
    "train_hidden_size": "16",
    "train_steps": "80",
    "train_eval_every": "40",
    "train_eval_size": "100",
}


def url(base: str, **state) -> str:
    return f"{base}/?{urlencode(state)}"


def wait_train(page, state: str, timeout=60_000):
    wait_for(page, "(s) => document.documentElement.dataset.train === s", arg=state, timeout=timeout)


def aborted_stream_ok(page):
    """A stream aborted on purpose (Stop, a tab closed) is reported by Chrome as a failed request."""
    page.rec.failed[:] = [f for f in page.rec.failed if "ERR_ABORTED" not in f]


# ---------------------------------------------------------------- the Train tab

LOSS_LAYOUT = """() => {
  const el = document.getElementById('chart-loss');
  return { domain: el.layout.yaxis.domain, strip: 'yaxis2' in el.layout,
           clipped: el.data.filter((d) => d.meta?.kind === 'clipped').length,
           lines: el.data.filter((d) => d.meta?.kind === 'loss').length };
}"""


@pytest.mark.parametrize(("clip", "strip"), [("none", False), ("1", True)])
def test_the_clip_strip_is_there_only_when_clipping_is_on(page, live_server, clip, strip):
    page.goto(url(live_server.url, **SHORT_TRAINING, train_clip=clip))
    page.click("#train-start")
    wait_train(page, "done")
    wait_for(page, "document.documentElement.dataset.trainSettled === 'true'")
    drawn = page.evaluate(LOSS_LAYOUT)
    assert drawn["lines"] == 2
    if strip:  # the ticks below the loss, in a strip of their own
        assert drawn["strip"] and drawn["clipped"] == 2 and drawn["domain"][0] > 0
    else:  # the loss has the whole height: nothing hidden covers its bottom
        assert not drawn["strip"] and drawn["clipped"] == 0 and list(drawn["domain"]) == [0, 1]
    # the card's sentence names the strip only when there is one
    assert ("a tick for every step whose gradient was clipped" in page.text_content("#loss-sub")) == strip


def test_start_is_off_while_training_and_tab_switches_throw_nothing(page, live_server):
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.url.endswith("/api/train/stream") else None)
    page.goto(
        url(
            live_server.url,
            **{
                **SHORT_TRAINING,
                "train_models": "rnn-tanh,lstm,gru",
                "train_seq_len": "20",
                "train_steps": "5000",
                "train_eval_every": "20",
            },
        )
    )
    page.click("#train-start")
    wait_train(page, "running")
    assert page.is_disabled("#train-start") and page.is_enabled("#train-stop")
    # Enter in a field (the form's submit) does not restart the training either
    page.focus("#train_seq_len")
    page.keyboard.press("Enter")
    # the charts are begun, and switched away from and back to, while data arrives
    for _ in range(4):
        page.click("#tab-explore")
        page.click("#tab-train")
    wait_for(page, "Number(document.getElementById('train-progress-text').dataset.step) >= 3")
    assert len(posts) == 1
    page.click("#train-stop")
    wait_train(page, "stopped")
    assert page.is_enabled("#train-start")
    aborted_stream_ok(page)


# ---------------------------------------------------------------- playback


def status(page) -> str:
    return page.text_content("#status")


def test_playback_says_what_it_does_and_keeps_its_keys(page, live_server):
    page.goto(url(live_server.url, models="rnn-tanh", seq_len="30", speed="max"))
    wait_rendered(page)
    done = status(page)
    assert done.startswith("Done: computed in") and "event" not in done
    # Step once the run is done starts it again at its first step
    page.click("#step")
    wait_for(page, "document.getElementById('position').dataset.p === '1'")
    # paused, the status line says so (it said "Playing back…")
    assert "Paused here" in status(page) and "Playing" not in status(page)
    # after the timeline, Space plays and Esc resets without a click elsewhere first
    page.focus("#scrubber")
    page.keyboard.press("ArrowRight")
    wait_for(page, "document.getElementById('position').dataset.p === '2'")
    page.keyboard.press(" ")  # plays on, to the end (2T = 60 steps)
    wait_for(page, "document.getElementById('position').dataset.p === '60'")
    page.keyboard.press("Escape")
    wait_for(page, "document.documentElement.dataset.run === 'idle'")


# ---------------------------------------------------------------- the URL


def test_numbers_the_url_gets_wrong_are_said_and_the_note_stays(page, live_server):
    page.goto(url(live_server.url, models="rnn-tanh", seq_len="", sigma_max="banana", speed="max"))
    wait_rendered(page)
    note = page.locator("#url-note")
    assert note.is_visible()
    text = note.text_content()
    assert "sigma_max=“banana” is not a number; using off" in text and "seq_len is empty; using 50" in text
    assert not page.is_checked("#sigma_on")  # "banana" no longer turns the rescaling on
    # the next run's messages do not replace the note; its Close button does
    page.click("#run")
    wait_rendered(page)
    assert note.is_visible()
    note.get_by_role("button", name="Close").click()
    assert note.is_hidden()
    # the Train tab's own
    page.goto(url(live_server.url, tab="train", train_steps="abc"))
    assert "train_steps=“abc” is not a number; using 1500" in page.text_content("#train-url-note")
    assert page.input_value("#train_steps") == "1500"


# ---------------------------------------------------------------- runs the server would refuse


def test_a_run_too_large_to_show_in_full_leaves_out_what_does_not_fit(page, live_server):
    page.allowed_console = (HTTP_ERROR_LOG,)  # the refusals the page answers by leaving arrays out
    page.goto(url(live_server.url, seq_len="1000", hidden_size="128", speed="max"))  # the default models
    wait_rendered(page, timeout=60_000)
    assert not page.is_checked("#jacobian") and "jacobian=0" in page.evaluate("location.search")
    message = page.text_content("#message")
    assert "left out the Jacobian norms" in message and page.get_attribute("#message", "data-tone") == "info"
    # five models at T = 2000, H = 128: the heavy per-step arrays go too, the gradient flow stays whole
    models = "rnn-sigmoid,rnn-tanh,rnn-relu,lstm,gru"
    page.goto(url(live_server.url, models=models, seq_len="2000", hidden_size="128", speed="max"))
    wait_rendered(page, timeout=90_000)
    fitted = page.evaluate("document.documentElement.dataset.fitted").split()
    assert fitted[0] == "jacobian" and "hidden" in fitted and "grads" not in fitted
    assert "the hidden-state heatmap" in page.text_content("#message")
    lines = page.evaluate("""() => document.getElementById('chart-flow').data
        .filter((d) => d.meta?.kind === 'line').map((d) => d.y.length)""")
    assert lines == [2000] * 5  # every step of every model (the sigmoid's underflow marked, not missing)


# ---------------------------------------------------------------- a loss at every step


def test_a_loss_at_every_step_is_not_read_as_memory(page, live_server):
    page.goto(url(live_server.url, models="rnn-tanh,lstm", seq_len="40", loss="all", speed="max"))
    wait_rendered(page)
    headline = page.text_content("#headline")
    assert headline.startswith("With a loss at every step") and "not how far memory reaches" in headline
    readings = page.eval_on_selector_all("#model-cards .model-card p", "els => els.map((e) => e.textContent)")
    readings = [r for r in readings if r]
    assert len(readings) == 2
    assert all("with a loss at every step" in r and "vanished" not in r for r in readings)
    sub = page.text_content("#flow-sub")
    assert "with a loss at every step" in sub and "loss at the last step" not in sub
    # back to the last step: the memory words come back
    page.goto(url(live_server.url, models="rnn-tanh,lstm", seq_len="40", loss="last", speed="max"))
    wait_rendered(page)
    assert not page.text_content("#headline").startswith("With a loss") and "last step" in page.text_content(
        "#flow-sub"
    )


# ---------------------------------------------------------------- the page's layout

BOX = "(sel) => { const r = document.querySelector(sel).getBoundingClientRect(); return [r.left, r.right]; }"


def test_readout_and_formulas_fit_their_boxes(page, live_server):
    # the longest readout ("backward · t = 1000 / 1000") stays inside the sidebar at 1280 px
    page.goto(
        url(live_server.url, models="rnn-tanh", seq_len="1000", hidden_size="8", jacobian="0", speed="max")
    )
    wait_rendered(page)
    page.locator("#scrubber").fill("1001")  # the first backward step: t = 1000
    wait_for(page, "document.getElementById('position').textContent === 'backward · t = 1000 / 1000'")
    readout, panel = page.evaluate(BOX, "#position"), page.evaluate(BOX, "#panel-explore .panel")
    assert readout[0] >= panel[0] and readout[1] <= panel[1] - 1
    # every part of every formula is inside its explainer's box (the highway's "= diag(Πf_k)" too)
    cut = page.evaluate("""() => [...document.querySelectorAll('.formula')].filter((f) =>
        f.scrollWidth > f.clientWidth + 1).map((f) => f.closest('article').id)""")
    assert cut == []


def test_a_phone_gets_the_charts_after_run_and_no_toolbar_over_the_legend(context, live_server, artifacts):
    page, rec = offline_page(context, width=390, height=844)
    try:
        page.goto(url(live_server.url, tab="explore"))
        assert page.evaluate("getComputedStyle(document.querySelector('.transport')).position") == "static"
        page.fill("#seq_len", "30")
        page.click("#run")
        wait_rendered(page)
        top = page.evaluate("document.getElementById('status').getBoundingClientRect().top")
        assert -2 <= top < 120  # the results, not the controls, fill the screen
        assert (
            page.evaluate(
                "getComputedStyle(document.querySelector('#chart-flow .modebar-container')).display"
            )
            == "none"
        )
        cut = page.evaluate("""() => [...document.querySelectorAll('.formula')].filter((f) =>
            f.scrollWidth > f.clientWidth + 1).length""")
        assert cut == 0 and page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        page.close()
    assert not rec.problems()


def test_an_explore_lesson_stays_on_explore_and_show_me_clears_the_top_bar(page, live_server):
    page.goto(live_server.url + "/?lesson=zigzag")
    wait_for(page, "!document.getElementById('lesson-banner').hidden")
    banner = page.locator("#lesson-banner")
    assert banner.get_attribute("data-tab") == "explore" and banner.is_visible()
    page.click("#tab-train")
    assert banner.is_hidden()
    page.click("#tab-explore")
    assert banner.is_visible()
    margin = page.evaluate("getComputedStyle(document.getElementById('explain-bound')).scrollMarginTop")
    assert float(margin.rstrip("px")) >= 60  # the sticky top bar's height and a little more


def test_korean_has_a_cjk_font_in_the_stack(page, live_server):
    page.goto(live_server.url + "/?lang=ko")
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK KR" in family and "Malgun Gothic" in family


# ---------------------------------------------------------------- exports


def test_exports_png_curl_python_and_the_training_as_files(page, live_server, tmp_path):
    page.goto(
        url(live_server.url, models="rnn-tanh,lstm", seq_len="20", hidden_size="8", seed="7", speed="max")
    )
    wait_rendered(page)
    # the settings as curl: POST /api/runs with the page's exact body, and the server answers it
    page.click("#export-curl")
    curl = page.text_content("#snippet .snippet-code")
    body = curl.split("<<'JSON'\n", 1)[1].split("\nJSON", 1)[0]
    assert "/api/runs" in curl and json.loads(body)["seed"] == 7 and json.loads(body)["seq_len"] == 20
    answer = httpx.post(
        live_server.url + "/api/runs", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 200 and [m["label"] for m in answer.json()["models"]] == [
        "RNN (tanh)",
        "LSTM",
    ]
    page.click("#snippet .snippet-close")
    # the same as Python, with the package being built: gfl.run(**request)
    page.click("#export-python")
    py = page.text_content("#snippet .snippet-code")
    assert py.startswith("import gradient_flow_lab as gfl") and "run = gfl.run(**request)" in py
    request = {}
    exec(py.split("run = gfl.run", 1)[0].replace("import gradient_flow_lab as gfl", ""), {}, request)
    assert request["request"] == json.loads(body)
    page.click("#snippet .snippet-close")
    # the chart as a PNG with its title, settings and key: taller than the chart alone
    with page.expect_download() as got:
        page.click("#export-png")
    png = tmp_path / "flow.png"
    got.value.save_as(png)
    width, height = struct.unpack(">II", png.read_bytes()[16:24])
    assert got.value.suggested_filename.endswith("seed7.png") and (width, height) == (
        2400,
        2 * (74 + 560 + 44),
    )
    # the Train tab's training as JSON and CSV
    page.goto(url(live_server.url, **SHORT_TRAINING))
    assert page.is_disabled("#train-export-json")
    page.click("#train-start")
    wait_train(page, "done")
    with page.expect_download() as got:
        page.click("#train-export-json")
    data = json.loads(got.value.path().read_text())
    assert [m["label"] for m in data["models"]] == ["RNN (tanh)", "LSTM"] and data["complete"]
    assert len(data["models"][0]["progress"]["loss"]) == len(data["models"][0]["progress"]["step"]) > 0
    assert data["models"][1]["evals"]["step"] == [40, 80]
    with page.expect_download() as got:
        page.click("#train-export-csv")
    rows = list(csv.reader(io.StringIO(got.value.path().read_text())))
    assert rows[0] == ["model", "label", "step", "loss", "grad_norm_total", "clipped_fraction", "mse"]
    assert {r[1] for r in rows[1:]} == {"RNN (tanh)", "LSTM"}


# ---------------------------------------------------------------- notation and numbers

RAW_NOTATION = r"σ_max|γσ_max|[hscδ]_[tTk]\b|_t,k|\^\(T"


def test_notation_is_typeset_and_the_numbers_agree(page, live_server):
    page.goto(url(live_server.url, models="rnn-tanh,rnn-relu", seq_len="30", speed="max"))
    wait_rendered(page)
    wait_for(page, "document.getElementById('bound-live').textContent !== ''")
    # no raw ‖∂h_T/∂h_t‖, γσ_max or δ_t,k in the page's running text, the charts' words or their hovers
    text = page.evaluate("document.body.innerText")
    words = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap((el) => [
        ...(el.data || []).flatMap((d) => [d.name, d.hovertemplate]),
        ...['xaxis', 'yaxis'].map((a) => el.layout?.[a]?.title?.text)]).filter(Boolean).join(' | ')""")
    assert not re.search(RAW_NOTATION, text), re.findall(rf".{{20}}(?:{RAW_NOTATION}).{{20}}", text)
    assert not re.search(RAW_NOTATION, words), re.findall(rf".{{20}}(?:{RAW_NOTATION}).{{20}}", words)
    # the bound slider shows the value it holds (it said 1.84 at 1.85)
    value, shown = page.input_value("#bound-sigma"), page.text_content("#bound-sigma-value")
    assert f"{float(value):.2f}" == shown
    # tanh's and relu's bounds (both γ = 1) are drawn apart and can be hidden; the y range is the measured one
    bound = """() => { const el = document.getElementById('chart-bound');
        const bounds = el.data.filter((d) => d.meta?.kind === 'bound');
        return { dashes: bounds.map((d) => [d.meta.model, d.line.dash, d.visible]),
                 range: el.layout.yaxis.range }; }"""
    drawn = page.evaluate(bound)
    assert dict((m, dash) for m, dash, _ in drawn["dashes"]) == {"rnn-tanh": "dash", "rnn-relu": "dashdot"}
    page.uncheck("#bound-show")
    hidden = page.evaluate(bound)
    assert (
        all(visible == "legendonly" for _, _, visible in hidden["dashes"])
        and hidden["range"] == drawn["range"]
    )
    # the two means of φ′ say which they are
    assert "the arithmetic mean" in page.text_content("#why-stats")
    assert "geometric mean" in page.text_content("#ceiling-live")


# ---------------------------------------------------------------- controls the API has


def test_batch_size_weight_and_bias_std_reach_the_run(page, live_server):
    state = {
        "models": "rnn-tanh",
        "seq_len": "12",
        "hidden_size": "8",
        "batch_size": "4",
        "init": "normal",
        "init_std": "0.3",
        "bias_std": "0.5",
        "speed": "max",
    }
    page.goto(url(live_server.url, **state))
    wait_rendered(page)
    assert page.input_value("#batch_size") == "4" and page.input_value("#init_std") == "0.3"
    with page.expect_download() as got:
        page.click("#export-json")
    config = json.loads(got.value.path().read_text())["config"]
    assert config["batch_size"] == 4 and config["init"]["std"] == 0.3 and config["init"]["bias_std"] == 0.5
    assert "batch_size=4" in page.evaluate("location.search")


def test_presentation_mode_is_a_toggle_kept_in_the_url(page, live_server):
    page.goto(live_server.url + "/")
    page.click("#present")
    assert page.evaluate("document.documentElement.dataset.present") == "1"
    assert "present=1" in page.evaluate("location.search")
    assert page.evaluate("getComputedStyle(document.body).zoom") == "1.35"
    page.goto(live_server.url + "/?present=1")
    assert page.get_attribute("#present", "aria-pressed") == "true"
    page.click("#present")
    assert "present" not in page.evaluate("location.search")
    # the first page's favicon, still loading when the second was asked for, is cancelled by the browser
    page.rec.failed[:] = [f for f in page.rec.failed if not ("favicon" in f and "ERR_ABORTED" in f)]


def test_a_model_at_chance_gets_a_hint(page, live_server):
    chance = {
        "tab": "train",
        "train_models": "rnn-sigmoid",
        "train_task": "temporal_order",
        "train_seq_len": "20",
        "train_hidden_size": "8",
        "train_steps": "20",
        "train_eval_every": "20",
        "train_eval_size": "200",
    }
    page.goto(url(live_server.url, **chance))
    page.click("#train-start")
    wait_train(page, "done")
    text = page.text_content("#train-message")
    assert "RNN (sigmoid) stayed at chance" in text and "T = 20 now" in text


def test_the_flow_charts_bounds_can_be_hidden_and_the_axis_fits_the_measurements(page, live_server):
    state = {"models": "rnn-tanh", "seq_len": "400", "hidden_size": "8", "sigma_max": "3", "jacobian": "0"}
    page.goto(url(live_server.url, **state, speed="max"))
    wait_rendered(page)
    top = "document.getElementById('chart-flow')._fullLayout.yaxis.range[1]"
    assert page.evaluate(top) > 100  # the bound (3)^(T−t) reaches 10¹⁹⁰: the measurements are a thin band
    page.uncheck("#show_bounds")
    wait_for(page, f"{top} < 20")
    visible = page.evaluate("""document.getElementById('chart-flow').data
        .filter((d) => d.meta?.kind === 'bound').map((d) => d.visible)""")
    assert visible == [False] and "bounds=0" in page.evaluate("location.search")


def test_a_preset_fills_the_training_settings(page, live_server):
    page.goto(url(live_server.url, tab="train", train_task="copy", train_seq_len="200"))
    page.select_option("#train_preset", "temporal_order")
    assert page.input_value("#train_task") == "temporal_order" and page.input_value("#train_seq_len") == "20"
    checked = page.eval_on_selector_all('input[name="train_models"]:checked', "els => els.map(e => e.value)")
    assert checked == ["lstm", "gru"] and page.input_value("#train_steps") == "800"
    assert page.input_value("#train_preset") == ""  # back to its prompt
    assert "train_task=temporal_order" in page.evaluate("location.search")


def test_input_values_can_be_pasted(page, live_server):
    page.goto(live_server.url + "/?models=rnn-tanh&hidden_size=4&speed=max")
    wait_rendered(page)
    page.evaluate("document.getElementById('network').open = true")
    page.click("#sequence-paste summary")
    page.fill("#sequence-paste-text", "0.5, 1\n0.2, 0\n-0.1, 0.3")
    page.click("#sequence-paste-use")
    assert page.input_value("#input") == "values" and page.input_value("#seq_len") == "3"
    page.click("#run")
    wait_for(page, "document.getElementById('position').dataset.p === '6'")  # 2T steps of the pasted T = 3
    page.fill("#sequence-paste-text", "0.5, 1\n0.2, x")
    page.click("#sequence-paste-use")
    assert "“x” is not a number" in page.text_content("#data-error")


# ---------------------------------------------------------------- W_hh's singular values


@pytest.mark.parametrize("H", [1, 7, 32])
def test_the_pages_singular_values_are_numpys(page, live_server, H):
    page.goto(live_server.url + "/")
    rng = np.random.default_rng(H)
    A = rng.normal(size=(H, H)) * rng.uniform(0.1, 3, size=H)  # columns of different scales
    svd = "async (a) => (await import('/static/js/spectrum-math.js')).singularValues(a)"
    got = page.evaluate(svd, A.tolist())
    want = np.linalg.svd(A, compute_uv=False)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12 * want[0])


def test_w_hh_singular_values_against_one_over_gamma(page, live_server):
    state = {
        "models": "rnn-sigmoid,rnn-tanh",
        "seq_len": "20",
        "hidden_size": "12",
        "init": "orthogonal",
        "sigma_max": "2.5",
        "jacobian": "0",
        "speed": "max",
    }
    page.goto(url(live_server.url, **state))
    wait_rendered(page)
    page.click("#spectrum-show")
    wait_for(page, "(document.getElementById('chart-spectrum').data || []).length > 0")
    drawn = page.evaluate("""() => document.getElementById('chart-spectrum').data.map((d) =>
        ({ kind: d.meta.kind, y: Array.from(d.y) }))""")
    values = next(d["y"] for d in drawn if d["kind"] == "singular")
    body = {
        "models": [{"cell": "rnn", "activation": "tanh"}],
        "seq_len": 20,
        "hidden_size": 12,
        "init": {"scheme": "orthogonal", "sigma_max": 2.5},
        "include": ["params"],
    }
    W = np.array(httpx.post(f"{live_server.url}/api/runs", json=body).json()["models"][0]["params"]["W_hh"])
    np.testing.assert_allclose(values, np.linalg.svd(W, compute_uv=False), rtol=1e-9)
    assert values[0] == pytest.approx(2.5)  # the rescaled σ_max
    assert sorted(d["y"][0] for d in drawn if d["kind"] == "critical") == [1, 4]
    note = page.text_content("#spectrum-note")
    above = int((np.array(values) > 1).sum())
    assert "σₘₐₓ = 2.500" in note
    assert f"of the 12 singular values, above 1 (tanh's and relu's 1/γ): {above};" in note
