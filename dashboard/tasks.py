"""Background work of the local dashboard: scans. Jobs live in dashboard.jobs.

Scans go to this machine's queue (see `machine_queue`) so that, with several workers
sharing one PostgreSQL database, a scan runs on the machine whose disk it describes.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from dashboard.live import bump
from dashboard.models import Scan
from dashboard.queues import machine_queue
from dashboard.scanning import scan_environment, scan_tree
from dashboard.signals import scan_finished

__all__ = ["enqueue_scan", "fail_abandoned_scans", "scan", "scan_pending"]


@task()
def scan(path: str = "", force: bool = False) -> dict[str, object]:
    """Scan the whole tree (or one environment); after a full scan, the sub-apps' steps
    (team push, interpreter refresh) run through `scan_finished`."""
    result = scan_environment(path, force=True) if path else scan_tree(force=force)
    if not path and result.state == result.State.DONE:
        scan_finished.send(sender=Scan, scan=result)
    return {"scan": result.pk, "state": result.state, "changed": result.changed}


def enqueue_scan(*, path: str = "", force: bool = False) -> None:
    scan.using(queue_name=machine_queue()).enqueue(path=path, force=force)
    bump()  # open pages show "Scanning…"


#: A scan that has been RUNNING this long belongs to a worker that died.
SCAN_DEADLINE = timedelta(minutes=30)


def scan_pending() -> bool:
    """True while a scan is queued (its task waits) or running (its Scan row says so).

    Running is read from the Scan row, not the task: the task ends a moment after the
    row is stored, and the page re-fetched for that row must not still say "Scanning…".
    """
    recent = timezone.now() - SCAN_DEADLINE
    queued = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=scan.module_path
    ).exists()
    return queued or Scan.objects.filter(state=Scan.State.RUNNING, started_at__gte=recent).exists()


def fail_abandoned_scans() -> int:
    """Scans left RUNNING by a killed worker never finish; record them as failed."""
    return DBTaskResult.objects.filter(
        task_path=scan.module_path,
        status=TaskResultStatus.RUNNING,
        started_at__lt=timezone.now() - SCAN_DEADLINE,
    ).update(status=TaskResultStatus.FAILED, finished_at=timezone.now())
