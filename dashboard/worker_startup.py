"""What a worker does before taking work: repair what a crash may have left behind."""

from __future__ import annotations

import logging

from dashboard.jobs.running import reap_interrupted
from dashboard.tasks import fail_abandoned_scans

__all__ = ["run_startup_checks"]

logger = logging.getLogger("envdash.worker")


def run_startup_checks() -> None:
    """Tasks and jobs a dead worker left RUNNING: mark them, end their processes, and
    restore any environment a recreate left half-swapped."""
    abandoned = fail_abandoned_scans()
    if abandoned:
        logger.warning("marked %d abandoned scan task(s) as failed", abandoned)
    interrupted = reap_interrupted(recover=True)
    if interrupted:
        logger.warning("marked %d job(s) of a dead worker as interrupted", interrupted)
