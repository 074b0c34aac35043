"""/docs renders the OpenAPI schema offline, under the same Content-Security-Policy as the page."""

import pytest
from browser_helpers import CHROMIUM_ARGS, offline_page, wait_for
from conftest import need

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None

pytestmark = pytest.mark.browser


def test_api_docs_render_offline_with_every_endpoint_and_the_examples(chromium_path, live_server, artifacts):
    if sync_playwright is None:
        need("Playwright", "install the test extra: pip install -e '.[test]'")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page, rec = offline_page(browser.new_context())
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
            assert not rec.problems(), rec.problems()
        finally:
            browser.close()
