"""Queue names: each machine's scans and jobs go to a queue named after it, so that with
several workers sharing one PostgreSQL database the work runs where the disk is."""

from __future__ import annotations

import re

from django.conf import settings

__all__ = ["machine_queue"]


def machine_queue() -> str:
    """ "machine-" plus a sanitised host name (ENVDASH_MACHINE)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", str(settings.MACHINE_NAME))[:80]
    return f"machine-{cleaned or 'local'}"
