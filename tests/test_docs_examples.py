"""The numbers docs/api.md prints are the server's: each worked example whose output the
document shows is run against the app (TestClient) and its printed lines compared (issue 13:
the zig-zag example said 0.56 where the server answers 0.527)."""

import json
import re
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from gradient_flow_lab.app.main import app

API_MD = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def examples():
    """(url path with query, python program, the expected output lines) of every
    `curl -s '…' | python3 -c '…'` block followed by `# output` lines."""
    text = API_MD.read_text(encoding="utf-8")
    pattern = re.compile(
        r"curl -s 'http://127\.0\.0\.1:8000(?P<path>[^']+)' \| python3 -c '\n"
        r"(?P<code>.*?)'\n(?P<out>(?:# [^\n]*\n)+)",
        re.S,
    )
    found = pattern.finditer(text)
    return [(m["path"], m["code"], [line[2:] for line in m["out"].splitlines()]) for m in found]


def test_the_zig_zag_example_prints_what_the_server_answers():
    found = examples()
    zigzag = [e for e in found if e[0].startswith("/api/explain/zigzag")]
    assert len(zigzag) == 1
    for path, code, expected in zigzag:
        answer = TestClient(app).get(path)
        assert answer.status_code == 200
        printed = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(answer.json()),
            capture_output=True,
            text=True,
            check=True,
        )
        out = printed.stdout
        assert out.splitlines() == expected
