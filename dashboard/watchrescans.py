"""From events to rescans: the watcher's events are grouped per environment, and each is
rescanned once they have been quiet for `QUIET` (at most `LONGEST` after the first, then
at most every `PROGRESS` while they never stop), never while a job runs on it. The loop
that feeds them and owns the state: dashboard.watcher.Follower.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from django.db import DatabaseError
from django.utils import timezone

from dashboard.models import Environment
from dashboard.scanning import follow_environment
from dashboard.signals import busy_environments
from dashboard.watchsources import Event, Failure

if TYPE_CHECKING:
    from dashboard.watcher import FollowerConfig, _Plan

__all__ = ["LONGEST", "PROGRESS", "QUIET", "Rescans"]

logger = logging.getLogger("envdash.watch")


#: An environment is rescanned once its events have been quiet this long...
QUIET = 0.4
#: ...or this long after its first event, whichever comes first (what a change in a
#: terminal waits at most)...
LONGEST = 1.5
#: ...and, while the events never stop (a long install), once this long after each forced
#: rescan: the progress, not every half-installed state.
PROGRESS = 10.0
#: Two run-time failures of the OS watches within this long send their directories to polling.
FAILURE_WINDOW = 60.0
#: How often an environment a job is running on is looked at again, its changes kept.
BUSY_RECHECK = 1.0


@dataclass
class _Pending:
    first: float
    last: float
    rebuild: bool = False
    #: The longest its rescan waits after `first` (LONGEST, or PROGRESS within a burst).
    cap: float = LONGEST
    #: Not rescanned before this (a job runs on the environment: looked at again later).
    not_before: float = 0.0


class Rescans:
    """The events-to-rescans part of dashboard.watcher.Follower (its state lives there)."""

    config: FollowerConfig
    clock: Callable[[], float]
    plan: _Plan
    pending: dict[Path, _Pending]
    rescans: int
    _bursts: dict[Path, float]
    _push_first: float | None
    _push_last: float
    _push_changes: int
    _last_event_at: datetime | None
    _failed_sources: bool
    _failures: list[float]
    _os_failed: str
    _rebuild_wanted: bool
    #: Follower's: a rescan can change what is watched; a rescanned environment whose
    #: updates were checked is checked again (dashboard.watchduties).
    rebuild: Callable[[], None]
    _enqueue_update_check: Callable[..., None]

    def _take(self, item: Event) -> None:
        now = self.clock()
        if isinstance(item, Failure):  # a source failed: rebuild it
            logger.warning("watching failed: %s; rebuilding the watch set", item.error)
            self._failed_sources = True
            if not item.polling:
                self._failures = [at for at in self._failures if now - at < FAILURE_WINDOW]
                self._failures.append(now)
                if len(self._failures) >= 2:  # again: the OS's notifications do not hold
                    self._os_failed = f"the OS's notifications failed at run time: {item.error}"
            return
        directories = set(self.plan.watchset.directories)
        for _, path in item:
            owners = self.plan.watchset.owners(path)
            for env in owners:
                entry = self.pending.get(env)
                if entry is None:
                    entry = self.pending[env] = _Pending(now, now, cap=self._cap(env, now))
                entry.last = now
                # A watched directory itself came or went: its watch is gone or missing.
                entry.rebuild = entry.rebuild or path in directories
            if owners:
                self._last_event_at = timezone.now()

    def _cap(self, env: Path, now: float) -> float:
        """PROGRESS when the environment's last rescan was forced by a burst still going on
        (one of a long install's states): the rest of the install is one more rescan."""
        forced = self._bursts.pop(env, None)
        if forced is not None and now - forced < PROGRESS:
            return PROGRESS
        return LONGEST

    def _due(self, entry: _Pending, now: float) -> bool:
        if now < entry.not_before:
            return False
        return now - entry.last >= QUIET or now - entry.first >= entry.cap

    def _rescan_due(self) -> None:
        now = self.clock()
        due = [env for env, entry in self.pending.items() if self._due(entry, now)]
        if not due:
            return
        busy = {
            str(path)
            for _, paths in busy_environments.send(Environment, machine=self.config.machine)
            for path in cast("Iterable[str]", paths)
        }
        rebuild = False
        for env in due:
            entry = self.pending.pop(env)
            rebuild = rebuild or entry.rebuild
            if str(env) in busy:
                # Kept, not dropped: a plan or a preview never rescans at its end, and a
                # rescan after a job's own is free (nothing changed since: skipped).
                entry.rebuild, entry.not_before = False, now + BUSY_RECHECK
                self.pending[env] = entry
                continue
            if now - entry.last < QUIET:  # forced while events still arrive: a burst
                self._bursts[env] = now
            else:
                self._bursts.pop(env, None)
            try:
                scan = follow_environment(env)
            except DatabaseError:
                self.pending[env] = entry  # the loop's step says why; the next one retries
                self._rebuild_wanted = self._rebuild_wanted or rebuild
                raise
            except Exception:  # one environment's surprise must not stop the others
                logger.exception("rescanning %s failed", env)
                continue
            if scan is None:
                continue
            self.rescans += 1
            logger.info("rescanned %s after a change on disk (%d ms)", env, scan.duration_ms)
            row = Environment.objects.filter(path=str(env)).first()
            if row is not None and row.updates_checked_at is not None:
                # Its package rows were replaced: the "latest" column is empty until then.
                self._enqueue_update_check(row, force=True)
            self._push_last = self.clock()
            self._push_first = self._push_first or self._push_last
            self._push_changes += 1
        if rebuild:
            self.rebuild()
