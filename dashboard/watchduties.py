"""The watcher's periodic duties, beside following events: the full rescan every
ENVDASH_RESCAN_INTERVAL, update checks whose index answers expired, the team push once
changes settled, and the heartbeat row Settings reads (see dashboard.watcher)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import DatabaseError
from django.utils import timezone

from dashboard import tasks
from dashboard.models import Environment, WatchState
from dashboard.signals import changes_followed
from dashboard.updates import enqueue_update_check
from dashboard.watchstatus import BEAT_SECONDS

if TYPE_CHECKING:
    from dashboard.watcher import FollowerConfig, _Plan

__all__ = ["PUSH_AFTER", "PUSH_AT_LATEST", "Duties"]

logger = logging.getLogger("envdash.watch")

#: The team snapshot is pushed this long after the last followed change...
PUSH_AFTER = 10.0
#: ...or this long after the first one of a stream that never settles.
PUSH_AT_LATEST = 60.0

_BACKENDS = {"linux": "inotify", "darwin": "FSEvents", "win32": "ReadDirectoryChangesW"}


class Duties:
    """The periodic part of dashboard.watcher.Follower (its state lives there)."""

    config: FollowerConfig
    clock: Callable[[], float]
    plan: _Plan
    _started_at: datetime
    _next_beat: float
    _next_full_rescan: float
    _checks_enqueued: dict[int, float]
    _push_first: float | None
    _push_last: float
    _push_changes: int
    _last_event_at: datetime | None
    _last_rescan_at: datetime | None

    def _enqueue_update_check(self, row: Environment, *, force: bool = False) -> None:
        now = self.clock()
        last = self._checks_enqueued.get(row.pk)
        if not force and last is not None and now - last < max(self.config.index_ttl, 60.0):
            return
        self._checks_enqueued[row.pk] = now
        enqueue_update_check(row)

    def _full_rescan(self, now: float) -> None:
        if self.config.rescan_interval <= 0:
            return
        if self._next_full_rescan == 0.0:  # serve queued one at its start
            self._next_full_rescan = now + self.config.rescan_interval
            return
        if now < self._next_full_rescan:
            return
        self._next_full_rescan = now + self.config.rescan_interval
        if not tasks.scan_pending():
            tasks.enqueue_scan()
            self._last_rescan_at = timezone.now()
            self._beat()

    def _update_checks(self) -> None:
        """Re-check updates whose index answers expired (the "latest" column never stays
        stale past ENVDASH_INDEX_TTL), and those whose rows a rescan replaced since."""
        if self.config.offline or self.config.index_ttl <= 0:
            return
        expired = timezone.now() - timedelta(seconds=self.config.index_ttl)
        checked = Environment.objects.filter(gone_at__isnull=True, updates_checked_at__isnull=False)
        for row in checked.only("pk", "path", "updates_checked_at", "last_changed"):
            at = row.updates_checked_at
            if at is not None and (at < expired or row.last_changed > at):
                self._enqueue_update_check(row)

    def _push(self, now: float) -> None:
        if self._push_first is None:
            return
        if now - self._push_last >= PUSH_AFTER or now - self._push_first >= PUSH_AT_LATEST:
            changes_followed.send(Environment, changed=self._push_changes)
            self._push_first, self._push_changes = None, 0

    def _beat(self, environments: int | None = None) -> None:
        self._next_beat = self.clock() + BEAT_SECONDS
        plan = self.plan
        if self.config.mode == "off":
            mode = WatchState.Mode.OFF
        elif plan.polled and plan.watched:
            mode = WatchState.Mode.MIXED
        elif plan.polled:
            mode = WatchState.Mode.POLLING
        else:
            mode = WatchState.Mode.WATCHING
        values: dict[str, object] = {
            "pid": os.getpid(),
            "started_at": self._started_at,
            "heartbeat_at": timezone.now(),
            "mode": mode,
            "reason": plan.reason[:1024],
            "backend": _BACKENDS.get(sys.platform, "OS notifications"),
            "watched": len(plan.watched),
            "polled": len(plan.polled),
            "poll_interval": self.config.poll_interval,
            "rescan_interval": int(self.config.rescan_interval),
            "last_event_at": self._last_event_at,
            "last_rescan_at": self._last_rescan_at,
        }
        if environments is not None:
            values["environments"] = environments
        try:
            WatchState.objects.update_or_create(machine=self.config.machine, defaults=values)
        except DatabaseError:
            logger.exception("could not store the watcher's state")
