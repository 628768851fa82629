"""Entry point for `python -m stripe_sandbox`."""

import sys

from stripe_sandbox.cli import main

sys.exit(main())
