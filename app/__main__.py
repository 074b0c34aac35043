import sys

from gradient_flow_lab.app.cli import main

sys.exit(main())
