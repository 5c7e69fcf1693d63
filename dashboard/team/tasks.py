"""Auto-push: after a scan, send this machine's snapshot to the team server, retrying on failure.

Runs on the task worker, never in a request, so a slow or absent team server cannot hold
up the local dashboard; each failure is recorded (Team settings shows it) and retried
later with exponential backoff.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from dashboard.team.client import PushError, push_snapshot_document
from dashboard.team.conf import team_token, team_url
from dashboard.team.local import stored_snapshot
from dashboard.team.models import PushState
from envcore.errors import EnvcoreError

__all__ = ["MAX_ATTEMPTS", "backoff", "push_after_scan", "push_snapshot", "schedule_push"]

logger = logging.getLogger("envdash.team")

#: After this many failed attempts in a row the push waits for the next scan to try again.
MAX_ATTEMPTS = 8
FIRST_DELAY = timedelta(minutes=1)
LONGEST_DELAY = timedelta(hours=1)


def backoff(attempt: int) -> timedelta:
    """Delay before retry number `attempt` (1-based): 1, 2, 4 ... minutes, at most an hour."""
    delay: timedelta = FIRST_DELAY * (2 ** max(attempt - 1, 0))
    return min(delay, LONGEST_DELAY)


def _configured() -> bool:
    return bool(team_url() and team_token())


@task()
def push_snapshot(attempt: int = 1) -> bool:
    """Push what the last scan stored; on failure record why and schedule the next attempt."""
    if not _configured():
        return False
    state, _ = PushState.objects.get_or_create(pk=1)
    now = timezone.now()
    try:
        push_snapshot_document(team_url(), team_token(), stored_snapshot())
    except (PushError, EnvcoreError, OSError) as exc:
        state.attempts = attempt
        state.last_attempt_at = now
        state.last_error = str(exc)[:500]
        state.next_attempt_at = now + backoff(attempt) if attempt < MAX_ATTEMPTS else None
        state.save(update_fields=["attempts", "last_attempt_at", "last_error", "next_attempt_at"])
        logger.warning("team push failed (attempt %d): %s", attempt, exc)
        if state.next_attempt_at is not None:
            push_snapshot.using(run_after=state.next_attempt_at).enqueue(attempt + 1)
        return False
    state.attempts = 0
    state.last_attempt_at = state.last_success_at = now
    state.last_error = ""
    state.next_attempt_at = None
    state.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "last_success_at",
            "last_error",
            "next_attempt_at",
        ]
    )
    return True


def schedule_push() -> bool:
    """Queue a push when a team server is configured (call after each scan); True if queued."""
    if not _configured():
        return False
    push_snapshot.enqueue()
    return True


def push_after_scan(sender: object, **kwargs: object) -> None:
    """`scan_finished` receiver: every finished full scan queues a push (when configured)."""
    schedule_push()
