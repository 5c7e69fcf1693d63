"""This machine's snapshot, built straight from envcore over the configured scan roots."""

from __future__ import annotations

import getpass
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

import envcore
from envcore.discover import default_excludes, default_roots, discover
from envcore.snapshot import build_snapshot

__all__ = ["machine_snapshot"]

_HOST_CHARS = re.compile(r"[^A-Za-z0-9._-]")
_USER_CHARS = re.compile(r"[^A-Za-z0-9._@ -]")


def _clean(pattern: re.Pattern[str], value: str, limit: int, fallback: str) -> str:
    return pattern.sub("-", value).strip("._- ")[:limit] or fallback


def machine_snapshot(roots: list[Path] | None = None) -> dict[str, Any]:
    """Scan `roots` (default: ENVDASH_SCAN_ROOTS, else envcore's default roots) and describe it.

    Built from envcore rather than the local database so it works on a machine that never
    ran the dashboard (and is never older than the disk).
    """
    configured = roots or [Path(root) for root in settings.SCAN_ROOTS]
    walked = configured or default_roots()
    found = discover(walked, exclude=() if configured else default_excludes())
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = "unknown"
    return build_snapshot(
        found.environments,
        host=_clean(_HOST_CHARS, str(settings.MACHINE_NAME), 253, "localhost"),
        user=_clean(_USER_CHARS, user, 64, "unknown"),
        tool_version=envcore.__version__,
        now=timezone.now(),
        roots=walked,  # a requirements include leading out of the roots is not read
    )
