"""The Train tab in Korean, and switched between English and Korean live, in Debian's Chromium
through Playwright against a live server (offline pages, as in tests/test_browser_train.py).

What is checked: the controls, chart titles, axis titles (read from the Plotly layouts),
progress line, status and verdicts are Korean in Korean; a switch of language re-labels a
finished or running training without a new request and without losing a point; the API's
`detail` stays as the server sent it inside the page's own words. Screenshots of the tab before
and after a short training, in both languages at 1280×800 and 390×844:
tests/artifacts/train-{before,after}-{en,ko}-{width}x{height}[-full].png.
"""

import re
from urllib.parse import parse_qs, urlencode

import pytest
from browser_helpers import offline_page, wait_for
from test_browser_train import SHORT  # the short training the Train tests share

pytestmark = pytest.mark.browser

HTTP_ERROR_LOG = "Failed to load resource: the server responded with a status of"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
# labels that are names or notation only ("RNN · tanh γ = 1"); all others must be Korean
NAME_OR_NOTATION = re.compile(r"(RNN · (sigmoid|tanh|relu|linear)|LSTM|GRU)\s*(γ = [\d/]+)?")

ALL_MODELS = "rnn-sigmoid,rnn-tanh,rnn-relu,lstm,gru"

# What the tab says, read from the page and from the Plotly figures.
WORDS = r"""
() => {
  const fig = (id) => document.getElementById(id);
  const axes = (el) => ({
    x: el._fullLayout?.xaxis?.title?.text, y: el._fullLayout?.yaxis?.title?.text,
    y2: el._fullLayout?.yaxis2?.title?.text,
  });
  const heat = [...document.querySelectorAll('#chart-flowmaps .heat-chart')];
  // no-break spaces (which keep a number with its unit) read as spaces
  const text = (sel) => document.querySelector(sel).textContent.replace(/\u00a0/g, ' ').trim();
  return {
    lang: document.documentElement.lang,
    labels: [...document.querySelectorAll('#train-controls label')]
      .map((l) => l.textContent.replace(/\s+/g, ' ').trim()),
    legends: [...document.querySelectorAll('#train-controls legend')].map((l) => l.textContent.trim()),
    headings: [...document.querySelectorAll('#panel-train h2')].map((h) => h.textContent.trim()),
    options: [...document.querySelectorAll('#train_task option')].map((o) => o.textContent.trim()),
    start: text('#train-start'), stop: text('#train-stop'), summary: text('#panel-train summary'),
    task: text('#train-task-text'), status: text('#train-status'), progress: text('#train-progress-text'),
    metricSub: text('#metric-sub'),
    stepsTitle: fig('train_steps').title,
    loss: { axes: axes(fig('chart-loss')), names: (fig('chart-loss').data || []).map((d) => d.name),
      hover: (fig('chart-loss').data || []).map((d) => d.hovertemplate) },
    metric: { axes: axes(fig('chart-metric')), names: (fig('chart-metric').data || []).map((d) => d.name),
      hover: (fig('chart-metric').data || []).map((d) => d.hovertemplate) },
    maps: heat.map((el) => ({ x: el._fullLayout?.xaxis?.title?.text, hover: el.data?.[0]?.hovertemplate,
      aria: el.getAttribute('aria-label') })),
    chips: [...document.querySelectorAll('#train-cards .chip')].map((c) => c.textContent),
    live: [...document.querySelectorAll('#train-cards .live')].map((c) => c.textContent),
    verdicts: [...document.querySelectorAll('#train-cards .verdict')].map((c) => c.textContent),
  };
}
"""

# Every point the charts hold, to compare before and after a switch of language.
DATA = r"""
() => {
  const traces = (el) => (el.data || []).map((d) => ({ x: [...d.x], y: [...d.y] }));
  return {
    loss: traces(document.getElementById('chart-loss')),
    metric: traces(document.getElementById('chart-metric')),
    maps: [...document.querySelectorAll('#chart-flowmaps .heat-chart')].map((el) => el.data[0].z),
  };
}
"""


def train_url(base: str, lang: str | None = None, **state) -> str:
    query = {"tab": "train", **state, **({"lang": lang} if lang else {})}
    return f"{base}/?{urlencode(query)}"


def search(page) -> dict:
    return parse_qs(page.evaluate("location.search.slice(1)"))


def words(page) -> dict:
    return page.evaluate(WORDS)


def wait_state(page, state: str, timeout=30_000):
    wait_for(page, "(s) => document.documentElement.dataset.train === s", arg=state, timeout=timeout)


def wait_done(page):
    wait_state(page, "done")
    wait_for(page, "document.documentElement.dataset.trainSettled === 'true'")


def choose_language(page, lang: str):
    page.select_option("#lang", lang)
    wait_for(page, "(l) => document.documentElement.lang === l", arg=lang)


def count_streams(page) -> list[str]:
    """Every request to the training stream from now on."""
    seen = []
    page.on("request", lambda r: seen.append(r.url) if "/api/train/stream" in r.url else None)
    return seen


def korean(text: str) -> bool:
    return bool(HANGUL.search(text))


def test_korean_train_tab_renders_in_korean(page, live_server, artifacts):
    page.goto(train_url(live_server.url, "ko", **SHORT))
    assert page.is_visible("#panel-train")
    w = words(page)
    assert w["lang"] == "ko"
    for label in w["labels"]:
        assert korean(label) or NAME_OR_NOTATION.fullmatch(label), label
    assert w["legends"] == ["학습할 모델", "과제", "옵티마이저", "초기화", "학습 길이"]
    assert page.text_content('label[for="train_lr"]') == "학습률"
    assert page.text_content('label[for="train_batch_size"]') == "배치 크기"
    assert page.text_content('label[for="train_hidden_size"]') == "은닉 크기 H"
    assert page.text_content("#train_clip_on + span") == "노름 기준 클리핑"
    assert w["options"] == ["덧셈 문제", "복사 과제", "시간 순서 과제"]
    assert (w["start"], w["stop"], w["summary"]) == ("시작", "중지", "학습 설정")
    assert w["headings"] == ["학습 손실", "학습 중의 기울기 흐름", "검증 데이터 지표", "결과"]
    assert "평균제곱오차(MSE)" in w["task"] and "기준선" in w["task"]
    assert w["progress"] == "준비됨" and "시작" in w["status"]
    assert page.get_attribute("#train-start", "title").startswith("선택한 모델을")
    assert page.get_attribute("#chart-loss", "aria-label").startswith("로그 스케일")
    wait_for(page, "document.getElementById('train_steps').title.includes('최대')")
    page.select_option("#train_task", "copy")
    assert "복사 과제" in page.text_content("#train-task-text")
    page.select_option("#train_task", "adding")

    page.click("#train-start")
    wait_done(page)
    w = words(page)
    assert w["loss"]["axes"] == {"x": "학습 스텝", "y": "손실 (로그 스케일)", "y2": "클리핑"}
    assert w["metric"]["axes"]["x"] == "학습 스텝" and w["metric"]["axes"]["y"] == "검증 MSE (로그 스케일)"
    assert w["loss"]["names"][:3] == ["RNN (tanh)", "GRU", "기준선 0.167"]  # model names stay as they are
    assert "스텝 %{x}: 손실 %{y:.4g}" in w["loss"]["hover"][0]
    assert w["metric"]["names"][-1] == "기준선"
    assert [m["x"] for m in w["maps"]] == ["", "학습 스텝"]
    assert all("스텝 %{x}, t = %{y}" in m["hover"] for m in w["maps"])
    assert w["maps"][0]["aria"].startswith("RNN (tanh): 학습 스텝과 t에 대한")
    assert w["status"].startswith("완료: 60 스텝")
    assert "스텝 60 / 60 · 100% · 초당 " in w["progress"] and " · 총 " in w["progress"]
    assert w["metricSub"] == "20 스텝마다 새 시퀀스 100개로 잰 평균제곱오차(MSE). 점선: 기준선 0.167."
    cards = zip(w["chips"], w["live"], w["verdicts"], ["RNN (tanh)", "GRU"], strict=True)
    for chip, live, verdict, label in cards:
        assert chip in ("해결", "미해결")
        assert live.startswith("스텝 60 · 손실 ") and "스텝 60의 검증 MSE" in live
        assert verdict.startswith(f"{label}: 기준선 0.167 대비 MSE ")
        assert verdict.endswith(("— 해결", "— 미해결 (MSE가 0.01 미만이어야 함)"))
    page.screenshot(path=artifacts / "train-ko.png")
    page.screenshot(path=artifacts / "train-ko-full.png", full_page=True)


def test_url_problems_are_said_in_korean(page, live_server):
    page.goto(train_url(live_server.url, "ko", train_task="sorting", train_models="lstm,transformer"))
    text = page.text_content("#train-url-note .message-text").strip()  # a note of its own
    assert text.startswith("학습 URL의 일부를 이해하지 못했습니다: ")
    assert "알 수 없는 모델 “transformer”" in text
    assert "train_task=“sorting”은(는) adding, copy, temporal_order 중 하나가 아닙니다" in text
    choose_language(page, "en")
    text = page.text_content("#train-url-note .message-text").strip()
    assert text.startswith("Some of the training URL was not understood: unknown model “transformer”")


def test_switching_language_relabels_a_finished_training_and_keeps_it(page, live_server):
    page.goto(train_url(live_server.url, **SHORT))
    streams = count_streams(page)
    page.click("#train-start")
    wait_done(page)
    before, data = words(page), page.evaluate(DATA)
    query = search(page)
    assert before["lang"] == "en" and before["loss"]["axes"]["x"] == "training step"
    assert len(streams) == 1

    choose_language(page, "ko")
    w = words(page)
    # the controls
    assert page.text_content('label[for="train_lr"]') == "학습률"
    assert w["legends"][0] == "학습할 모델" and w["options"][0] == "덧셈 문제"
    assert "평균제곱오차(MSE)" in w["task"]
    assert "최대 20000" in w["stepsTitle"]
    # the charts, re-labelled in place
    assert w["loss"]["axes"] == {"x": "학습 스텝", "y": "손실 (로그 스케일)", "y2": "클리핑"}
    assert w["metric"]["axes"] == {"x": "학습 스텝", "y": "검증 MSE (로그 스케일)", "y2": None}
    assert w["loss"]["names"][2] == "기준선 0.167" and w["loss"]["names"][3] == "RNN (tanh): 클리핑됨"
    assert [m["x"] for m in w["maps"]] == ["", "학습 스텝"]
    # what code wrote: status, progress, metric sentence, cards
    assert w["status"].startswith("완료: 60 스텝") and "초당" in w["progress"]
    assert w["metricSub"].startswith("20 스텝마다")
    assert all(chip in ("해결", "미해결") for chip in w["chips"])
    for old, new in zip(before["verdicts"], w["verdicts"], strict=True):
        assert korean(new) and new.split(":")[0] == old.split(":")[0]
        assert re.search(r"MSE [0-9.]+", new).group() == re.search(r"MSE [0-9.]+", old).group()
    # the same training: no new request, every point where it was
    assert page.evaluate(DATA) == data
    assert len(streams) == 1
    after = search(page)
    assert after["lang"] == ["ko"]
    assert {k: v for k, v in after.items() if k != "lang"} == query
    assert all(k in after for k in ("tab", "train_models", "train_steps", "train_seed"))

    # and back: the English words are the ones it had
    choose_language(page, "en")
    back = words(page)
    for key in ("labels", "legends", "headings", "options", "task", "status", "metricSub", "chips",
                "verdicts", "loss", "metric", "maps", "stepsTitle"):
        assert back[key] == before[key], key
    assert page.evaluate(DATA) == data and len(streams) == 1


def test_a_running_training_keeps_streaming_through_a_switch(page, live_server):
    # long enough (T = 100: ~10 ms a step here) that the switch and the reading below happen while
    # it runs, on a fast machine too (at T = 30 it could end between two of the reads)
    page.goto(train_url(live_server.url, **{**SHORT, "train_steps": "400", "train_seq_len": "100",
                                            "train_eval_every": "100"}))
    streams = count_streams(page)
    page.click("#train-start")
    wait_for(page, "Number(document.getElementById('train-progress-text').dataset.step) >= 5")
    choose_language(page, "ko")
    # one reading of the tab, all at the same moment
    now = page.evaluate("""() => ({
        state: document.documentElement.dataset.train,
        progress: document.getElementById('train-progress-text').textContent,
        status: document.getElementById('train-status').textContent,
        chips: [...document.querySelectorAll('#train-cards .chip')].map((c) => c.textContent)})""")
    assert now["state"] == "running", now
    assert "남은\u00a0시간" in now["progress"]
    assert now["status"].startswith("RNN (tanh), GRU 모델을 덧셈 문제로 학습하는 중")
    assert now["chips"] == ["학습 중"] * 2
    wait_done(page)
    data = page.evaluate(DATA)
    assert [len(trace["x"]) for trace in data["loss"][:2]] == [400, 400]
    assert [len(trace["x"]) for trace in data["metric"][:2]] == [4, 4]
    assert all(len(row) == 400 for z in data["maps"] for row in z)
    assert len(streams) == 1
    w = words(page)
    assert w["status"].startswith("완료: 400 스텝") and w["loss"]["axes"]["x"] == "학습 스텝"
    assert all(korean(v) for v in w["verdicts"])


def test_a_bad_value_in_korean_keeps_the_api_detail(page, live_server):
    page.allowed_console = (HTTP_ERROR_LOG,)
    page.goto(train_url(live_server.url, "ko", **SHORT))
    page.fill("#train_steps", str(10**6))
    page.click("#train-start")
    wait_state(page, "error")
    detail = "steps: must be at most 20000 (limit steps_max), got 1000000"
    text = page.text_content("#train-message").strip()
    assert detail in text  # as the server sent it
    assert korean(text.replace(detail, ""))  # inside Korean words
    assert "The API did not accept" not in text
    assert page.text_content("#train-status") == "학습이 시작되지 않았습니다."
    # the message follows a switch of language
    choose_language(page, "en")
    text = page.text_content("#train-message").strip()
    assert text.startswith("The API did not accept these settings: ") and detail in text
    assert page.text_content("#train-status") == "The training did not start."
    choose_language(page, "ko")
    # no model: said in Korean, nothing sent
    for box in page.query_selector_all('input[name="train_models"]:checked'):
        box.uncheck()
    page.click("#train-start")
    assert page.text_content("#train-message").strip() == "학습할 모델을 하나 이상 고르세요."


# Elements of the tab whose content is wider than their box (outside the Plotly charts, and
# but for the text alternatives for screen readers, which are 1-px boxes by design).
SPILLED = r"""
() => [...document.querySelectorAll('#panel-train *')]
  .filter((el) => el.offsetParent !== null && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1
                  && !el.closest('.js-plotly-plot, .visually-hidden'))
  .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${[...el.classList].join('.')}`)
"""


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_korean_fits(context, live_server, artifacts, width, height):
    """Korean words neither widen the page nor make anything spill that English does not."""
    spilled = {}
    for lang in ("en", "ko"):
        page, rec = offline_page(context, width=width, height=height)
        try:
            page.goto(train_url(live_server.url, lang, **{**SHORT, "train_models": ALL_MODELS,
                                                          "train_steps": "30", "train_eval_every": "10"}))
            page.click("#train-start")
            wait_done(page)
            spilled[lang] = set(page.evaluate(SPILLED))
            if lang == "ko":
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                page.screenshot(path=artifacts / f"train-ko-{width}x{height}.png")
                page.screenshot(path=artifacts / f"train-ko-{width}x{height}-full.png", full_page=True)
        finally:
            page.close()
        assert not rec.problems()
    assert spilled["ko"] <= spilled["en"]


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_screenshots_before_and_after_a_short_training(context, live_server, artifacts, lang, width, height):
    """The tab as a class first sees it (nothing trained: every chart says what it will show),
    then after a short training: its curves, maps and verdicts, in the page's language."""
    page, rec = offline_page(context, width=width, height=height)
    try:
        page.goto(train_url(live_server.url, lang, **SHORT))
        wait_state(page, "idle")
        before = page.evaluate(WORDS)
        assert before["lang"] == lang and before["loss"]["names"] == [] and before["verdicts"] == []
        empty = page.evaluate("""() => [...document.querySelectorAll('#panel-train [data-train-empty]')]
            .map((el) => !el.hidden && el.offsetParent !== null)""")
        assert empty and all(empty)  # each chart's "nothing yet" note is on screen
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=artifacts / f"train-before-{lang}-{width}x{height}.png")
        page.screenshot(path=artifacts / f"train-before-{lang}-{width}x{height}-full.png", full_page=True)
        page.click("#train-start")
        wait_done(page)
        after = page.evaluate(WORDS)
        assert after["loss"]["names"][:2] == ["RNN (tanh)", "GRU"] and len(after["verdicts"]) == 2
        assert bool(HANGUL.search(after["status"])) == (lang == "ko")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=artifacts / f"train-after-{lang}-{width}x{height}.png")
        page.screenshot(path=artifacts / f"train-after-{lang}-{width}x{height}-full.png", full_page=True)
    finally:
        page.close()
    assert not rec.problems()
