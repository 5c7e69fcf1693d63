#!/usr/bin/env python3
"""envdash's command line: Django's manage.py, made to set up its own environment first.

On a fresh machine with only Python 3.11+, `python3 manage.py serve` and
`python3 manage.py test` create `.venv`, install the pinned dependencies and re-run
themselves inside it (see dashboard/bootstrap.py).
"""

from __future__ import annotations

import sys

from dashboard import bootstrap

if __name__ == "__main__":
    bootstrap.ensure_environment(sys.argv)
    from dashboard.cli import main

    main(sys.argv)
