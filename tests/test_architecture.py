"""The import rules of docs/architecture.md, held: everything imports the one package
`gradient_flow_lab` (never a top-level `app` or `core`), the core imports numpy and the standard
library only, a view imports no other view and nothing of the URL or the stream, the page's
math module imports nothing."""

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "static" / "js"
VIEW_MAY_IMPORT = {"common.js", "plot-style.js", "frame-budget.js", "format.js", "i18n.js", "theme.js",
                   "catalogue.js", "gradient-math.js", "sentences.js"}


def python_imports(path: Path) -> set[str]:
    """The modules `path` imports, by their top-level name — `gradient_flow_lab.x` by two names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module)
    top = {".".join(m.split(".")[:2]) if m.startswith("gradient_flow_lab.") else m.split(".")[0]
           for m in modules}
    return top


PYTHON = sorted(path for folder in ("app", "core", "tests", "benchmarks", "gradient_flow_lab")
                for path in (ROOT / folder).rglob("*.py")
                if path.relative_to(ROOT).parts[1:2] not in (("app",), ("core",)))


@pytest.mark.parametrize("path", PYTHON, ids=lambda p: str(p.relative_to(ROOT)))
def test_everything_imports_the_one_package_never_a_top_level_app_or_core(path):
    # In a checkout `app` and `core` would import as modules of their own beside
    # gradient_flow_lab.app and .core: two copies of every class and every setting.
    assert not {"app", "core"} & python_imports(path)


def js_imports(path: Path) -> set[str]:
    return {Path(m).name for m in re.findall(r"""^(?:import|export)\b[^;]*?from\s+["']([^"']+)["']""",
                                             path.read_text(encoding="utf-8"), re.M | re.S)}


@pytest.mark.parametrize("path", sorted((ROOT / "core").glob("*.py")), ids=lambda p: p.name)
def test_the_core_imports_numpy_and_the_standard_library_only(path):
    outside = python_imports(path) - {"numpy", "gradient_flow_lab.core"} - set(sys.stdlib_module_names)
    assert outside == set()
    assert not {"json", "pickle", "logging"} & python_imports(path)  # no I/O of its own


@pytest.mark.parametrize("path", sorted((JS / "views").glob("*.js")), ids=lambda p: p.name)
def test_a_view_knows_no_other_view_nor_the_url(path):
    assert js_imports(path) - VIEW_MAY_IMPORT == set()


def test_the_sentences_touch_no_dom():
    """static/js/sentences.js chooses what the page says from the API's JSON alone (its tests call
    it on answers that no view has seen)."""
    path = JS / "sentences.js"
    text = re.sub(r"//.*", "", path.read_text(encoding="utf-8"))
    assert js_imports(path) <= {"catalogue.js", "format.js", "gradient-math.js", "i18n.js"}
    assert not re.search(r"\b(document|window|Plotly)\b", text)


def test_the_page_math_imports_nothing_and_touches_no_dom():
    path = JS / "gradient-math.js"
    text = re.sub(r"//.*", "", path.read_text(encoding="utf-8"))
    assert js_imports(path) == set()
    assert not re.search(r"\b(document|window|Plotly)\b", text)

