"""Where the templates and static files are: never relative to the working directory.

In order: $GFL_ROOT; the package's own directory — in a checkout the repository's root, where
`app/` sits beside `templates/` and `static/`; in an installed wheel `gradient_flow_lab/`, which
holds them as package data (see pyproject.toml).
"""

import os
from pathlib import Path


def find_root() -> Path:
    candidates = [Path(__file__).resolve().parent.parent]
    if os.environ.get("GFL_ROOT"):
        candidates.insert(0, Path(os.environ["GFL_ROOT"]))
    for root in candidates:
        if (root / "templates" / "index.html").is_file():
            return root
    raise RuntimeError(f"templates/index.html not found in any of {[str(c) for c in candidates]}")


ROOT = find_root()
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
