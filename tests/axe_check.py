"""axe-core (Deque's accessibility engine, the one behind Lighthouse's audit) run inside a page.

The engine's script comes from the Python package axe-playwright-python (test extra), which ships
axe.min.js. It is injected through the DevTools protocol (page.evaluate), which the page's
Content-Security-Policy does not govern, and run with the WCAG 2.1 A and AA rule sets.
Used by tests/test_browser_a11y.py and benchmarks/axe_audit.py.
"""

from collections import Counter
from functools import cache
from pathlib import Path

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SERIOUS = ("serious", "critical")


@cache
def axe_script() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def run_axe(page, context: str | None = None) -> list[dict]:
    """Every violation axe finds on the page as it is now (or under the CSS selector
    `context`), each {id, impact, help, nodes: [{target, html, summary}]}."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_script())
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    result = page.evaluate(
        """([context, options]) => axe.run(context ? document.querySelector(context) : document, options)
             .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html.slice(0, 160),
                                            summary: n.failureSummary, impact: n.impact })) })))""",
        [context, options],
    )
    return result


def serious(violations: list[dict]) -> list[dict]:
    """The serious and critical ones (per node: a rule's nodes can differ in impact)."""
    out = []
    for v in violations:
        nodes = [n for n in v["nodes"] if (n.get("impact") or v["impact"]) in SERIOUS]
        if nodes:
            out.append({**v, "nodes": nodes})
    return out


def count_by_rule(violations: list[dict]) -> Counter:
    return Counter({v["id"]: len(v["nodes"]) for v in violations})


def report(violations: list[dict], where: str = "", limit: int = 8) -> str:
    """Readable lines: rule, impact, help, then each node's target and what to fix."""
    total = sum(len(v["nodes"]) for v in violations)
    lines = [f"{total} serious/critical axe nodes{' in ' + where if where else ''}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])} node(s)")
        for n in v["nodes"][:limit]:
            summary = " ".join((n.get("summary") or "").split())
            lines.append(f"    {n['target']}: {summary[:300]}")
            lines.append(f"      {n['html']}")
    return "\n".join(lines)
