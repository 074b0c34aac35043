"""/docs renders the OpenAPI schema offline, under the same Content-Security-Policy as the page."""

import pytest
from browser_helpers import wait_for

pytestmark = pytest.mark.browser


def test_api_docs_render_offline_with_every_endpoint_and_the_examples(page, live_server, artifacts):
    """The `page` fixture blocks every non-local request and fails on any console error."""
    page.goto(live_server.url + "/docs")
    wait_for(page, "document.querySelectorAll('.opblock').length >= 5", timeout=30_000)
    paths = page.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => e.textContent)")
    for path in ("/api/runs", "/api/runs/stream", "/api/train/stream", "/api/meta", "/healthz"):
        assert any(path == p.replace("\u200b", "") for p in paths), (path, paths)
    page.click("[id^='operations-runs-post_run'] .opblock-summary")
    wait_for(page, "document.querySelectorAll('.examples-select select').length > 0", timeout=10_000)
    options = page.eval_on_selector_all(".examples-select select option",
                                        "els => els.map(e => e.textContent)")
    assert len(options) >= 5, options  # an example for each input kind
    page.screenshot(path=artifacts / "docs-1280x800.png")
