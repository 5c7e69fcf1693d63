"""Running one claimed job: its kind's operation under a log stream, the outcome stored
as a state and a one-line summary, then the environment rescanned.

A worker told to stop (serve is gone) ends the job in hand through `interrupt_running`,
which kills its commands and marks it interrupted instead of leaving it to a reaper.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from dashboard.jobs.kinds import KINDS
from dashboard.jobs.models import Job
from dashboard.jobs.operations import Context
from dashboard.jobs.stream import LogStream
from dashboard.live import bump
from dashboard.models import Activity, Environment
from dashboard.scanning import scan_environment
from dashboard.updates import check_updates
from envcore import ops
from envcore.errors import CancelledError, EnvcoreError
from envcore.runner import CancelToken

__all__ = ["after_run", "interrupt_running", "interrupted_summary", "run_claimed"]

logger = logging.getLogger("envdash.jobs")


class _Current:
    """The job this worker process runs, so a worker told to stop (serve is gone) can end
    its commands and say why instead of leaving them to a reaper."""

    lock = threading.Lock()
    cancel: CancelToken | None = None
    cause = ""


def interrupt_running(cause: str) -> None:
    """End the job this process is running, if any: its commands are killed and it is marked
    interrupted because of `cause` (e.g. "envdash serve stopped")."""
    with _Current.lock:
        _Current.cause = cause
        if _Current.cancel is not None:
            _Current.cancel.cancel()


def interrupted_summary(job: Job, cause: str) -> str:
    """An honest one-line summary for a job whose run was cut short."""
    doing = f"{job.get_kind_display().lower()} {job.params.get('what', '')}".strip()
    spec = KINDS.get(job.kind)
    if spec is not None and spec.reads_only(job.params):
        effect = "nothing was changed (a preview only reads)"
    else:
        effect = "the environment may be partly changed"
    return f"interrupted: {cause} while {doing} ran; {effect}"[:1024]


def run_claimed(job: Job) -> str:
    """Run a job this worker claimed and store how it ended; returns its final state."""
    cancel = CancelToken()
    with _Current.lock:
        _Current.cancel = cancel
        if _Current.cause:
            cancel.cancel()
    try:
        return _run(job, cancel)
    finally:
        with _Current.lock:
            _Current.cancel = None


def _run(job: Job, cancel: CancelToken) -> str:
    job_id = job.pk
    state, summary = Job.State.FAILED, ""
    data: dict[str, Any] = {}
    with LogStream(job, cancel) as stream:
        log = ops.Log(
            on_line=stream.line,
            on_command=stream.command,
            on_start=stream.started,
            on_installer=stream.installer,
            cancel=cancel,
            timeout=float(settings.JOB_TIMEOUT),
        )
        try:
            summary, data = _dispatch(job, log)
            state = Job.State.SUCCEEDED
        except CancelledError as exc:
            state, summary = Job.State.CANCELLED, str(exc)
            if _Current.cause:
                state, summary = Job.State.INTERRUPTED, interrupted_summary(job, _Current.cause)
        except (EnvcoreError, OSError) as exc:
            summary = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        except Exception as exc:  # a bug must still end the job with a reason
            logger.exception("job %s crashed", job_id)
            summary = f"internal error: {type(exc).__name__}: {exc}"
        stream.line("info", f"{state}: {summary}")
    with transaction.atomic():
        Job.objects.filter(pk=job_id).update(
            state=state,
            summary=summary[:1024],
            result=data,
            finished_at=timezone.now(),
            pgid=None,
            leader_started=None,
        )
        bump()
    return state


def _dispatch(job: Job, log: ops.Log) -> tuple[str, dict[str, Any]]:
    """Run the kind's operation; return (one-line summary, result data)."""
    context = Context.of(job, log)
    spec = KINDS.get(job.kind)
    if spec is None:
        raise EnvcoreError(f"unknown job kind {job.kind}")
    return spec.run(job.params, context)


def after_run(job: Job, state: str) -> None:
    """Rescan the job's environment (unless the job only read it: a plan, a preview),
    re-check its updates if they were checked, and say how the job ended on the overview."""
    close_old_connections()
    spec = KINDS.get(job.kind)
    changed = spec is None or not spec.reads_only(job.params)
    refreshed: Environment | None = None
    if changed:
        scan_environment(job.env_path)
        refreshed = Environment.objects.filter(path=job.env_path, gone_at__isnull=True).first()
    if refreshed is not None and job.environment_id is None:  # a create: link what it made
        Job.objects.filter(pk=job.pk, environment__isnull=True).update(environment=refreshed)
    if refreshed is not None and refreshed.updates_checked_at is not None and not _Current.cause:
        # The rescan replaced the package rows; the cache makes this re-check cheap.
        try:
            check_updates(refreshed)
        except (EnvcoreError, OSError) as exc:
            logger.warning("update check after job %s failed: %s", job.pk, exc)
    environment = refreshed or Environment.objects.filter(path=job.env_path).first()
    # The page's name for it (`app/.venv`), not the directory's bare `.venv`.
    name = environment.name if environment is not None else Path(job.env_path).name
    Activity.objects.create(
        at=timezone.now(),
        kind="job",
        message=f"{job.title} on {name}: {state}"[:1024],
        environment=environment,
    )
    bump()  # the overview's recent activity shows it (a plan job has no rescan to bump)
