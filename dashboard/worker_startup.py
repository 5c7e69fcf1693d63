"""What a worker does before taking work: repair what a crash may have left behind."""

from __future__ import annotations

import logging

from dashboard.tasks import fail_abandoned_scans

__all__ = ["run_startup_checks"]

logger = logging.getLogger("envdash.worker")


def run_startup_checks() -> None:
    """Mark tasks that a dead worker left RUNNING as failed, so nothing waits on them."""
    abandoned = fail_abandoned_scans()
    if abandoned:
        logger.warning("marked %d abandoned scan task(s) as failed", abandoned)
