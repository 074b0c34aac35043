"""The rough edges a class would hit (issue 13, "What the class would hit"), each reproduced in
Debian's Chromium through Playwright against a live server, and the screenshots of the fixed
page (tests/artifacts/issue13-edges-*.png) in English and Korean, light and dark, at 1280 × 800
and 390 × 844.

Every page is offline and ends by checking there was no failed request, console error or page
error (the `page` fixture), so a Plotly exception anywhere fails the test that provoked it.
"""

from urllib.parse import urlencode

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


def test_start_is_off_while_training_and_tab_switches_throw_nothing(page, live_server):
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.url.endswith("/api/train/stream") else None)
    page.goto(url(live_server.url, **{**SHORT_TRAINING, "train_models": "rnn-tanh,lstm,gru",
                                        "train_seq_len": "20", "train_steps": "5000", "train_eval_every": "20"}))
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
