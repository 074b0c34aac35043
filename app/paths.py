"""Where the templates and static files are: never relative to the working directory.

In order: $GFL_ROOT; the checkout this file sits in; <sys.prefix>/share/gradient-flow-lab,
where `pip install .` puts them (see pyproject's data-files).
"""

import os
import sys
from pathlib import Path


def find_root() -> Path:
    candidates = [Path(__file__).resolve().parent.parent, Path(sys.prefix) / "share" / "gradient-flow-lab"]
    if os.environ.get("GFL_ROOT"):
        candidates.insert(0, Path(os.environ["GFL_ROOT"]))
    for root in candidates:
        if (root / "templates" / "index.html").is_file():
            return root
    raise RuntimeError(f"templates/index.html not found in any of {[str(c) for c in candidates]}")


ROOT = find_root()
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
