"""envcore's `Journal` kept in the database, and the recovery a worker runs at start.

Rows are this machine's only (ENVDASH_MACHINE): another machine's paths say nothing about
this disk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from dashboard.jobs.models import RecoveryRecord
from dashboard.models import Activity
from envcore import ops

__all__ = ["DatabaseJournal", "recover_moved_directories"]

logger = logging.getLogger("envdash.jobs")


class DatabaseJournal:
    """Entries as `RecoveryRecord` rows, written in autocommit: stored before the rename."""

    def __init__(self, job_id: int | None = None) -> None:
        self.job_id = job_id
        self.machine = str(settings.MACHINE_NAME)

    def record(self, entry: ops.JournalEntry) -> None:
        RecoveryRecord.objects.create(
            job_id=self.job_id,
            machine=self.machine,
            kind=entry.kind,
            nonce=entry.nonce,
            original=str(entry.original),
            moved=str(entry.moved),
            created_at=entry.created_at,
        )

    def forget(self, entry: ops.JournalEntry) -> None:
        RecoveryRecord.objects.filter(machine=self.machine, nonce=entry.nonce).delete()

    def entries(self) -> Sequence[ops.JournalEntry]:
        found = []
        for row in RecoveryRecord.objects.filter(machine=self.machine):
            if row.kind not in RecoveryRecord.Kind.values:
                logger.warning("recovery record %s has an unknown kind %r", row.pk, row.kind)
                continue
            found.append(
                ops.JournalEntry(
                    kind="recreate" if row.kind == "recreate" else "delete",
                    original=Path(row.original),
                    moved=Path(row.moved),
                    nonce=row.nonce,
                    job_id=row.job_id,
                    created_at=row.created_at,
                )
            )
        return found


def recover_moved_directories(now_fn: Callable[[], datetime] = timezone.now) -> int:
    """Undo what crashed recreates and deletes on this machine left, one Activity row per
    journal entry. Never raises: a worker must start whatever recovery finds."""
    try:
        actions = ops.recover_interrupted(DatabaseJournal())
    except Exception as exc:
        logger.exception("recovery failed")
        message = f"recovery: failed, will try again at the next start: {exc}"
        Activity.objects.create(at=now_fn(), kind="recovery", message=message[:1024])
        return 0
    for action in actions:
        if action.action == "failed":
            logger.error("recovery of %s failed: %s", action.path, action.detail)
        message = f"recovery: {action.action} {action.path} {action.detail}".strip()
        Activity.objects.create(at=now_fn(), kind="recovery", message=message[:1024])
    return len(actions)
