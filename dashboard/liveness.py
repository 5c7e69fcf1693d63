"""Which workers are alive: each beats a row every few seconds; pages warn when none does.

A worker that dies says nothing, so liveness is a recent beat, never the absence of a
goodbye. Only this machine's workers count: the queue of machine-bound work (every job,
every scan) is only taken by them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from dashboard.models import Worker

__all__ = ["BEAT_SECONDS", "FRESH_FOR", "beat", "forget", "worker_alive", "worker_status"]

#: How often a worker says it is alive.
BEAT_SECONDS = 2.0
#: A beat older than this no longer counts (several missed beats: a busy database is no
#: reason for a warning).
FRESH_FOR = timedelta(seconds=15)
#: A row silent this long is forgotten (looked for once per this long).
FORGET_AFTER = 4 * FRESH_FOR
_pruned = {"at": datetime.min.replace(tzinfo=UTC)}


def beat(started_at: datetime) -> None:
    """Say this worker process is alive (and, every minute or so, forget this machine's
    long-silent ones): one UPDATE, what an idle worker pays every BEAT_SECONDS."""
    now = timezone.now()
    machine = str(settings.MACHINE_NAME)
    mine = Worker.objects.filter(machine=machine, pid=os.getpid())
    if mine.update(started_at=started_at, last_seen=now):
        if now < _pruned["at"] + FORGET_AFTER:
            return
    else:  # the first beat (or the row was pruned while this worker was stopped)
        Worker.objects.update_or_create(
            machine=machine,
            pid=os.getpid(),
            defaults={"started_at": started_at, "last_seen": now},
        )
    Worker.objects.filter(machine=machine, last_seen__lt=now - FORGET_AFTER).delete()
    _pruned["at"] = now


def forget() -> None:
    """This worker is stopping: stop counting it at once."""
    Worker.objects.filter(machine=str(settings.MACHINE_NAME), pid=os.getpid()).delete()


def worker_alive() -> bool:
    """True when some worker on this machine beat recently."""
    return Worker.objects.filter(
        machine=str(settings.MACHINE_NAME), last_seen__gte=timezone.now() - FRESH_FOR
    ).exists()


def worker_status(request: HttpRequest) -> dict[str, Callable[[], bool]]:
    """Context processor: `worker_alive`, asked (one query) only by a page that shows it,
    never by the fragments that pages poll."""
    return {"worker_alive": worker_alive}
