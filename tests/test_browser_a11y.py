"""Accessibility of the page in Debian's Chromium: axe-core (WCAG 2.1 A and AA rule sets, run
inside the page by tests/axe_check.py) finds no serious or critical violation on any tab, lesson,
language, theme or viewport, before and after a run and a training; every chart has a name, a
text alternative made of the page's own sentences and a table of its plotted numbers; the page
is keyboard-complete with a visible focus ring; the shortcuts keep out of text fields; progress is
announced once, not at every frame; prefers-reduced-motion jumps to the end of a run.

One page per viewport, switched in place between languages, themes and tabs; tiny runs
(T = 20) and a short training. Screenshots go to tests/artifacts/a11y-*.png."""

import re
from urllib.parse import urlencode

import pytest
from axe_check import report, run_axe, serious
from browser_helpers import offline_page, set_language, set_scheme, wait_for, wait_rendered
from conftest import need

pytestmark = pytest.mark.browser

SWEEP = "/?" + urlencode({"tab": "sweep", "seq_len": 12, "hidden_size": 8, "sweep_x": "init.sigma_max",
                          "sweep_x_values": "0.5:2:2", "sweep_models": "rnn-tanh", "sweep_seeds": "0",
                          "sweep_metric": "decay_rate"})
SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
RUN = "/?" + urlencode({"models": "rnn-sigmoid,rnn-tanh,lstm,gru", "seq_len": 20, "hidden_size": 8,
                        "speed": "max"})
TRAINING = "/?" + urlencode({"tab": "train", "train_models": "rnn-tanh,gru", "train_task": "adding",
                             "train_seq_len": 8, "train_hidden_size": 8, "train_steps": 40,
                             "train_eval_every": 20, "train_eval_size": 50})


@pytest.fixture(scope="module", autouse=True)
def axe_engine():
    try:
        import axe_playwright_python  # noqa: F401
    except ImportError as e:
        need("axe-playwright-python", f"{e}; install the test extra: pip install -e '.[test]'")


class Session:
    """One page of its own context (viewport, motion), the problems it recorded, and the axe
    findings gathered over its states."""

    def __init__(self, browser, width, height, **options):
        self.context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True,
                                           **options)
        self.page, self.rec = offline_page(self.context, width=width, height=height)
        self.found = []

    def audit(self, where: str, context: str | None = None):
        found = serious(run_axe(self.page, context))
        if found:
            self.found.append(report(found, where))

    def combos(self, what: str, combos, context: str | None = None):
        for lang, scheme in combos:
            set_language(self.page, lang)
            set_scheme(self.page, scheme)
            self.audit(f"{what} ({lang}, {scheme})", context)

    def close(self):
        problems = self.rec.problems()
        self.context.close()
        assert not self.found, "\n\n".join(self.found)
        assert not problems, problems


def train_done(page):
    page.click("#train-start")
    wait_for(page, "document.documentElement.dataset.train === 'done'", timeout=60_000)
    wait_for(page, "document.documentElement.dataset.trainSettled === 'true'")


@pytest.fixture(scope="module")
def desk(browser):
    s = Session(browser, 1280, 800)
    yield s
    s.close()


def close_dialog(page, dialog_id):
    page.locator(f"#{dialog_id} button[value=close]").click()
    wait_for(page, "(id) => !document.getElementById(id).open", dialog_id)


# axe-core takes seconds on the whole page (its colour-contrast rule most of them): the whole page
# is audited where it changes as a whole (before and after a run), and the part that a state
# adds — a dialog, a tab, a lesson's banner — on its own in the other states.
#
# The matrix of issue 18 (state × language × colour scheme × viewport) is sampled pairwise: each
# state is reached once and audited in two rows that differ in all three (switched in place: the
# language, the emulated scheme and the viewport's size), the rows taken in turn from PAIRS, so
# that every state is seen in both languages, both schemes and both sizes, and every four states
# cover all eight combinations. benchmarks/axe_audit.py --full audits the whole product.

DESK, PHONE = (1280, 800), (390, 844)
ROWS = [(lang, scheme, size) for size in (DESK, PHONE) for lang in ("en", "ko")
        for scheme in ("light", "dark")]
PAIRS = [
    (("en", "light", DESK), ("ko", "dark", PHONE)),
    (("en", "dark", DESK), ("ko", "light", PHONE)),
    (("ko", "light", DESK), ("en", "dark", PHONE)),
    (("ko", "dark", DESK), ("en", "light", PHONE)),
]


def audit_pair(s: Session, k: int, what: str, context: str | None = None):
    """State number `k` audited in its two rows of PAIRS."""
    for lang, scheme, (width, height) in PAIRS[k % len(PAIRS)]:
        if s.page.viewport_size != {"width": width, "height": height}:
            s.page.set_viewport_size({"width": width, "height": height})
            s.page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
            s.page.wait_for_timeout(150)  # the charts follow the width (a debounced resize)
        set_language(s.page, lang)
        set_scheme(s.page, scheme)
        s.audit(f"{what} ({lang}, {scheme}, {width}×{height})", context)


def test_no_serious_violation_on_any_tab_in_both_languages_themes_and_sizes(browser, live_server, artifacts):
    s = Session(browser, *DESK)
    page = s.page

    def fresh(path):
        page.set_viewport_size(dict(zip(("width", "height"), DESK, strict=True)))
        page.goto(live_server.url + path)

    fresh("/")
    audit_pair(s, 0, "Explore before a run")
    fresh(RUN)
    wait_rendered(page)
    wait_for(page, "document.documentElement.dataset.explained === 'true'")
    page.wait_for_timeout(200)  # the charts' text alternatives (a11y.js)
    audit_pair(s, 1, "Explore after a run")
    for toggle in page.locator("#chart-flow + .chart-a11y .table-toggle, #chart-hidden .table-toggle").all():
        toggle.click()
    audit_pair(s, 2, "Explore after a run, its tables open", "#panel-explore")
    page.screenshot(path=artifacts / "a11y-table.png")
    fresh("/")
    page.locator("#help-open").click()
    audit_pair(s, 3, "the shortcuts dialog", "#help")
    close_dialog(page, "help")
    page.locator("#lessons-open").click()
    audit_pair(s, 4, "the lessons dialog", "#lessons")
    close_dialog(page, "lessons")
    tabs = page.eval_on_selector_all('.tabs [role="tab"]', "els => els.map((e) => e.id)")
    assert tabs == ["tab-explore", "tab-train", "tab-sweep"]
    for k, tab in enumerate(tabs[1:], start=5):
        page.set_viewport_size(dict(zip(("width", "height"), DESK, strict=True)))
        page.click(f"#{tab}")
        audit_pair(s, k, f"{tab} before it runs", f"#{page.get_attribute(f'#{tab}', 'aria-controls')}")
    fresh(TRAINING)
    train_done(page)
    audit_pair(s, 7, "Train after a training", "#panel-train")
    page.screenshot(path=artifacts / "a11y-train.png")
    fresh(SWEEP)
    page.click("#sweep-start")
    wait_for(page, "document.documentElement.dataset.sweep === 'done'", timeout=90_000)
    audit_pair(s, 8, "Sweep after a sweep", "#panel-sweep")
    page.screenshot(path=artifacts / "a11y-sweep.png")
    s.close()


def test_no_serious_violation_on_a_phone(browser, live_server, artifacts):
    s = Session(browser, 390, 844, is_mobile=True, has_touch=True)
    page = s.page
    set_scheme(page, "dark")
    page.goto(live_server.url + RUN.replace("lang=en", "") + "&lang=ko")
    wait_rendered(page)
    page.wait_for_timeout(200)
    s.audit("phone: Explore after a run (ko, dark)")
    page.screenshot(path=artifacts / "a11y-phone-ko-dark.png")
    s.combos("phone: the settings after a run", [("en", "light")], context="#panel-explore > .panel")
    page.screenshot(path=artifacts / "a11y-phone-en-light.png", full_page=True)
    page.goto(live_server.url + TRAINING)
    train_done(page)
    s.combos("phone: Train after a training", [("en", "light"), ("ko", "dark")], context="#panel-train")
    s.close()


def test_no_serious_violation_in_any_lesson(browser, live_server, artifacts):
    """Every lesson the Lessons dialog lists, opened from its link: its banner in one of the
    eight rows (language × scheme × size) taken in turn, so that the lessons cover all eight
    (the banner is one component; the tabs' states above are audited in pairs); the first
    lesson's whole page."""
    s = Session(browser, *DESK)
    page = s.page
    page.goto(live_server.url + "/")
    links = page.evaluate("""() => [...document.querySelectorAll('#lesson-list .lesson-item a')]
        .map((a) => a.getAttribute('href'))""")
    assert len(links) >= 7
    for k, href in enumerate(links):
        lang, scheme, size = ROWS[k % len(ROWS)]
        page.set_viewport_size({"width": size[0], "height": size[1]})
        set_scheme(page, scheme)
        there = re.sub(r"lang=\w+", f"lang={lang}", href) if "lang=" in href else f"{href}&lang={lang}"
        page.goto(live_server.url + there)
        wait_for(page, "!document.getElementById('lesson-banner').hidden")
        wait_for(page, "(lang) => document.documentElement.lang === lang", lang)
        if k == 0:
            wait_rendered(page)
            s.audit(f"lesson {href} ({lang}, {scheme}, {size[0]}×{size[1]})")
            page.screenshot(path=artifacts / "a11y-lesson.png")
        else:
            s.audit(f"lesson {href}: its banner ({lang}, {scheme}, {size[0]}×{size[1]})", "#lesson-banner")
    for lang, scheme, size in ROWS[len(links):]:  # rows no lesson took: the last one's banner, switched
        page.set_viewport_size({"width": size[0], "height": size[1]})
        set_language(page, lang)
        set_scheme(page, scheme)
        s.audit(f"lesson {links[-1]}: its banner ({lang}, {scheme}, {size[0]}×{size[1]})", "#lesson-banner")
    s.close()


# ------------------------------------------------------------------ keyboard


FOCUSED = """() => {
  const el = document.activeElement;
  // where the ring is drawn: the element, or the visible box of a hidden radio or file input
  const ring = el.matches('.segmented input, input.visually-hidden') ? el.nextElementSibling : el;
  const style = getComputedStyle(ring);
  return { key: el.id || `${el.tagName.toLowerCase()}.${el.className?.baseVal ?? el.className}:${
             (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 30)}`,
           id: el.id, ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
}"""

# every control a keyboard must reach on the Explore tab (visible, enabled, not a radio that is not
# its group's checked one)
EXPECTED = """() => [...document.querySelectorAll(
    'a[href], button, input, select, summary, [tabindex="0"]')]
  .filter((el) => !el.disabled && el.tabIndex >= 0 && !el.closest('[hidden], dialog:not([open]), [inert]')
    && (el.checkVisibility() || el.matches('input.visually-hidden'))
    && !(el.type === 'radio' && !el.checked)
    && !el.closest('.js-plotly-plot'))
  .map((el) => el.id || `${el.tagName.toLowerCase()}.${el.className?.baseVal ?? el.className}:${
       (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 30)}`)"""


def test_every_control_is_reached_by_tab_in_order_with_a_visible_ring(desk, live_server, artifacts):
    page = desk.page
    page.goto(live_server.url + "/?" + urlencode({"models": "rnn-tanh", "seq_len": 20, "speed": "max"}))
    wait_rendered(page)
    wait_for(page, "document.documentElement.dataset.explained === 'true'")
    page.wait_for_timeout(200)  # the charts' text alternatives (a11y.js, after the run)
    expected = page.evaluate(EXPECTED)
    assert len(expected) > 40
    page.reload()  # the keyboard starts at the top of the page
    wait_rendered(page)
    order, no_ring = [], []
    for _ in range(len(expected) + 120):
        page.keyboard.press("Tab")
        f = page.evaluate(FOCUSED)
        if order and f["key"] == order[0]:
            break  # round the page once
        if f["key"].startswith("body."):
            continue  # between the end of the page and its start
        order.append(f["key"])
        if not f["ring"]:
            no_ring.append(f["key"])
        if f["id"] == "run":
            page.screenshot(path=artifacts / "a11y-focus-light.png")
    assert order[0].startswith("a.skip-link")
    missing = [key for key in expected if key not in order]
    assert missing == []
    assert no_ring == [], no_ring
    # a sensible order: the top bar, the transport, the settings, then the charts
    first = [order.index(key) for key in ("tab-explore", "run", "seq_len", "export-csv")]
    assert first == sorted(first)
    assert any(k.startswith("button.modebar-btn") for k in order)  # the charts' toolbars
    assert any(k.startswith("button.link table-toggle") for k in order)
    # the ring in the dark
    set_scheme(page, "dark")
    page.focus("#run")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["ring"]
    page.screenshot(path=artifacts / "a11y-focus-dark.png")
    set_scheme(page, "light")


def test_tabs_explainer_slider_exports_and_tables_by_keyboard(desk, live_server, artifacts):
    page = desk.page
    page.goto(live_server.url + RUN)
    wait_rendered(page)
    wait_for(page, "document.documentElement.dataset.explained === 'true'")
    page.wait_for_timeout(200)
    # tabs: roles, arrow keys, Home and End
    tabs = page.eval_on_selector_all('.tabs [role="tab"]', "els => els.map((e) => e.id)")
    assert page.get_attribute(".tabs", "role") == "tablist"
    for tab in tabs:
        assert page.get_attribute(f"#{page.get_attribute('#' + tab, 'aria-controls')}", "role") == "tabpanel"
    page.focus("#tab-explore")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == tabs[1]
    assert page.get_attribute(f"#{tabs[1]}", "aria-selected") == "true" and page.is_visible("#panel-train")
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.id") == tabs[-1]
    page.keyboard.press("Home")
    assert page.evaluate("document.activeElement.id") == "tab-explore" and page.is_visible("#panel-explore")
    # the explainer's slider
    before = page.input_value("#bound-sigma")
    page.focus("#bound-sigma")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    after = page.input_value("#bound-sigma")
    step = float(page.get_attribute("#bound-sigma", "step"))
    assert float(after) == pytest.approx(float(before) + 2 * step)
    assert page.text_content("#bound-sigma-value") == f"{float(after):.2f}"
    # an export
    page.focus("#export-csv")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename.endswith(".csv")
    # the flow chart: a figure with a name, its text alternative is the headline, its table the
    # plotted numbers
    flow = page.locator("#chart-flow")
    assert flow.get_attribute("role") == "figure" and flow.get_attribute("aria-label")
    alt = page.evaluate("document.getElementById(document.getElementById('chart-flow')"
                        ".getAttribute('aria-describedby')).textContent")
    headline = page.text_content("#headline")
    assert "After 19 steps back" in headline
    assert alt == f"{flow.get_attribute('aria-label')}: {headline}"
    toggle = page.locator("#chart-flow + .chart-a11y .table-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true" and toggle.text_content() == "Hide the table"
    table = page.evaluate("""() => {
      const holder = document.querySelector('#chart-flow + .chart-a11y .chart-table');
      const rows = [...holder.querySelectorAll('tbody tr')]
        .map((tr) => [...tr.children].map((c) => c.textContent));
      const head = [...holder.querySelectorAll('thead th')].map((c) => c.textContent);
      const lines = document.getElementById('chart-flow').data.filter((d) => d.meta?.kind === 'line')
        .map((d) => ({ name: d.name, x: Array.from(d.x), y: Array.from(d.y) }));
      return { head, rows, lines, focusable: holder.tabIndex === 0,
               label: holder.getAttribute('aria-label') };
    }""")
    assert table["focusable"] and table["label"]
    assert len(table["rows"]) == 20 and [r[0] for r in table["rows"]] == [str(t) for t in range(1, 21)]
    rows = {row[0]: row for row in table["rows"]}
    for line in table["lines"]:
        col = table["head"].index(line["name"])
        for x, y in zip(line["x"], line["y"], strict=True):
            shown = rows[str(x)][col].replace(" × 10", "e").translate(SUPERSCRIPTS)
            assert float(shown) == pytest.approx(y, rel=1e-3)
    page.locator("#chart-flow + .chart-a11y").screenshot(path=artifacts / "a11y-table.png")
    # every chart drawn has a name and a text alternative saying something of this run
    charts = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
      .filter((el) => el.checkVisibility())
      .map((el) => ({ name: el.getAttribute('aria-label'), role: el.getAttribute('role'),
        alt: document.getElementById(el.getAttribute('aria-describedby') || '')?.textContent || '' }))""")
    assert len(charts) >= 10
    for c in charts:
        assert c["role"] == "figure" and c["name"], c
        assert c["alt"].startswith(c["name"] + ": ") and len(c["alt"]) > len(c["name"]) + 20, c


def test_shortcuts_are_listed_and_keep_out_of_text_fields(desk, live_server):
    page = desk.page
    page.goto(live_server.url + "/")
    run_state = "document.documentElement.dataset.run"
    view = "document.querySelector('input[name=\"view\"]:checked').value"
    # in a text field, a select or the explainer's slider the keys are the control's own
    for selector in ("#seq_len", "#seed", "#speed", "#lang"):
        page.focus(selector)
        for key in ("r", "v", "k"):
            page.keyboard.press(key)
        assert page.evaluate(run_state) == "idle", selector
        assert page.evaluate(view) == "grad", selector
        assert not page.evaluate("document.getElementById('help').open")
    page.fill("#seq_len", "20")
    # outside them they act
    page.locator("#views").focus()
    page.keyboard.press("v")
    assert page.evaluate(view) == "jac"
    page.keyboard.press("v")
    page.keyboard.press("?")
    assert page.evaluate("document.getElementById('help').open")
    rows = page.eval_on_selector_all("#help .shortcuts tr", "rows => rows.map((r) => r.textContent)")
    assert len(rows) >= 8 and any("Enter" in r for r in rows) and any("Space" in r for r in rows)
    assert "while you type in a field" in page.text_content("#help")
    page.keyboard.press("Escape")
    assert not page.evaluate("document.getElementById('help').open")
    # the help is also a button of the top bar
    page.focus("#help-open")
    page.keyboard.press("Enter")
    assert page.evaluate("document.getElementById('help').open")
    page.keyboard.press("Escape")


def test_progress_is_announced_once_at_start_and_end(desk, live_server):
    page = desk.page
    page.goto(live_server.url + "/?" + urlencode({"models": "rnn-tanh,lstm", "seq_len": 20}))
    wait_rendered(page)
    page.wait_for_timeout(300)  # its own announcement
    page.evaluate("""() => {
      window.__said = [];
      new MutationObserver(() => {
        const text = document.getElementById('announcer').textContent;
        if (text) window.__said.push(text);
      }).observe(document.getElementById('announcer'),
                 { childList: true, characterData: true, subtree: true });
    }""")
    page.click("#run")
    wait_rendered(page)
    wait_for(page, "window.__said.length >= 2")
    page.wait_for_timeout(300)
    said = page.evaluate("window.__said")
    status, headline = page.text_content("#status"), page.text_content("#headline")
    assert said == ["Run started.", f"{status} {headline}"]
    # the lines that change at every frame are not live regions
    for selector in ("#status", "#position", "#train-status", "#train-progress-text", "#sweep-status",
                     "#sweep-progress-text"):
        live = page.evaluate(f"""() => {{ const el = document.querySelector('{selector}');
            return [el.getAttribute('aria-live'), el.getAttribute('role')]; }}""")
        assert live[0] in (None, "off") and live[1] is None, (selector, live)
    # a failure is said too: a run the server refuses
    page.fill("#seq_len", "0")
    page.evaluate("window.__said = []")
    page.click("#run")
    wait_for(page, "window.__said.length >= 1")
    page.wait_for_timeout(300)
    message = page.text_content("#message .message-text")
    said = page.evaluate("window.__said")
    assert said[-1] == f"The run stopped: {message}" and said[:-1] in ([], ["Run started."])
    # the refused request (422) is logged by the browser
    desk.rec.console_errors[:] = [m for m in desk.rec.console_errors if "status of 422" not in m]


LESSON = "crossing"  # its "Show me" goes down to explainer 3
# click "Show me", read the scroll position at once and once it has settled
SHOW_ME = """async () => {
  const button = [...document.querySelectorAll('#lesson-banner button')]
    .find((b) => b.textContent === 'Show me');
  button.click();
  const first = window.scrollY;
  await new Promise((r) => setTimeout(r, 1200));
  return [first, window.scrollY];
}"""


def test_reduced_motion_jumps_to_the_end_of_a_run(browser, live_server, desk):
    slow = "/?" + urlencode({"models": "rnn-tanh", "seq_len": 60, "speed": 1})
    # with motion: one step a second, so the run is far from its end after a second
    desk.page.goto(live_server.url + slow)
    wait_for(desk.page, "document.documentElement.dataset.run === 'done'")
    desk.page.wait_for_timeout(1000)
    assert int(desk.page.get_attribute("#position", "data-p")) < 10
    assert desk.page.evaluate("getComputedStyle(document.querySelector('button')).transitionDuration") != "0s"
    # with less motion: its end at once, and no transitions
    s = Session(browser, 1280, 800, reduced_motion="reduce")
    s.page.goto(live_server.url + slow)
    wait_rendered(s.page, timeout=20_000)
    assert s.page.get_attribute("#position", "data-p") == "120"
    durations = s.page.evaluate("""() => ['button', '.progress-fill', '.settings > summary']
      .map((sel) => getComputedStyle(document.querySelector(sel), sel.includes('summary') ? '::before' : null)
        .transitionDuration)""")
    assert [set(d.split(", ")) for d in durations] == [{"0s"}] * 3
    # a lesson's "Show me": a jump with less motion (where the page is at once), a glide without
    href = s.page.evaluate("""(id) => [...document.querySelectorAll('#lesson-list .lesson-item a')]
        .map((a) => a.getAttribute('href')).find((h) => h.includes(`lesson=${id}`))""", LESSON)
    for session in (s, desk):
        session.page.set_viewport_size({"width": 1280, "height": 800})
        session.page.goto(live_server.url + href)
        wait_for(session.page, "!document.getElementById('lesson-banner').hidden")
        wait_rendered(session.page, timeout=20_000)
        session.page.evaluate("window.scrollTo(0, 0)")
    jumps = [session.page.evaluate(SHOW_ME) for session in (s, desk)]
    (at_once, settled), (glide_start, glide_end) = jumps
    assert at_once == settled > 100, jumps
    assert glide_start < glide_end - 50 and abs(glide_end - settled) < 2, jumps
    s.close()
