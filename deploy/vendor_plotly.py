"""Make static/vendor/plotly-cartesian-<version>.min.js from npm's plotly.js cartesian bundle.

    npm pack plotly.js-cartesian-dist-min@4.1.1 && tar xzf plotly.js-cartesian-dist-min-4.1.1.tgz
    python deploy/vendor_plotly.py package/plotly-cartesian.min.js 4.1.1

The page must work offline and name no address on the internet, so the bundle's few internet
addresses are taken out, each where it stands (the script fails if one is not found as
expected): the two configuration defaults that would point at Plotly's servers — the Chart
Studio server (`plotlyServerURL`, only for an "edit in Chart Studio" button the page never
shows) and the map outlines (`topojsonURL`, for geo traces, which this bundle does not have) —
become empty or local, the logo's link (the page sets `displaylogo: false`) goes nowhere, and
the addresses in error messages, attribute descriptions and licence comments lose their
`https://` (the text stays). The XML namespace names (http://www.w3.org/…) are identifiers,
not addresses, and stay. Nothing else changes.
"""

import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "static" / "vendor"
# (what, replacement, how many times it must occur)
EXACT = [
    ('plotlyServerURL:{valType:"string",dflt:"https://cloud.plotly.com/newchart"}',
     'plotlyServerURL:{valType:"string",dflt:""}', 1),
    ('topojsonURL:{valType:"string",noBlank:!0,dflt:"https://cdn.plot.ly/un/"}',
     'topojsonURL:{valType:"string",noBlank:!0,dflt:"topojson/"}', 1),
    ('r.href="https://plotly.com/"', 'r.href="#"', 1),
]
NAMESPACES = re.compile(r"http://www\.w3\.org/")
ADDRESS = re.compile(r"https?://(?!www\.w3\.org/)")


def offline(text: str) -> str:
    for old, new, count in EXACT:
        found = text.count(old)
        if found != count:
            raise SystemExit(f"expected {count} × {old!r}, found {found}: check the bundle's version")
        text = text.replace(old, new)
    return ADDRESS.sub("", text)


def main(source: str, version: str) -> None:
    text = offline(Path(source).read_text(encoding="utf-8"))
    assert not ADDRESS.search(text) and NAMESPACES.search(text)
    target = OUT / f"plotly-cartesian-{version}.min.js"
    target.write_text(text, encoding="utf-8")
    print(f"{target}: {len(text.encode()):,} bytes")


if __name__ == "__main__":
    main(*sys.argv[1:3])
