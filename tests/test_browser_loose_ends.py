"""Loose ends of issues 13 ("The lecturer's pass") and 18 ("Accessibility"), in Debian's Chromium
through Playwright against a live server (offline pages, as in tests/test_browser.py):

- the linear RNN is a model of the page like the others: a checkbox on Explore and Train, its
  own colour (static/palette.json), `models=rnn-linear` in the URL, a line of its own;
- a network trained on the Train tab and opened in Explore is named by what it is ("LSTM,
  trained", "학습된 LSTM"), not by its hash;
- the pinned trainings' cards follow the Train tab's result cards (as the pinned runs follow the
  Explore cards), and the sidebar's Start / Stop / Explore / Pin buttons neither overlap nor cut
  their words, at 1280 × 800 and on a 390 × 844 phone;
- every chart keeps its height through a change of language or colour scheme followed by a
  resize (a phone turned): such a resize used to leave the fixed-height charts' divs 0 px high,
  each chart drawn over the next.

Screenshots in English and Korean at both sizes: tests/artifacts/loose-ends-*.png.
"""

import json
from urllib.parse import parse_qs, urlencode

import pytest
from browser_helpers import offline_page, set_language, set_scheme, wait_for, wait_rendered

from gradient_flow_lab.app.catalogue import palette

pytestmark = pytest.mark.browser

SIZES = [(1280, 800), (390, 844)]
SHOTS = [(lang, w, h) for lang in ("en", "ko") for w, h in SIZES]
SHORT_TRAINING = {
    "tab": "train",
    "train_models": "rnn-tanh,lstm",
    "train_task": "adding",
    "train_seq_len": "10",
    "train_hidden_size": "8",
    "train_batch_size": "16",
    "train_steps": "60",
    "train_eval_every": "30",
    "train_eval_size": "100",
    "train_seed": "2",
}


def url(base: str, **state) -> str:
    return f"{base}/?{urlencode(state)}"


def wait_trained(page):
    wait_for(page, "document.documentElement.dataset.train === 'done'", timeout=90_000)
    wait_for(page, "document.documentElement.dataset.trainSettled === 'true'")


def flow_lines(page) -> list[dict]:
    return page.evaluate("""() => document.getElementById('chart-flow').data
        .filter((d) => d.meta?.kind === 'line')
        .map((d) => ({ model: d.meta.model, name: d.name, colour: d.line.color, n: d.y.length,
                       finite: Array.from(d.y).filter((v) => Number.isFinite(v) && v > 0).length }))""")


# ------------------------------------------------------------------------------ the linear RNN


@pytest.mark.parametrize(("lang", "width", "height"), SHOTS)
def test_the_linear_rnn_is_chosen_on_the_page_and_draws_its_line(context, live_server, artifacts,
                                                                   lang, width, height):
    page, rec = offline_page(context, width=width, height=height)
    page.goto(url(live_server.url, lang=lang))
    box = page.locator('input[name="models"][value="rnn-linear"]')
    assert box.count() == 1 and not box.is_checked()
    label = page.locator('label.check:has(input[name="models"][value="rnn-linear"])')
    assert label.text_content().split() == ["RNN", "·", "linearγ", "=", "1"]  # "RNN · linear", hint "γ = 1"
    assert ("φ(z) = z" in label.get_attribute("title")) and (("Vanilla" in label.get_attribute("title"))
                                                              == (lang == "en"))
    # its swatch is the palette's colour (the page's head writes it from static/palette.json)
    swatch = page.evaluate("""() => getComputedStyle(document.querySelector(
        'input[name="models"][value="rnn-linear"] + .swatch')).backgroundColor""")
    hex_colour = palette()["models"]["light"]["rnn-linear"]
    assert swatch == "rgb({}, {}, {})".format(*(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)))
    # chosen by a click, written into the URL, run: a line of its own in its colour
    label.click()
    page.select_option("#speed", "max")
    page.click("#run")
    wait_rendered(page)
    models = parse_qs(page.evaluate("location.search.slice(1)"))["models"][0].split(",")
    assert "rnn-linear" in models
    lines = {line["model"]: line for line in flow_lines(page)}
    linear = lines["rnn-linear"]
    assert linear["name"] == "RNN (linear)" and linear["colour"] == hex_colour
    assert linear["n"] == linear["finite"] > 0
    card = page.locator('#model-cards .model-card[data-model="rnn-linear"]')
    assert card.count() == 1 and "RNN (linear)" in card.text_content()
    page.screenshot(path=artifacts / f"loose-ends-linear-explore-{lang}-{width}.png")
    problems = rec.problems()
    page.close()
    assert not problems, problems


def test_a_link_with_the_linear_rnn_runs_it_and_the_train_tab_trains_it(page, live_server):
    page.goto(url(live_server.url, models="rnn-linear,rnn-tanh", seq_len="40", speed="max"))
    wait_rendered(page)
    checked = page.evaluate("""() => [...document.querySelectorAll('input[name="models"]:checked')]
        .map((b) => b.value)""")
    assert checked == ["rnn-tanh", "rnn-linear"]  # the catalogue's order
    assert [line["model"] for line in flow_lines(page)] == ["rnn-tanh", "rnn-linear"]
    # the Train tab offers it too, and sends it as the API's model
    bodies = []
    page.on("request", lambda r: bodies.append(json.loads(r.post_data))
            if r.url.endswith("/api/train/stream") else None)
    page.goto(url(live_server.url, **{**SHORT_TRAINING, "train_models": "rnn-linear,lstm"}))
    assert page.locator('input[name="train_models"][value="rnn-linear"]').is_checked()
    page.click("#train-start")
    wait_trained(page)
    assert bodies[-1]["models"] == [{"cell": "rnn", "activation": "linear"}, {"cell": "lstm"}]
    names = page.evaluate("""() => document.getElementById('chart-loss').data
        .filter((d) => d.meta?.kind === 'loss').map((d) => d.name)""")
    assert names == ["RNN (linear)", "LSTM"]
    assert page.locator('#train-cards .train-card[data-model="rnn-linear"]').count() == 1


# ------------------------------------------------------------------------------ trained networks' names


THE_TRAINED = [{"en": "the trained RNN (tanh)", "ko": "학습된 RNN (tanh)"},
               {"en": "the trained LSTM", "ko": "학습된 LSTM"}]


def test_a_trained_network_opened_in_explore_is_named_by_its_model(context, live_server, artifacts):
    page, rec = offline_page(context)
    page.goto(url(live_server.url, **SHORT_TRAINING, lang="en"))
    page.click("#train-start")
    wait_trained(page)
    href = page.get_attribute("#open-trained", "href")
    page.goto(live_server.url + href.replace("speed=250", "speed=max"))
    wait_rendered(page)
    names = {"en": ["RNN (tanh)", "LSTM", "RNN (tanh), trained", "LSTM, trained"],
             "ko": ["RNN (tanh)", "LSTM", "학습된 RNN (tanh)", "학습된 LSTM"]}
    info = {"en": "trained here: adding problem, T = 10, 60 steps",
            "ko": "여기서 학습: 덧셈 문제, T = 10, 60 스텝"}
    uploaded = {"en": "your network", "ko": "내 네트워크"}
    for lang in ("en", "ko"):
        set_language(page, lang)
        wait_for(page, "document.documentElement.dataset.settled === 'true'")
        assert [line["name"] for line in flow_lines(page)] == names[lang]
        cards = page.evaluate("""() => [...document.querySelectorAll('#model-cards .model-card h3')]
            .map((h) => h.textContent)""")
        assert [any(c.startswith(n) for c in cards) for n in names[lang]] == [True] * 4
        entries = page.locator("#network-list li")
        assert [entries.nth(k).locator(".network-name").text_content() for k in range(2)] == names[lang][2:]
        assert all(info[lang] in entries.nth(k).text_content() for k in range(2))
        # the sentences name them the same way, not as an uploaded file ("your network …")
        headline = page.text_content("#headline")
        assert all(phrase[lang] in headline for phrase in THE_TRAINED) and uploaded[lang] not in headline
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(300)  # the charts follow the width
            # the layer view's rows name them whole at every width: a name made here is short
            # already ("RNN (tanh), t…" said nothing); only a file's name is cut
            ticks = "document.getElementById('chart-depth').layout?.yaxis?.ticktext || []"
            wait_for(page, f"({ticks}).length === 4")
            rows = page.evaluate(f"() => [...({ticks})]")
            assert sorted(rows) == sorted(names[lang]), (width, rows)
            depth_shot = artifacts / f"loose-ends-trained-depth-{lang}-{width}.png"
            page.locator(".card-depth").screenshot(path=depth_shot)
            page.locator("#chart-flow").scroll_into_view_if_needed()
            page.screenshot(path=artifacts / f"loose-ends-trained-names-{lang}-{width}.png")
        page.set_viewport_size({"width": 1280, "height": 800})
    problems = rec.problems()
    page.close()
    assert not problems, problems


# ------------------------------------------------------------- pinned trainings, the sidebar's buttons

BOXES = """(selectors) => selectors.map((s) => {
  const el = document.querySelector(s);
  const r = el.getBoundingClientRect();
  return { s, x: r.x, y: r.y, w: r.width, h: r.height, visible: !el.hidden && r.width > 0,
           cut: el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1 };
})"""


def overlap(a, b) -> bool:
    return a["x"] < b["x"] + b["w"] - 0.5 and b["x"] < a["x"] + a["w"] - 0.5 \
        and a["y"] < b["y"] + b["h"] - 0.5 and b["y"] < a["y"] + a["h"] - 0.5


@pytest.mark.parametrize(("lang", "width", "height"), SHOTS)
def test_pinned_trainings_follow_the_result_cards_and_the_buttons_fit(context, live_server, artifacts,
                                                                      lang, width, height):
    page, rec = offline_page(context, width=width, height=height)
    page.goto(url(live_server.url, **SHORT_TRAINING, lang=lang))
    page.click("#train-start")
    wait_trained(page)
    page.click("#pin-training")
    page.fill("#train_lr", "0.05")
    page.click("#train-start")
    wait_trained(page)
    # the pinned training's card comes after the training's cards, in the same card of the page
    where = page.evaluate("""() => {
      const list = document.getElementById('pinned-trainings');
      return { after: list.previousElementSibling?.id,
               section: list.closest('section')?.getAttribute('aria-labelledby'),
               cards: list.querySelectorAll('.pinned-card').length };
    }""")
    assert where == {"after": "train-cards", "section": "result-title", "cards": 1}
    pinned = page.locator("#pinned-trainings .pinned-card")
    assert ("now 0.05" if lang == "en" else "지금 0.05") in pinned.text_content()
    # the buttons: on screen, none over another, none cutting its words, inside the sidebar
    buttons = page.evaluate(BOXES, ["#train-start", "#train-stop", "#open-trained", "#pin-training"])
    assert all(b["visible"] for b in buttons)
    assert [b["s"] for b in buttons if b["cut"]] == []
    assert [(a["s"], b["s"]) for k, a in enumerate(buttons) for b in buttons[k + 1:] if overlap(a, b)] == []
    row = page.evaluate("""() => { const r = document.querySelector('.train-buttons').getBoundingClientRect();
                                   return { x: r.x, y: r.y, w: r.width, h: r.height }; }""")
    for b in buttons:
        assert row["x"] - 0.5 <= b["x"] and b["x"] + b["w"] <= row["x"] + row["w"] + 0.5, b
        assert b["h"] <= 64, b  # at most two lines of words: no tall, squeezed column
    # the pinned card's words stay in it, and the page is no wider than the screen
    card = page.evaluate(BOXES, ["#pinned-trainings .pinned-card", "#pinned-trainings .pin-differs"])
    assert [b["s"] for b in card if b["cut"]] == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=artifacts / f"loose-ends-train-buttons-{lang}-{width}.png")
    page.evaluate("document.getElementById('pinned-trainings').scrollIntoView({ block: 'end' })")
    page.screenshot(path=artifacts / f"loose-ends-train-pinned-{lang}-{width}.png")
    problems = rec.problems()
    page.close()
    assert not problems, problems


# ------------------------------------------------------------------ charts' heights after a resize

# every drawn chart whose div is not as high as the chart Plotly drew in it
COLLAPSED = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .filter((d) => d._fullLayout && d.offsetParent !== null)
  .map((d) => ({ chart: d.id || d.className, div: Math.round(d.getBoundingClientRect().height),
                 drawn: d._fullLayout.height }))
  .filter((c) => Math.abs(c.div - c.drawn) > 2)"""


def scroll_through(page):
    """Scroll the page from top to bottom, so that every chart is drawn (charts out of view wait)."""
    height = page.evaluate("document.documentElement.scrollHeight")
    for y in range(0, height + 800, 600):
        page.evaluate("(y) => window.scrollTo(0, y)", y)
        page.wait_for_timeout(60)
    wait_for(page, "document.documentElement.dataset.settled === 'true'")


def test_charts_keep_their_height_through_a_relabel_and_a_resize(context, live_server, artifacts):
    page, rec = offline_page(context)
    page.goto(url(live_server.url, models="rnn-sigmoid,lstm,gru", seq_len="30", speed="max", lang="en"))
    wait_rendered(page)
    scroll_through(page)
    drawn = page.evaluate("() => document.querySelectorAll('.js-plotly-plot').length")
    assert drawn >= 8 and page.evaluate(COLLAPSED) == []
    steps = [("lang", "ko"), ("size", 390), ("size", 1280), ("scheme", "dark"), ("size", 390),
             ("lang", "en"), ("size", 1280)]
    for kind, value in steps:
        if kind == "lang":
            set_language(page, value)
        elif kind == "scheme":
            set_scheme(page, value)
        else:
            page.set_viewport_size({"width": value, "height": 844 if value == 390 else 800})
            page.wait_for_timeout(300)  # the charts follow the width
        scroll_through(page)
        assert page.evaluate(COLLAPSED) == [], (kind, value)
    page.screenshot(path=artifacts / "loose-ends-heights-explore-en-1280-dark.png", full_page=True)
    # the Train tab's flow maps, after a training, the same way
    page.goto(url(live_server.url, **SHORT_TRAINING, lang="en"))
    page.click("#train-start")
    wait_trained(page)
    for kind, value in [("lang", "ko"), ("size", 390)]:
        if kind == "lang":
            set_language(page, value)
        else:
            page.set_viewport_size({"width": value, "height": 844})
            page.wait_for_timeout(300)
        wait_for(page, "document.documentElement.dataset.trainSettled === 'true'")
        assert page.evaluate(COLLAPSED) == [], (kind, value)
    page.screenshot(path=artifacts / "loose-ends-heights-train-ko-390.png", full_page=True)
    problems = rec.problems()
    page.close()
    assert not problems, problems
