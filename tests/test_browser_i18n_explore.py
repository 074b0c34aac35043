"""The Explore tab in Korean, and switched between English and Korean live, in Debian's Chromium
through Playwright against a live server (offline pages, as in tests/test_browser.py).

What is checked: the controls, chart titles, axis titles and trace names (read from the Plotly
figures), summary cards, headline, status and position line are Korean in Korean; a switch of
language re-labels a finished run — or one still streaming — without a new request, without
losing a point and at the same playback position; the API's `detail` stays as the server sent
it inside the page's own words, and a message on screen follows the switch.
"""

import json
import re
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from browser_helpers import offline_page, position, wait_for, wait_rendered, wait_settled

pytestmark = pytest.mark.browser

HTTP_ERROR_LOG = "Failed to load resource: the server responded with a status of"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
# labels that are names or notation only ("RNN · tanh γ = 1"); all others must be Korean
NAME_OR_NOTATION = re.compile(r"(RNN · (sigmoid|tanh|relu|linear)|LSTM|GRU)\s*(γ = [\d/]+)?|t|T − t")

STATE = {  # every explorer key, as the page writes them
    "models": "rnn-sigmoid,rnn-tanh,lstm,gru",
    "seq_len": "30",
    "hidden_size": "8",
    "input": "gaussian",
    "init": "xavier",
    "sigma_max": "none",
    "forget_bias": "1",
    "loss": "last",
    "seed": "0",
    "jacobian": "1",
    "speed": "max",
    "view": "grad",
    "x": "t",
}
T = int(STATE["seq_len"])

# What the tab says, read from the page and from the Plotly figures.
WORDS = r"""
() => {
  const $ = (sel) => document.querySelector(sel);
  const text = (el) => (el ? el.textContent.replace(/\s+/g, ' ').trim() : null);
  // the tab's own elements: the explainers under the charts (#learn, static/js/learn.js) are not
  // checked here
  const els = (sel) => [...document.querySelectorAll(sel)].filter((el) => !el.closest('#learn'));
  const all = (sel) => els(sel).map(text);
  const fig = (el) => ({
    title: el._fullLayout?.title?.text,
    x: el._fullLayout?.xaxis?.title?.text, y: el._fullLayout?.yaxis?.title?.text,
    y2: el._fullLayout?.yaxis2?.title?.text,
    names: (el.data || []).map((d) => d.name), hover: (el.data || []).map((d) => d.hovertemplate),
    modebar: [...el.querySelectorAll('.modebar-btn')].map((b) => b.getAttribute('data-title')),
  });
  return {
    lang: document.documentElement.lang,
    labels: all('#panel-explore .panel label'),
    legends: all('#controls legend'),
    headings: ['flow', 'summary', 'hidden', 'grads', 'gates', 'why'].map((id) => text($(`#${id}-title`))),
    subs: all('#panel-explore .card-sub'),
    key: all('#panel-explore .key li'),
    options: [...document.querySelectorAll('#input option, #init option, #speed option')].map(text),
    buttons: ['#run', '#pause', '#step', '#reset', '#defaults'].map((s) => text($(s))),
    titles: els('#panel-explore [title]').filter((el) => !el.closest('.js-plotly-plot'))
      .map((el) => el.title),
    summary: text($('#settings > summary')),
    status: text($('#status')), position: text($('#position')), flowSub: text($('#flow-sub')),
    headline: text($('#headline')),
    cards: all('#model-cards .model-card'),
    stats: all('#model-cards dt'),
    why: all('#why-stats li'),
    marks: [...document.querySelectorAll('#sigma-mark-labels .mark')].map((m) => [m.textContent, m.title]),
    seqLenTitle: $('#seq_len').title,
    heatLabels: all('#panel-explore .heat-label'),
    heatAria: els('#panel-explore .heat-chart').map((el) => el.getAttribute('aria-label')),
    heat: [...document.querySelectorAll('#chart-grads .heat-chart, #chart-hidden .heat-chart')]
      .map((el) => ({ x: el._fullLayout?.xaxis?.title?.text, y: el._fullLayout?.yaxis?.title?.text,
        hover: el.data?.[0]?.hovertemplate })),
    flow: fig($('#chart-flow')),
    gates: [...document.querySelectorAll('#gates-charts .js-plotly-plot')].map(fig),
    path: fig($('#chart-path')),
    whyChart: fig($('#chart-why')),
  };
}
"""

# Every point the charts hold, to compare before and after a switch of language.
DATA = r"""
() => {
  const traces = (el) => (el.data || []).map((d) => ({ x: [...(d.x || [])], y: [...(d.y || [])],
    z: d.z ? d.z.map((row) => [...row]) : null }));
  return {
    flow: traces(document.getElementById('chart-flow')),
    heat: [...document.querySelectorAll('.heat-chart')].map(traces),
    gates: [...document.querySelectorAll('#gates-charts .js-plotly-plot')].map(traces),
    path: traces(document.getElementById('chart-path')),
    why: traces(document.getElementById('chart-why')),
  };
}
"""


def url(base: str, lang: str | None = None, **state) -> str:
    query = {**state, **({"lang": lang} if lang else {})}
    return f"{base}/?{urlencode(query)}"


def search(page) -> dict:
    return parse_qs(page.evaluate("location.search.slice(1)"))


def words(page) -> dict:
    return page.evaluate(WORDS)


def korean(text: str) -> bool:
    return bool(HANGUL.search(text))


def settled(page):
    wait_for(page, "document.documentElement.dataset.settled === 'true'")


def choose_language(page, lang: str, *, settle=True):
    page.select_option("#lang", lang)
    wait_for(page, "(l) => document.documentElement.lang === l", arg=lang)
    if settle:  # every panel drawn again (not while playing)
        settled(page)


def count_streams(page) -> list[str]:
    """Every request to the run stream from now on."""
    seen = []
    page.on("request", lambda r: seen.append(r.url) if "/api/runs/stream" in r.url else None)
    return seen


def test_korean_explore_renders_in_korean(page, live_server, artifacts):
    page.goto(url(live_server.url, "ko", **{**STATE, "seq_len": "50", "hidden_size": "16",
                                            "models": "rnn-sigmoid,rnn-tanh,lstm"}))
    wait_rendered(page)
    wait_for(page, "document.getElementById('seq_len').title.includes('최대')")
    w = words(page)
    assert w["lang"] == "ko"
    # the controls: every label Korean, or a name or notation
    for label in w["labels"]:
        assert korean(label) or NAME_OR_NOTATION.fullmatch(label), label
    assert w["legends"] == ["비교할 모델", "시퀀스", "초기화", "손실과 시드"]
    assert page.text_content('label[for="seq_len"]') == "길이 T"
    assert page.text_content('label[for="hidden_size"]') == "은닉 크기 H"
    assert page.text_content('label[for="forget_bias"]') == "LSTM 망각 게이트 편향"
    assert page.text_content("#jacobian + span") == "야코비안 노름"
    assert w["summary"] == "설정"
    assert w["buttons"] == ["실행", "다시 재생", "한 단계", "리셋", "기본값으로 되돌리기"]
    assert w["options"][:8] == ["초당 1단계", "초당 3단계", "초당 10단계", "초당 30단계", "초당 100단계",
                                "초당 250단계", "초당 1000단계", "최대"]
    assert w["options"][8:12] == ["가우스 잡음", "사인파", "t = 1의 임펄스", "덧셈 문제"]
    assert w["options"][12:] == ["Xavier", "직교", "정규분포 (표준편차 0.1)", "항등 (순환 가중치)"]
    words_only = [x for x in w["titles"] if re.search(r"[A-Za-z]{4,}", x)]  # not notation alone
    assert all(korean(x) for x in words_only), [x for x in words_only if not korean(x)]
    assert w["seqLenTitle"].endswith("— 최대 2000")  # the limit of GET /api/meta, in Korean words
    assert ["4 · sigmoid", "sigmoid의 1/γ: 임계 σₘₐₓ"] in w["marks"]
    # headings, subtitles, the chart key
    assert w["headings"] == ["기울기 흐름", "무슨 일이 일어났나", "은닉 상태", "기울기", "게이트",
                             "왜 그런가"]
    assert all(korean(s) for s in w["subs"]) and all(korean(k) for k in w["key"])
    assert w["flowSub"].startswith("모든 t에 대한 ‖∂L/∂ht‖")
    # the charts, read from their Plotly figures
    flow = w["flow"]
    assert (flow["x"], flow["y"]) == ("시간 단계 t", "‖∂L/∂h<sub>t</sub>‖   (로그 스케일)")
    assert flow["names"][:2] == ["RNN (sigmoid)", "RNN (sigmoid): 상한"]  # model names stay as they are
    assert "로그 축에 그릴 수 없는 값" in flow["names"]
    bound = "RNN (tanh) 상한 ‖∂L/∂h<sub>T</sub>‖·(γσ<sub>max</sub>)<sup>T−t</sup>"
    assert any(h.startswith(bound) for h in flow["hover"])
    assert "PNG로 내려받기" in flow["modebar"] and "확대/축소" in flow["modebar"]  # Plotly's own words
    assert [h["x"] for h in w["heat"]][-1] == "시간 단계 t" and all(h["y"] == "유닛" for h in w["heat"])
    assert all(h["hover"].startswith("유닛 %{y}, t = %{x}") for h in w["heat"])
    assert "LSTM · 셀 상태 ct" in w["heatLabels"]
    assert "LSTM · 셀 상태 ct: 유닛 × 시간" in w["heatAria"]
    gates = w["gates"][0]
    assert (gates["title"], gates["x"], gates["y"]) == ("LSTM 게이트, 유닛 평균", "시간 단계 t", "평균값")
    assert gates["names"] == ["입력 게이트 i", "망각 게이트 f", "후보 g (tanh)", "출력 게이트 o"]
    assert w["path"]["title"].startswith("기울기를 지키는 경로")
    assert w["path"]["names"] == ["LSTM: Π f<sub>k</sub> (셀 상태 경로)"]
    assert w["path"]["y"] == "유닛 평균 (로그)"
    why = w["whyChart"]
    assert (why["x"], why["y2"]) == ("사전 활성화 z", "z<sub>t</sub>의 비율 (밀도)")
    assert "RNN (sigmoid)의 z<sub>t</sub>" in why["names"]
    assert len(w["why"]) == 2
    assert all(re.match(r"RNN \(\w+\): 평균 \S+′\(z\) = [0-9.]+ .* 포화", s) for s in w["why"]), w["why"]
    # what code wrote: the summary cards, the headline, the status and position lines
    assert re.match(r"49단계를 거슬러 올라가면 시그모이드 RNN의 기울기는 시작값의 10⁻\S+입니다\. "
                    r"tanh RNN의 기울기는 10\S+입니다\. LSTM의 기울기는 ", w["headline"]), w["headline"]
    assert w["stats"][:5] == ["손실", "기울기 비율", "기억 범위", "σₘₐₓ(Wₕₕ)", "γ·σₘₐₓ"]
    assert "오버플로" in w["stats"] and all(korean(c) for c in w["cards"])
    assert "기울기 소실입니다" in w["cards"][0]
    assert w["status"].startswith("완료: ") and "계산했습니다" in w["status"]
    assert w["position"] == "완료"
    page.screenshot(path=artifacts / "explore-ko.png")
    page.screenshot(path=artifacts / "explore-ko-full.png", full_page=True)

    # the help dialog
    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("?")
    assert page.is_visible("#help")
    assert page.text_content("#help-title") == "키보드 단축키"
    assert all(korean(td) for td in page.locator("#help td:nth-child(2)").all_text_contents())
    page.keyboard.press("Escape")


def test_switching_language_relabels_a_finished_run_and_keeps_it(page, live_server):
    streams = count_streams(page)
    page.goto(url(live_server.url, **STATE))
    wait_rendered(page)
    # back into the backward sweep: the cards show the ratio so far
    page.locator("#scrubber").fill(str(T + 10))
    wait_settled(page, T + 10)
    before, data, where = words(page), page.evaluate(DATA), position(page)
    query = search(page)
    assert before["lang"] == "en" and before["flow"]["x"] == "time step t"
    assert before["position"] == f"backward · t = {T - 9} / {T}"
    assert "lang" not in query

    choose_language(page, "ko")
    w = words(page)
    # the controls (the markup) and what code wrote into them
    assert page.text_content('label[for="seq_len"]') == "길이 T"
    assert w["legends"][0] == "비교할 모델" and w["options"][8] == "가우스 잡음"
    assert w["seqLenTitle"].endswith("— 최대 2000")
    assert all(korean(mark_title) for _, mark_title in w["marks"])
    assert w["buttons"][1] == "계속"  # paused, not at the end
    # the charts, re-labelled on the same run
    assert (w["flow"]["x"], w["flow"]["y"]) == ("시간 단계 t", "‖∂L/∂h<sub>t</sub>‖   (로그 스케일)")
    assert [g["title"] for g in w["gates"]] == ["LSTM 게이트, 유닛 평균", "GRU 게이트, 유닛 평균"]
    assert w["gates"][1]["names"] == ["리셋 게이트 r", "업데이트 게이트 z", "후보 n (tanh)"]
    assert w["path"]["x"] == "시간 단계 t" and w["whyChart"]["x"] == "사전 활성화 z"
    assert all(korean(s) for s in w["why"])
    # the position, status and the cards in the middle of the backward sweep
    assert w["position"] == f"역전파 · t = {T - 9} / {T}"
    assert w["status"].startswith("완료: ")
    assert all(c.startswith(("RNN", "LSTM", "GRU")) and f"역전파 t = {T - 9}: " in c for c in w["cards"])
    # the same run: no new request, every point where it was, the same position
    assert page.evaluate(DATA) == data
    assert position(page) == where
    assert len(streams) == 1
    after = search(page)
    assert after["lang"] == ["ko"]
    assert {k: v for k, v in after.items() if k != "lang"} == query
    assert all(k in after for k in STATE)

    # to the end: the headline and the readings in Korean
    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("End")
    wait_settled(page, 2 * T)
    w = words(page)
    assert w["headline"].startswith(f"{T - 1}단계를 거슬러 올라가면 시그모이드 RNN의 기울기는 ")
    assert w["position"] == "완료" and w["buttons"][1] == "다시 재생"
    assert all(korean(c) for c in w["cards"]) and w["stats"][0] == "손실"
    ko_data = page.evaluate(DATA)

    # and back: the English words are the ones it had
    page.locator("#scrubber").fill(str(T + 10))
    wait_settled(page, T + 10)
    choose_language(page, "en")
    back = words(page)
    for key in ("labels", "legends", "headings", "subs", "key", "options", "buttons", "titles", "summary",
                "status", "position", "flowSub", "cards", "why", "marks", "seqLenTitle", "heatLabels",
                "heatAria", "heat", "flow", "gates", "path", "whyChart"):
        assert back[key] == before[key], key
    assert page.evaluate(DATA) == data and len(streams) == 1
    page.keyboard.press("End")
    wait_settled(page, 2 * T)
    assert page.evaluate(DATA) == ko_data
    assert re.match(r"After 29 steps back, the sigmoid RNN's gradient is 10⁻\S+ of its start; ",
                    words(page)["headline"])


def test_a_run_still_streaming_keeps_streaming_through_a_switch(page, live_server):
    long = {**STATE, "seq_len": "1200", "hidden_size": "32", "jacobian": "0", "speed": "250",
            "models": "rnn-sigmoid,rnn-tanh,lstm"}
    streams = count_streams(page)
    page.goto(url(live_server.url, **long))
    wait_for(page, "Number(document.getElementById('position').dataset.p) >= 5")
    choose_language(page, "ko", settle=False)
    assert page.evaluate("['streaming', 'done'].includes(document.documentElement.dataset.run)")
    assert page.text_content("#position").startswith("순전파 · t = ")
    assert page.text_content("#status").startswith(("스트리밍 중…", "완료: "))
    p = position(page)["p"]
    wait_for(page, f"Number(document.getElementById('position').dataset.p) > {p}")  # still playing
    page.select_option("#speed", "max")
    wait_rendered(page, timeout=60_000)
    data = page.evaluate(DATA)
    lines = [d for d in data["flow"] if len(d["x"]) > 2]
    assert len(lines) >= 3 and all(len(d["x"]) == 1200 for d in lines[:1])
    assert all(row[-1] is not None for row in data["heat"][0][0]["z"])  # the forward sweep, to t = T
    assert len(streams) == 1
    w = words(page)
    assert w["flow"]["x"] == "시간 단계 t" and w["headline"].startswith("1199단계를 거슬러 올라가면 ")
    assert w["position"] == "완료" and all(korean(c) for c in w["cards"])


def test_messages_in_korean_keep_the_api_detail(page, live_server):
    page.allowed_console = (HTTP_ERROR_LOG,)
    page.goto(url(live_server.url, "ko"))
    assert page.text_content("#status") == "실행(또는 Enter)을 누르면 비교가 스트리밍됩니다."
    assert page.text_content("#position") == "준비"
    page.fill("#seq_len", "5000")
    page.click("#run")
    wait_for(page, "document.documentElement.dataset.run === 'error'")
    detail = httpx.post(live_server.url + "/api/runs", json={"seq_len": 5000}).json()["detail"]
    text = page.text_content("#message .message-text")
    assert text == f"API가 이 설정을 받아들이지 않았습니다: {detail}"  # the detail as the server sent it
    assert page.text_content("#status") == "실행이 시작되지 않았습니다."
    # the message and the status follow a switch of language
    choose_language(page, "en")
    assert page.text_content("#message .message-text") == f"The API did not accept these settings: {detail}"
    assert page.text_content("#status") == "The run did not start."
    choose_language(page, "ko")
    assert page.text_content("#message .message-text").startswith("API가 이 설정을 받아들이지 않았습니다: ")

    # a refusal of the Jacobian norms' cost: the page runs without them, and says so in Korean
    page.fill("#seq_len", "400")
    page.fill("#hidden_size", "128")
    page.click("#run")
    wait_for(page, "document.documentElement.dataset.run === 'done'", timeout=30_000)
    assert korean(page.text_content("#message .message-text"))
    assert "야코비안 노름" in page.text_content("#message")
    assert not page.is_checked("#jacobian") and "jacobian=0" in page.url and "lang=ko" in page.url

    # no model: said in Korean, nothing sent
    for box in page.query_selector_all('input[name="models"]:checked'):
        box.uncheck()
    page.click("#run")
    assert page.text_content("#message .message-text") == "비교할 모델을 하나 이상 고르세요."


def test_busy_server_and_broken_stream_in_korean(page, live_server):
    page.allowed_console = (HTTP_ERROR_LOG,)
    page.goto(url(live_server.url, "ko"))
    answers = []
    page.route("**/api/runs/stream", lambda r: r.fulfill(**answers.pop(0)))
    # Retry-After 30 s: the page's own retry (after that many seconds) stays out of the test's way
    busy = "the server is busy: 4 runs are in progress (limit max_concurrent_runs); retry in 30 s"
    answers.append({"status": 503, "headers": {"Retry-After": "30"}, "content_type": "application/json",
                    "body": json.dumps({"detail": busy})})
    page.click("#run")
    wait_for(page, "document.documentElement.dataset.run === 'error'")
    assert page.text_content("#message .message-text") == (
        f"서버가 바쁩니다: {busy} (Retry-After: 30초 — 그 뒤에 다시 시도하세요)")
    start = httpx.post(live_server.url + "/api/runs/stream", json={"seq_len": 3, "hidden_size": 2}).text
    head = start.split("\n\n")
    answers.append({"status": 200, "content_type": "text/event-stream",
                    "body": "\n\n".join(head[:3]) + "\n\n"})
    page.get_by_role("button", name="다시 시도").click()
    wait_for(page, "document.getElementById('message').textContent.includes('스트림이 끝났습니다')")
    text = page.text_content("#message .message-text")
    assert text == ("이벤트 3개를 받은 뒤 실행이(가) 끝나기 전에 스트림이 끝났습니다. "
                    "받은 데이터는 그대로 남습니다. 다시 시도하려면 실행을 누르세요.")
    assert page.text_content("#status") == "이벤트 3개를 받은 뒤 멈췄습니다."
    choose_language(page, "en")
    assert page.text_content("#message .message-text") == (
        "The stream ended after 3 events without finishing the run; what arrived is kept. "
        "Press Run to try again.")
    assert page.text_content("#status") == "Stopped after 3 events."


def test_url_problems_are_said_in_korean(page, live_server):
    page.goto(url(live_server.url, "ko", models="lstm,transformer", input="noise", seq_len="5",
                  hidden_size="2"))
    wait_rendered(page)
    assert page.is_visible("#url-note")  # a note of its own: the autorun does not clear it
    text = page.text_content("#url-note .message-text")
    assert text == ("URL의 일부를 이해하지 못했습니다: URL에 알 수 없는 모델 “transformer”; "
                    "input=“noise”는 gaussian, sine, impulse, adding 중 하나가 아닙니다.")
    choose_language(page, "en")
    assert page.text_content("#url-note .message-text") == (
        "Some of the URL was not understood: unknown model “transformer” in the URL; "
        "input=“noise” is not one of gaussian, sine, impulse, adding.")


# Elements of the tab whose content is wider than their box (outside the Plotly charts, and
# but for the text alternatives for screen readers, which are 1-px boxes by design).
SPILLED = r"""
() => [...document.querySelectorAll('#panel-explore *')]
  .filter((el) => el.offsetParent !== null && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1
                  && !el.closest('.js-plotly-plot, #learn, .visually-hidden'))
  .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${[...el.classList].join('.')}`)
"""


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_korean_fits(context, live_server, artifacts, width, height):
    """Korean words neither widen the page nor make anything spill that English does not."""
    spilled, widths = {}, {}
    for lang in ("en", "ko"):
        page, rec = offline_page(context, width=width, height=height)
        try:
            models = "rnn-sigmoid,rnn-tanh,rnn-relu,lstm,gru"
            page.goto(url(live_server.url, lang, **{**STATE, "models": models}))
            wait_rendered(page)
            spilled[lang] = set(page.evaluate(SPILLED))
            widths[lang] = page.evaluate("document.scrollingElement.scrollWidth")
            if lang == "ko":
                page.screenshot(path=artifacts / f"explore-ko-{width}x{height}.png")
                page.screenshot(path=artifacts / f"explore-ko-{width}x{height}-full.png", full_page=True)
        finally:
            page.close()
        assert not rec.problems()
    assert widths["ko"] <= max(width, widths["en"])
    assert spilled["ko"] <= spilled["en"], spilled["ko"] - spilled["en"]
