"""The job queue: enqueue, claim, one job at a time per environment, cancel, retry.

Jobs on one environment run one after another, in the order they were queued: a job is
claimed only when nothing runs on its environment and nothing queued before it waits.
Jobs on different environments run in parallel, one per worker process. A job is safe to
run twice: only a queued job is ever started.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from dashboard.jobs.forms import JobError, JobStateError, RetryForm
from dashboard.jobs.kinds import validate, validate_create
from dashboard.jobs.models import Job
from dashboard.jobs.operations import RETRY_INSTALLER
from dashboard.jobs.run import after_run, run_claimed
from dashboard.models import Environment
from dashboard.queues import machine_queue

__all__ = [
    "RETRY_SECONDS",
    "cancel",
    "enqueue",
    "enqueue_create",
    "requeue",
    "retry",
    "run_job",
    "schedule_next",
]

#: How long a job waits before looking again when its environment is busy. The job ahead
#: starts the next one as it finishes; this retry only covers a worker that died in between.
RETRY_SECONDS = 15


def enqueue_create(data: Mapping[str, Any]) -> Job:
    """Queue a new environment's creation, or raise JobError with the Form's refusal."""
    params = validate_create(data)
    job = Job.objects.create(
        kind=Job.Kind.CREATE,
        env_path=params["path"],
        machine=str(settings.MACHINE_NAME),
        params=params,
    )
    transaction.on_commit(lambda: _schedule(job.pk))
    return job


def enqueue(kind: str, env: Environment, data: Mapping[str, Any]) -> Job:
    """Queue a `kind` job on `env`, or raise JobError with the kind's one-line refusal."""
    params = validate(kind, env, data)
    job = Job.objects.create(
        kind=kind,
        environment=env,
        env_path=env.path,
        machine=str(settings.MACHINE_NAME),
        params=params,
    )
    transaction.on_commit(lambda: _schedule(job.pk))
    return job


def requeue(job: Job, *, with_pip: bool = False) -> Job:
    """A new job with the same kind and parameters (the Retry button); `with_pip` forces
    the pip installer (Retry with pip, after uv failed)."""
    params = {**job.params, "installer": RETRY_INSTALLER} if with_pip else job.params
    again = Job.objects.create(
        kind=job.kind,
        environment=job.environment,
        env_path=job.env_path,
        machine=str(settings.MACHINE_NAME),
        params=params,
    )
    transaction.on_commit(lambda: _schedule(again.pk))
    return again


def retry(job: Job, data: Mapping[str, Any]) -> Job:
    """The Retry button (page and API): run a finished job again with the same (already
    validated) parameters; `installer=pip` ("Retry with pip") only for a failed job that
    ran with uv. JobError (JobStateError for the job's state) with the refusal otherwise."""
    if not job.finished:
        raise JobStateError("The job is still running.")
    form = RetryForm(data)
    if not form.is_valid():
        raise JobError(str(form.errors["installer"][0]))
    with_pip = form.cleaned_data["installer"] == "pip"
    if with_pip and not job.retry_with_pip:
        raise JobStateError("Retry with pip is for a job that failed with uv.")
    return requeue(job, with_pip=with_pip)


def cancel(job: Job) -> bool:
    """Ask an unfinished job to stop: a queued one is never started, a running one's worker
    ends its commands within a flush. False when the job had already finished."""
    if job.finished:
        return False
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    return True


def _schedule(job_id: int, delay: float = 0) -> None:
    task_ = run_job.using(queue_name=machine_queue())
    if delay:
        task_ = task_.using(run_after=timezone.now() + timedelta(seconds=delay))
    task_.enqueue(job_id)


def schedule_next(env_path: str) -> None:
    """Start the job waiting first for this environment now, not at its next retry."""
    waiting = (
        Job.objects.filter(env_path=env_path, state=Job.State.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if waiting is not None:
        _schedule(waiting)


@task()
def run_job(job_id: int) -> str:
    job = _claim(job_id)
    if job is None:
        return "skipped"
    state = run_claimed(job)
    schedule_next(job.env_path)
    after_run(job, state)
    return str(state)


def _claim(job_id: int) -> Job | None:
    """Mark the job running if it is queued and first in line for its environment."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state != Job.State.QUEUED:
            return None
        if job.cancel_requested:
            job.state, job.finished_at, job.summary = "cancelled", timezone.now(), "cancelled"
            job.save(update_fields=["state", "finished_at", "summary"])
            return None
        if job.environment_id is not None:  # serialises claims per environment (row lock)
            list(Environment.objects.select_for_update().filter(pk=job.environment_id))
        ahead = Job.objects.filter(env_path=job.env_path).filter(_running_or_earlier(job))
        if ahead.exists():
            transaction.on_commit(lambda: _schedule(job_id, RETRY_SECONDS))
            return None
        job.state = Job.State.RUNNING
        job.started_at = job.heartbeat_at = timezone.now()
        job.worker = f"{socket.gethostname()}:{os.getpid()}"[:128]
        job.save(update_fields=["state", "started_at", "heartbeat_at", "worker"])
        return job


def _running_or_earlier(job: Job) -> Q:
    return Q(state=Job.State.RUNNING) | Q(state=Job.State.QUEUED, pk__lt=job.pk)
