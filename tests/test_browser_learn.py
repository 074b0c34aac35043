"""The teaching layer in Debian's Chromium: every lesson loads with its text and charts, the
explainers follow the run (the zig-zag statistic, the bound's slider, the LSTM's highway), the
formulas render as MathML, links copy, and a language switch keeps the run. Screenshots of every
lesson go to tests/artifacts/ (git-ignored)."""

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import wait_for, wait_rendered

pytestmark = pytest.mark.browser

HANGUL = "[\uac00-\ud7a3]"


def lesson_links(page, base):
    """(id, href) of every lesson, as the Lessons dialog lists them."""
    page.goto(base + "/")
    page.click("#lessons-open")
    wait_for(page, "document.getElementById('lessons').open")
    return page.evaluate("""() => [...document.querySelectorAll('#lesson-list .lesson-item')]
        .map((li) => [li.dataset.lesson, li.querySelector('a').getAttribute('href')])""")


def traces(page, chart_id):
    return page.evaluate(f"""() => (document.getElementById('{chart_id}').data || [])
        .map((d) => ({{ name: d.name, x: Array.from(d.x || []), y: Array.from(d.y || []),
                        dash: d.line && d.line.dash }}))""")


def wait_explained(page):
    """Until the run is drawn and the explainers have its summaries."""
    wait_rendered(page)
    wait_for(page, "document.documentElement.dataset.explained === 'true'")


def test_the_lessons_menu_lists_every_lesson_as_a_link(page, live_server):
    links = lesson_links(page, live_server.url)
    assert [i for i, _ in links] == ["sigmoid-tanh", "crossing", "impulse", "forget-bias", "zigzag", "irnn",
                                     "clipping"]
    for lesson, href in links:
        query = parse_qs(urlparse(href).query)
        assert query["lesson"] == [lesson] and query["lang"] == ["en"]
        assert ("train_clip" in query) == (lesson == "clipping")


@pytest.mark.parametrize("lesson", ["sigmoid-tanh", "crossing", "impulse", "forget-bias", "zigzag", "irnn"])
def test_each_explore_lesson_loads_with_its_text_and_charts(page, live_server, artifacts, lesson):
    href = dict(lesson_links(page, live_server.url))[lesson]
    page.goto(live_server.url + href)
    wait_explained(page)
    banner = page.locator("#lesson-banner")
    assert banner.is_visible()
    text = banner.text_content()
    assert "Lesson" in text and "Look at:" in text and len(text) > 200
    assert not re.search(r"</?(sub|sup|strong|em)>", text)  # the markup (σ<sub>max</sub>) is rendered
    assert page.locator("#lesson-banner .lesson-text sub, #lesson-banner .lesson-text sup, "
                        "#lesson-banner .lesson-look sub, #lesson-banner .lesson-look sup").count() > 0
    # the run is the lesson's state: the URL's controls, run at once
    query = parse_qs(urlparse(page.url).query)
    assert query["lesson"] == [lesson]
    models = query["models"][0].split(",")
    flow = traces(page, "chart-flow")
    for key in models:
        label = {"rnn-sigmoid": "RNN (sigmoid)", "rnn-tanh": "RNN (tanh)", "rnn-relu": "RNN (relu)",
                 "lstm": "LSTM", "gru": "GRU"}[key]
        assert any(tr["name"] == label and len(tr["x"]) == int(query["seq_len"][0]) for tr in flow), label
    # every explainer chart was drawn from it
    for chart in ("chart-ceiling", "chart-zigzag-stat", "chart-zigzag-path", "chart-bound", "chart-highway"):
        assert traces(page, chart), chart
    look = page.evaluate("() => document.querySelector('#lesson-banner').textContent")
    assert look
    page.screenshot(path=str(artifacts / f"lesson-{lesson}.png"), full_page=False)
    page.click("#lesson-banner >> text=Show me")
    page.wait_for_timeout(600)
    page.screenshot(path=str(artifacts / f"lesson-{lesson}-look.png"), full_page=False)


def test_the_clipping_lesson_opens_the_train_tab_ready_to_start(page, live_server, artifacts):
    href = dict(lesson_links(page, live_server.url))["clipping"]
    page.goto(live_server.url + href)
    wait_for(page, "document.documentElement.dataset.tab === 'train'")
    assert page.locator("#lesson-banner").is_visible()
    assert "clipping" in page.locator("#lesson-banner").text_content().lower()
    assert page.is_checked("#train_clip_on")
    assert page.input_value("#train_clip") == "1"
    # a Train URL never starts a training by itself (it may take minutes)
    assert page.evaluate("document.documentElement.dataset.train || 'idle'") == "idle"
    page.screenshot(path=str(artifacts / "lesson-clipping.png"))
    page.click("#lesson-banner >> text=Now try without clipping")
    wait_for(page, "location.search.includes('variant=off')")
    wait_for(page, "document.documentElement.dataset.tab === 'train'")
    assert not page.is_checked("#train_clip_on")


def test_a_lesson_variant_and_the_lesson_navigation(page, live_server):
    href = dict(lesson_links(page, live_server.url))["forget-bias"]
    page.goto(live_server.url + href)
    wait_explained(page)
    assert page.input_value("#controls [name=forget_bias]") == "0"
    page.click("#lesson-banner >> text=Now try forget bias 3")
    wait_for(page, "location.search.includes('variant=bias3')")
    wait_explained(page)
    assert page.input_value("#controls [name=forget_bias]") == "3"
    assert "Variant" in page.locator("#lesson-banner").text_content()
    page.click("#lesson-banner >> text=Next →")
    wait_for(page, "location.search.includes('lesson=zigzag')")
    wait_explained(page)
    # leaving the lesson keeps the settings and drops lesson= from the URL
    page.click(".lesson-close")
    assert page.locator("#lesson-banner").is_hidden()
    assert "lesson=" not in page.url and "seq_len=30" in page.url


def test_zigzag_statistic_is_one_for_sigmoid_and_lower_for_tanh(page, live_server):
    page.goto(live_server.url + "/?models=rnn-sigmoid,rnn-tanh&seq_len=40&seed=7")
    wait_explained(page)
    stat = {tr["name"]: tr for tr in traces(page, "chart-zigzag-stat")}
    sig, tanh = stat["RNN (sigmoid)"], stat["RNN (tanh)"]
    assert sig["x"] == list(range(2, 41))
    assert set(sig["y"]) == {1}
    assert max(tanh["y"]) < 0.5
    assert "exactly 1 at all 39 steps" in page.text_content("#zigzag-live")
    # the 2-D picture: the API's paths for this run's seed, sigmoid's longer than tanh's
    paths = {tr["name"]: tr for tr in traces(page, "chart-zigzag-path")}
    api = page.evaluate("() => fetch('/api/explain/zigzag?seed=7').then((r) => r.json())")
    sig_path = paths["sigmoid features"]
    assert sig_path["x"] == [p[0] for p in api["models"][0]["path"]]
    assert "100 % of steps moved both weights the same way" in page.text_content("#zigzag-path-live")


def test_the_bound_slider_moves_the_bound_and_runs_at_its_value(page, live_server):
    page.goto(live_server.url + "/?models=rnn-sigmoid,rnn-tanh&seq_len=30&sigma_max=1&jacobian=1")
    wait_explained(page)
    assert page.input_value("#bound-sigma") == "1"
    assert page.locator("#bound-run").is_hidden()  # measured at the slider's value
    measured_before = [tr for tr in traces(page, "chart-bound") if tr["dash"] != "dash"]
    page.fill("#bound-sigma", "2")  # a range input: fill sets the value and fires input
    wait_for(page, "document.getElementById('bound-sigma-value').textContent === '2.00'")
    bounds = {tr["name"]: tr for tr in traces(page, "chart-bound") if tr["dash"] == "dash"}
    assert bounds["bound, sigmoid"]["y"][10] == pytest.approx(0.5 ** 10)
    assert bounds["bound, tanh"]["y"][10] == pytest.approx(2.0 ** 10)
    regimes = page.locator("#bound-regimes li").all_text_contents()
    assert any("sigmoid" in r and "0.5 < 1" in r and "vanishing guaranteed" in r for r in regimes)
    assert any("tanh" in r and "2 > 1" in r and "exploding possible" in r for r in regimes)
    # the measured curves stay as they were: the slider moves only the bound
    assert [tr for tr in traces(page, "chart-bound") if tr["dash"] != "dash"] == measured_before
    assert "measured at σₘₐₓ = 1.00" in page.text_content("#bound-live")
    page.click("#bound-run")
    wait_for(page, "new URLSearchParams(location.search).get('sigma_max') === '2'")
    wait_explained(page)
    wait_for(page, "document.getElementById('bound-live').textContent.includes('Measured at σₘₐₓ = 2.00')")
    for tr in traces(page, "chart-bound"):
        if tr["dash"] != "dash" and tr["name"].startswith("RNN (sigmoid)"):
            k_bound = bounds["bound, sigmoid"]["y"]
            assert all(m is None or m <= b * (1 + 1e-9) for m, b in zip(tr["y"], k_bound, strict=True))


def test_the_highway_shows_the_forget_gates_and_tries_another_bias(page, live_server):
    page.goto(live_server.url + "/?models=rnn-tanh,lstm&seq_len=60&forget_bias=1&input=impulse")
    wait_explained(page)
    names = [tr["name"] for tr in traces(page, "chart-highway")]
    assert "LSTM: Π f (mean over units)" in names
    assert "LSTM: ‖∂L/∂c<sub>t</sub>‖ / ‖∂L/∂c<sub>T</sub>‖" in names
    rows = page.locator("#highway-rows tr").all_text_contents()
    assert rows[0].startswith("00.510⁻³⁰") and rows[2].startswith("30.95310⁻²")
    assert page.locator("#highway-rows tr.is-current").text_content().startswith("1")
    live = page.text_content("#highway-live")
    mean_f = float(live.split("forget gates averaged ")[1].split(";")[0])
    assert 0.5 < mean_f < 0.95  # σ(1) ≈ 0.73 give or take the inputs: these are the gates
    page.click("#highway-rows button[data-forget-bias='3']")
    wait_for(page, "new URLSearchParams(location.search).get('forget_bias') === '3'")
    wait_explained(page)
    wait_for(page, "document.querySelector('#highway-rows tr.is-current')?.textContent.startsWith('3')")


def test_formulas_render_as_mathml(page, live_server):
    page.goto(live_server.url + "/")
    wait_for(page, "document.getElementById('chart-ceiling').data !== undefined")
    sizes = page.evaluate("""() => [...document.querySelectorAll('#learn math')].map((m) => {
        const r = m.getBoundingClientRect(); return [m.namespaceURI, r.width, r.height]; })""")
    assert len(sizes) >= 12
    assert all(ns == "http://www.w3.org/1998/Math/MathML" for ns, _, _ in sizes)
    assert all(w > 10 and h > 5 for _, w, h in sizes)  # laid out by the browser's MathML engine
    assert page.locator("#learn mfrac").count() >= 5 and page.locator("#learn msub").count() >= 20


def test_copy_link_copies_the_exact_state(browser, live_server):
    from browser_helpers import offline_page

    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page, rec = offline_page(context)
    try:
        page.goto(live_server.url
                  + "/?models=rnn-sigmoid,rnn-tanh&seq_len=50&sigma_max=1&lesson=sigmoid-tanh")
        wait_explained(page)
        page.click("#lesson-copy")
        wait_for(page, "document.querySelector('.lesson-status').textContent === 'Link copied.'")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == page.url and "sigma_max=1" in copied and "seed=0" in copied
        assert rec.problems() == []
    finally:
        context.close()


def test_switching_language_keeps_the_run_and_translates_the_lesson(page, live_server, artifacts):
    streams = []
    page.on("request", lambda r: streams.append(r.url) if "/api/runs/stream" in r.url else None)
    page.goto(live_server.url + "/?models=rnn-tanh,lstm&seq_len=100&input=impulse&forget_bias=0"
              "&lesson=forget-bias")
    wait_explained(page)
    before = json.dumps(traces(page, "chart-highway"))
    title_en = page.text_content(".lesson-title")
    page.select_option("#lang", "ko")
    wait_for(page, "document.documentElement.lang === 'ko'")
    wait_for(page, f"/{HANGUL}/.test(document.querySelector('.lesson-title').textContent)")
    assert page.text_content(".lesson-title") != title_en
    assert "lang=ko" in page.url and "lesson=forget-bias" in page.url and "forget_bias=0" in page.url
    for sel in ("#learn-title", "#highway-live", "#bound-live", "#zigzag-path-live"):
        wait_for(page, f"/{HANGUL}/.test(document.querySelector('{sel}').textContent)")
    highway = traces(page, "chart-highway")
    assert [tr["y"] for tr in highway] == [tr["y"] for tr in json.loads(before)]  # the same numbers
    assert any("유닛 평균" in tr["name"] for tr in highway)  # redrawn in Korean
    assert len(streams) == 1  # no new run
    page.screenshot(path=str(artifacts / "lesson-forget-bias-ko.png"))
    page.locator("#explain-highway").screenshot(path=str(artifacts / "explain-highway-ko.png"))
    page.select_option("#lang", "en")
    wait_for(page, "document.querySelector('.lesson-title').textContent === " + json.dumps(title_en))
