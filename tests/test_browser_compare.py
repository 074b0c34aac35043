"""Compare, in Debian's Chromium (static/js/compare.js): a pinned run drawn dashed under later
runs with a card naming the settings that differ, and reproduced from the URL; the run over
several seeds drawn as each model's median in its 10–90 % band, the numbers POST /api/runs gives;
a pinned training dashed under the next one; the first run's "untrained" line and its way to the
Train tab; a training's trained models opened in Explore next to their untrained selves.
Screenshots before and after, English and Korean, light and dark, 1280 × 800 and 390 × 844:
tests/artifacts/issue13-compare-*.png."""

import httpx
import numpy as np
import pytest
from browser_helpers import offline_page, wait_for, wait_rendered

pytestmark = pytest.mark.browser

RUN = "/?models=rnn-tanh,lstm&seq_len=50&input=impulse&speed=max&lang={lang}"
TRAIN = (
    "/?tab=train&train_models=rnn-tanh,lstm&train_task=adding&train_seq_len=10&train_hidden_size=8"
    "&train_batch_size=16&train_steps=30&train_eval_every=30&train_eval_size=100&train_seed=2&lang=en"
)


def flow(page, kind=None):
    return page.evaluate(
        """(kind) => (document.getElementById('chart-flow').data || [])
        .filter((d) => !kind || (d.meta && d.meta.kind === kind))
        .map((d) => ({ kind: d.meta && d.meta.kind, model: d.meta && d.meta.model, name: d.name,
                       x: Array.from(d.x || []), y: Array.from(d.y || []), dash: d.line && d.line.dash,
                       opacity: d.opacity, fill: d.fill }))""",
        kind,
    )


def by_t(trace):
    """A trace's y in the order of t (the run's lines are drawn from t = T back to 1)."""
    return [y for _, y in sorted(zip(trace["x"], trace["y"], strict=True))]


def lines(page):
    return {tr["model"]: by_t(tr) for tr in flow(page, "line")}


def test_a_pinned_run_is_drawn_dashed_under_the_next_and_comes_back_from_its_link(
    page, live_server, artifacts
):
    page.goto(live_server.url + RUN.format(lang="en"))
    wait_rendered(page)
    page.screenshot(path=str(artifacts / "issue13-compare-before-en-light-1280.png"))
    first = lines(page)
    assert page.locator("#pin-run").is_enabled()
    page.click("#pin-run")
    assert "pins=e~" in page.url
    page.fill("#seq_len", "80")
    page.click("#run")
    wait_for(page, "document.documentElement.dataset.rendered !== 'true'", timeout=10_000)
    wait_rendered(page)
    pins = flow(page, "pin")
    assert sorted(p["model"] for p in pins) == ["lstm", "rnn-tanh"]
    for p in pins:
        assert p["dash"] == "longdash" and p["opacity"] < 1 and len(p["x"]) == 50
        # the pinned line is the first run's ‖∂L/∂h_t‖, not the new one's (T = 80)
        np.testing.assert_allclose(p["y"], first[p["model"]], rtol=1e-12)
    assert len(next(iter(lines(page).values()))) == 80
    card = page.locator("#pinned-runs .pinned-card")
    assert card.count() == 1
    assert "T 50 (now 80)" in card.text_content()
    assert card.locator("[data-model='lstm']").count() == 1
    page.screenshot(path=str(artifacts / "issue13-compare-after-en-light-1280.png"))
    page.locator("section.card-summary").screenshot(
        path=str(artifacts / "issue13-compare-cards-en-light-1280.png")
    )
    # the link reproduces the comparison: the pinned settings are run again on load
    url = page.url
    page.goto(url)
    wait_rendered(page)
    wait_for(page, "document.documentElement.dataset.pins === '1'")
    wait_for(page, "(document.getElementById('chart-flow').data || []).some((d) => d.meta?.kind === 'pin')")
    again = {p["model"]: p["y"] for p in flow(page, "pin")}
    for model, y in first.items():
        np.testing.assert_allclose(again[model], y, rtol=1e-12)
    assert "T 50 (now 80)" in page.locator("#pinned-runs").text_content()
    # × removes it, from the chart and the URL
    page.click("#pinned-runs .pin-remove")
    wait_for(page, "document.documentElement.dataset.pins === '0'")
    assert "pins=" not in page.url
    wait_for(page, "!(document.getElementById('chart-flow').data || []).some((d) => d.meta?.kind === 'pin')")


def test_over_n_seeds_draws_the_median_in_its_band_and_the_cards_give_the_horizons(
    page, live_server, artifacts
):
    page.goto(live_server.url + RUN.format(lang="en") + "&seeds=8")
    wait_rendered(page)
    wait_for(page, "document.documentElement.dataset.seeds === 'done'")
    wait_for(
        page, "(document.getElementById('chart-flow').data || []).some((d) => d.meta?.kind === 'band-low')"
    )
    body = {
        "models": [{"cell": "rnn", "activation": "tanh"}, {"cell": "lstm"}],
        "seq_len": 50,
        "hidden_size": 16,
        "input": {"kind": "impulse"},
        "include": [],
        "seeds": list(range(8)),
    }
    want = httpx.post(live_server.url + "/api/runs", json=body, timeout=60).json()
    traces = flow(page)
    for m, key in zip(want["models"], ["rnn-tanh", "lstm"], strict=True):
        by_kind = {tr["kind"]: tr for tr in traces if tr["model"] == key}
        np.testing.assert_allclose(by_kind["band-median"]["y"], m["grad_norm"]["q50"], rtol=1e-12)
        np.testing.assert_allclose(by_kind["band-high"]["y"], m["grad_norm"]["q90"], rtol=1e-12)
        np.testing.assert_allclose(by_kind["band-low"]["y"], m["grad_norm"]["q10"], rtol=1e-12)
        assert by_kind["band-low"]["fill"] == "tonexty"
        horizons = sorted(49 if h is None else h for h in m["summary"]["memory_horizon"])
        median = (horizons[3] + horizons[4]) / 2
        card = page.locator(f"#model-cards .model-card[data-model='{key}'] .stat-seeds").text_content()
        assert "over 8 seeds" in card and f"{horizons[0]}–{horizons[-1]} steps" in card
        assert f"median {median:g}" in card
    page.screenshot(path=str(artifacts / "issue13-compare-seeds-en-light-1280.png"))
    # back to one seed: the band goes
    page.select_option("#seeds-n", "1")
    wait_for(
        page, "!(document.getElementById('chart-flow').data || []).some((d) => d.meta?.kind === 'band-low')"
    )
    assert "seeds=" not in page.url


def test_a_pinned_training_is_drawn_dashed_under_the_next(page, live_server, artifacts):
    page.goto(live_server.url + TRAIN)
    page.click("#train-start")
    wait_for(page, "document.documentElement.dataset.train === 'done'", timeout=90_000)
    wait_for(page, "document.documentElement.dataset.trainSettled === 'true'")  # its last points drawn
    first = page.evaluate("""() => document.getElementById('chart-loss').data
        .filter((d) => d.meta?.kind === 'loss').map((d) => Array.from(d.y))""")
    page.click("#pin-training")
    assert "pins=t~" in page.url
    page.fill("#train_lr", "0.05")
    page.click("#train-start")
    wait_for(page, "document.documentElement.dataset.train === 'running'", timeout=10_000)
    wait_for(page, "document.documentElement.dataset.train === 'done'", timeout=90_000)
    wait_for(page, "document.documentElement.dataset.trainSettled === 'true'")
    pins = page.evaluate("""() => document.getElementById('chart-loss').data
        .filter((d) => d.meta?.kind === 'pin').map((d) => ({ y: Array.from(d.y), dash: d.line.dash }))""")
    assert len(pins) == 2 and all(p["dash"] == "longdash" for p in pins)
    for p, y in zip(pins, first, strict=True):
        np.testing.assert_allclose(p["y"], y, rtol=1e-12)
    assert "learning rate 0.01 (now 0.05)" in page.locator("#pinned-trainings").text_content()
    page.screenshot(path=str(artifacts / "issue13-compare-training-en-light-1280.png"))


def test_the_first_run_says_untrained_and_the_trained_models_open_beside_them(page, live_server, artifacts):
    page.goto(
        live_server.url + "/?speed=max&lang=en&seq_len=10&input=adding&hidden_size=8&seed=2"
        "&models=rnn-tanh,lstm"
    )
    wait_rendered(page)
    note = page.locator("#untrained-note")
    assert note.is_visible() and "untrained" in note.text_content() and "seed 2" in note.text_content()
    page.click("#train-these")
    wait_for(page, "document.getElementById('panel-train').hidden === false")
    checked = page.evaluate("""() => [...document.querySelectorAll('input[name="train_models"]:checked')]
        .map((b) => b.value)""")
    assert checked == ["rnn-tanh", "lstm"]
    page.goto(live_server.url + TRAIN.replace("train_seed=2", "train_seed=2&train_hidden_size=8"))
    page.click("#train-start")
    wait_for(page, "document.documentElement.dataset.train === 'done'", timeout=90_000)
    link = page.locator("#open-trained")
    assert link.is_visible() and link.get_attribute("target") == "_blank"
    page.goto(live_server.url + link.get_attribute("href").replace("speed=250", "speed=max"))
    wait_rendered(page)
    models = page.evaluate(
        "() => [...document.querySelectorAll('#model-cards .model-card')].map((c) => c.dataset.model)"
    )
    assert models == ["rnn-tanh", "lstm", "rnn-tanh", "lstm"]  # untrained, then trained
    ys = [by_t(tr) for tr in flow(page, "line")]
    assert len(ys) == 4 and ys[0] != ys[2] and ys[1] != ys[3]
    assert "untrained" in note.text_content() and "trained or your own" in note.text_content()
    page.screenshot(path=str(artifacts / "issue13-compare-trained-en-light-1280.png"))


@pytest.mark.parametrize(
    ("lang", "scheme", "width", "height"),
    [("ko", "dark", 1280, 800), ("en", "dark", 390, 844), ("ko", "light", 390, 844)],
)
def test_compare_screenshots(context, live_server, artifacts, lang, scheme, width, height):
    page, rec = offline_page(context, width=width, height=height, scheme=scheme)
    page.goto(live_server.url + RUN.format(lang=lang))
    wait_rendered(page)

    def shoot(when):
        for part in ("flow", "summary"):
            path = artifacts / f"issue13-compare-{when}-{part}-{lang}-{scheme}-{width}.png"
            page.locator(f"section.card-{part}").screenshot(path=str(path))

    shoot("before")
    page.click("#pin-run")
    page.evaluate("document.getElementById('settings').open = true")  # closed on a phone's autorun
    page.fill("#seq_len", "80")
    page.click("#run")
    wait_for(page, "document.documentElement.dataset.rendered !== 'true'", timeout=10_000)
    wait_rendered(page)
    page.select_option("#seeds-n", "4")
    wait_for(page, "document.documentElement.dataset.seeds === 'done'")
    page.wait_for_timeout(300)
    assert page.locator("#pinned-runs .pinned-card").count() == 1
    shoot("after")
    page.close()
    assert not rec.problems()
