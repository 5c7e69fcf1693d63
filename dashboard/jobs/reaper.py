"""Jobs whose worker died: marked interrupted, their process tree ended, their
environments repaired and rescanned, and the jobs waiting behind them started."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from dashboard.jobs.journal import recover_moved_directories
from dashboard.jobs.models import Job
from dashboard.jobs.queue import schedule_next
from dashboard.jobs.run import interrupted_summary
from dashboard.live import bump
from dashboard.scanning import scan_environment
from envcore.runner import end_process_tree, replaced_since

__all__ = ["STALE_AFTER", "reap_interrupted"]

#: A running job whose heartbeat is older than this belongs to a dead worker.
STALE_AFTER = timedelta(seconds=60)


def reap_interrupted(
    *, recover: bool = False, now_fn: Callable[[], datetime] = timezone.now
) -> int:
    """This machine's jobs whose worker died: mark them interrupted, end their whole process
    tree, repair their environments, rescan them and start what was waiting for them.

    A worker is dead when its heartbeat is stale, or at once when it ran on this host and
    its process is gone (or a zombie). Other machines' jobs are left to their own workers:
    a process group number means nothing on another machine. `recover` (worker start)
    undoes what the journal of moved directories records even when no job was reaped.
    """
    now = now_fn()
    running = Job.objects.filter(state=Job.State.RUNNING, machine=str(settings.MACHINE_NAME))
    dead = [
        job
        for job in running
        if job.heartbeat_at is None or job.heartbeat_at < now - STALE_AFTER or _worker_gone(job)
    ]
    reaped = []
    for job in dead:
        # Several workers start together (serve): only the one whose update wins reaps.
        if not Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
            state=Job.State.INTERRUPTED,
            finished_at=now,
            summary=interrupted_summary(job, "the worker died"),
            pgid=None,
            leader_started=None,
        ):
            continue
        # Whatever it was doing, the command must not go on changing the environment
        # behind a job that says it ended; the rescan below then sees its final state.
        leader = job.leader
        if leader is not None:
            end_process_tree(leader)
        reaped.append(job)
    if reaped:
        bump()
    if reaped or recover:
        recover_moved_directories(now_fn)
    for env_path in {job.env_path for job in reaped}:
        scan_environment(env_path)
        schedule_next(env_path)
    return len(reaped)


def _worker_gone(job: Job) -> bool:
    """True when the job's worker ran on this host and its process is gone: no process has
    its pid, it is a zombie nobody reaped yet, or the pid now names a younger process."""
    host, _, pid = job.worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    claimed = job.started_at.timestamp() if job.started_at else float("inf")
    return replaced_since(int(pid), claimed)
