"""Where the templates and static files are, anchored on this file, not the working directory."""

import os
from pathlib import Path

ROOT = Path(os.environ.get("GFL_ROOT", Path(__file__).resolve().parent.parent))
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
