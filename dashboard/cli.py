"""The `envdash` console script: the same commands as `manage.py`, without the bootstrap."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(argv if argv is not None else sys.argv)
    except ImproperlyConfigured as exc:
        # A bad ENVDASH_* value: its name and why, in one line (not a traceback).
        sys.exit(f"envdash: {exc}")


if __name__ == "__main__":
    main()
