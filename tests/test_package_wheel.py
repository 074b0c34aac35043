"""The distribution as pip builds it: a wheel whose only top-level package is gradient_flow_lab
(no `app` or `core` beside it), holding every page file as package data; once installed
(unpacked, as pip lays a pure wheel out), it computes, draws and serves the page from its own
files."""

import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "app", "core", "static", "templates", "gradient_flow_lab")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of a clean copy of the sources (no build/ left over from another build)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, src / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
    )
    (whl,) = out.glob("gradient_flow_lab-*.whl")
    return whl


def test_the_wheel_holds_one_package_and_every_page_file(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {
        "gradient_flow_lab",
        wheel.name.split("-py3")[0] + ".dist-info",
    }
    page_files = [p for folder in ("static", "templates") for p in (ROOT / folder).rglob("*") if p.is_file()]
    missing = [
        str(p.relative_to(ROOT))
        for p in page_files
        if f"gradient_flow_lab/{p.relative_to(ROOT)}" not in names
    ]
    assert missing == []
    assert "gradient_flow_lab/py.typed" in names and "gradient_flow_lab/core/run.py" in names
    assert not [n for n in names if "/tests/" in n or n.endswith(".pyc")]


def test_the_installed_package_computes_draws_and_serves_its_own_files(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)  # what pip install --target lays out for a pure wheel
    assert sorted(p.name for p in site.iterdir() if not p.name.endswith(".dist-info")) == [
        "gradient_flow_lab"
    ]
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(site)!r})
        import gradient_flow_lab as gfl
        from gradient_flow_lab.app.paths import STATIC
        from gradient_flow_lab.app.main import create_app
        from fastapi.testclient import TestClient
        assert gfl.__file__.startswith({str(site)!r}), gfl.__file__
        assert str(STATIC).startswith({str(site)!r}), STATIC
        r = gfl.run(seq_len=8)
        assert len(r.figure("gradient_flow").data) > 3
        page = TestClient(create_app()).get("/")
        assert page.status_code == 200 and 'id="gfl-catalogue"' in page.text, page.status_code
        assert TestClient(create_app()).get("/static/js/theme.js").status_code == 200
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip().endswith("ok"), out.stderr[-2000:]
