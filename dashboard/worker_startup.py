"""What a worker does before taking work: repair what a crash may have left behind."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.utils import timezone

from dashboard.jobs.reaper import reap_interrupted
from dashboard.models import Activity
from dashboard.tasks import fail_abandoned_scans

__all__ = ["run_startup_checks"]

logger = logging.getLogger("envdash.worker")


def run_startup_checks() -> None:
    """Tasks and jobs a dead worker left RUNNING: mark them, end their processes, and
    restore any environment a recreate left half-swapped.

    Each step that fails is logged and shown on the overview, and the worker starts anyway:
    a worker that dies at every start leaves every scan and job queued with no error shown.
    """
    abandoned = _survive("marking abandoned scans", fail_abandoned_scans)
    if abandoned:
        logger.warning("marked %d abandoned scan task(s) as failed", abandoned)
    interrupted = _survive("reaping interrupted jobs", lambda: reap_interrupted(recover=True))
    if interrupted:
        logger.warning("marked %d job(s) of a dead worker as interrupted", interrupted)


def _survive(what: str, step: Callable[[], int]) -> int:
    try:
        return step()
    except Exception as exc:
        logger.exception("worker start: %s failed; starting anyway", what)
        message = f"worker start: {what} failed: {type(exc).__name__}: {exc}"
        try:
            Activity.objects.create(at=timezone.now(), kind="recovery", message=message[:1024])
        except Exception:  # the database itself may be what failed
            logger.exception("worker start: could not record the failure")
        return 0
