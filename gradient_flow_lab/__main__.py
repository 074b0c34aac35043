"""`python -m gradient_flow_lab`: the command line (`run`, `serve`; see gradient_flow_lab.app.cli)."""

import sys

from gradient_flow_lab.app.cli import main

sys.exit(main())
