"""Entry point for `python -m envcore`."""

from __future__ import annotations

import sys

from envcore.cli import main

sys.exit(main())
