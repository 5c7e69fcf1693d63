"""Following the disk: the `watch` process keeps the database in line with what happens to
the known environments outside envdash (a `pip install` in a terminal, an edited
requirements.txt, a removed interpreter).

It watches, without recursion, the directories `envcore.watchpaths` names for each known
environment, with the OS's notifications (watchfiles; inotify on Linux) or by polling
where those cannot be had (ENVDASH_WATCH=poll, the watch limit reached, a network file
system). Events are grouped per environment: one rescan once they have been quiet for
`QUIET` (at most `LONGEST` after the first, then at most every `PROGRESS` while they
never stop), so a `pip install` is one rescan, or a few for one of tens of seconds.
Between events the loop wakes every few seconds to rebuild the watch set when the known
environments changed, queue the periodic full rescan, re-check updates whose index
answers expired, push the team snapshot once changes settled, and say it is alive
(dashboard.watchduties). The sources it reads are in dashboard.watchsources; how events
become rescans, in dashboard.watchrescans.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.db.models import Count, Max
from django.utils import timezone

from dashboard.models import Environment, WatchState
from dashboard.scanning import scan_plan
from dashboard.watchduties import PUSH_AFTER, PUSH_AT_LATEST, Duties
from dashboard.watchrescans import QUIET, Rescans, _Pending
from dashboard.watchsources import REFUSED, Event, Source, fit, refusal
from envcore.environment import inspect_environment
from envcore.errors import EnvcoreError
from envcore.watchpaths import (
    Role,
    Watched,
    WatchSet,
    environment_paths,
    filesystem_of,
    is_watch_unfriendly,
    read_mounts,
    watch_paths,
)

__all__ = ["Follower", "FollowerConfig"]

logger = logging.getLogger("envdash.watch")

#: How often the OS watches are tried again without the directories that vanished meanwhile.
VANISHED_RETRIES = 3
#: How often the loop looks at the database when nothing happens (the known environments'
#: fingerprint, the periodic rescan's and the update checks' due times).
HOUSEKEEPING = 5.0
#: How often expired update checks are looked for.
UPDATE_CHECKS_EVERY = 60.0

#: Watched first when the OS's watches run short: what changes most and matters most.
_PRIORITY = {
    Role.SITE_PACKAGES: 0,
    Role.PROJECT: 1,
    Role.BIN: 2,
    Role.ENVIRONMENT: 3,
    Role.PARENT: 4,
    Role.BASE_INTERPRETER: 5,
}


@dataclass(frozen=True)
class FollowerConfig:
    """The settings the loop runs with (read from dashboard.settings by `from_settings`)."""

    mode: str = "auto"
    poll_interval: float = 2.0
    watch_limit: int | None = None
    rescan_interval: float = 300.0
    index_ttl: float = 600.0
    offline: bool = False
    machine: str = ""
    #: Where the mounts are read from (the kernel's table; a test gives its own).
    mountinfo: Path = Path("/proc/self/mountinfo")

    @classmethod
    def from_settings(cls) -> FollowerConfig:
        return cls(
            mode=str(settings.WATCH_MODE),
            poll_interval=float(settings.POLL_INTERVAL),
            watch_limit=settings.WATCH_LIMIT,
            rescan_interval=float(settings.RESCAN_INTERVAL),
            index_ttl=float(settings.INDEX_TTL),
            offline=bool(settings.INDEX_OFFLINE),
            machine=str(settings.MACHINE_NAME),
        )


@dataclass
class _Plan:
    """The watch set as built: what is watched by the OS, what is polled, and why."""

    watchset: WatchSet
    watched: list[str] = field(default_factory=list)
    polled: list[str] = field(default_factory=list)
    reason: str = ""
    #: Never polled (a base interpreter's directory: what is in it is not ours to bound).
    os_only: frozenset[str] = frozenset()


class Follower(Rescans, Duties):
    """The watcher's loop; `run()` until `stop` is set (or KeyboardInterrupt)."""

    def __init__(
        self, config: FollowerConfig, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.clock = clock
        self.events: queue.Queue[Event] = queue.Queue()
        self.sources: list[Source] = []
        self.plan = _Plan(WatchSet(()))
        self.pending: dict[Path, _Pending] = {}
        #: When an environment's last rescan was forced while its events went on.
        self._bursts: dict[Path, float] = {}
        self.fingerprint = ""
        self.aggregate: object = None
        self.rescans = 0
        self._started_at = timezone.now()
        self._next_housekeeping = 0.0
        self._next_beat = 0.0
        self._next_update_checks = 0.0
        self._next_full_rescan = 0.0
        self._checks_enqueued: dict[int, float] = {}
        self._push_first: float | None = None
        self._push_last = 0.0
        self._push_changes = 0
        self._last_event_at: datetime | None = None
        self._last_rescan_at: datetime | None = None
        self._failed_sources = False
        #: When OS watches failed at run time (within FAILURE_WINDOW), and why they are
        #: given up for polling after the second time.
        self._failures: list[float] = []
        self._os_failed = ""
        self._next_failed_rebuild = 0.0
        #: A rebuild asked for by a rescan that a DatabaseError cut short.
        self._rebuild_wanted = False

    # --- the watch set --------------------------------------------------------------

    def _known(self) -> list[Environment]:
        """Every known environment, the gone ones too (to see them come back)."""
        return list(Environment.objects.select_related("project").order_by("pk"))

    def _fingerprint(self, rows: Iterable[Environment]) -> str:
        """What the watch set is built from; it is rebuilt only when this changed."""
        text = "\n".join(
            "\0".join(
                [
                    row.path,
                    "gone" if row.gone_at else "",
                    row.interpreter,
                    row.base_interpreter,
                    row.requirements_source,
                    row.project.path if row.project else "",
                    *row.requirement_files,
                ]
            )
            for row in rows
        )
        return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()

    def _watched_for(self, row: Environment, roots: Sequence[Path]) -> tuple[Watched, ...]:
        files = [Path(name) for name in row.requirement_files]
        if row.requirements_source:
            files.append(Path(row.requirements_source))
        try:
            if row.gone_at is not None:
                raise EnvcoreError(f"{row.path} is gone")
            facts = inspect_environment(row.path, roots=roots)  # its project as the scan's
        except (EnvcoreError, OSError):
            # Gone or unreadable: watch where it was (its parent), to see it come back.
            return watch_paths(Path(row.path), requirement_files=files)
        return environment_paths(facts, files)

    def _plan(self, rows: Sequence[Environment]) -> _Plan:
        roots = scan_plan().roots
        watched = [item for row in rows for item in self._watched_for(row, roots)]
        watchset = WatchSet(watched)
        priority: dict[str, int] = {}
        for item in watched:
            key = os.fspath(item.directory)
            priority[key] = min(priority.get(key, 9), _PRIORITY[item.role])
        directories = sorted(
            (d for d in watchset.directories if os.path.isdir(d) and os.access(d, os.R_OK)),
            key=lambda d: (priority[d], d),
        )
        plan = _Plan(watchset)
        base = _PRIORITY[Role.BASE_INTERPRETER]
        plan.os_only = frozenset(d for d in directories if priority[d] == base)
        if self.config.mode == "off":
            plan.reason = "ENVDASH_WATCH=off; changes made outside envdash show after a rescan"
            return plan
        if self.config.mode == "poll":
            plan.polled, plan.reason = directories, "ENVDASH_WATCH=poll"
            return plan
        if self._os_failed:
            plan.polled, plan.reason = directories, self._os_failed
            return plan
        mounts = read_mounts(self.config.mountinfo)
        remote: dict[str, str] = {}
        for directory in directories:
            kind = filesystem_of(os.path.realpath(directory), mounts)
            if is_watch_unfriendly(kind):
                remote[directory] = kind
        local = [d for d in directories if d not in remote]
        reasons = []
        if remote:
            kinds = ", ".join(sorted(set(remote.values())))
            reasons.append(
                f"{len(remote)} {'path is' if len(remote) == 1 else 'paths are'} on a network "
                f"file system ({kinds}), whose changes made elsewhere raise no notification"
            )
        limit = self.config.watch_limit
        if limit is not None and len(local) > limit:
            plan.polled += local[limit:]
            local = local[:limit]
            reasons.append(
                f"the watch limit (ENVDASH_WATCH_LIMIT = {limit}) was reached: raise it, "
                "or unset ENVDASH_WATCH_LIMIT to use as many watches as the OS allows"
            )
        plan.watched = local
        plan.polled = [*remote, *plan.polled]
        plan.reason = "; ".join(reasons)
        return plan

    def _start_sources(self, plan: _Plan) -> list[Source]:
        """Start the OS watches (falling back to polling for what the OS refuses) and the
        poller; records in `plan` what ended where and why."""
        sources: list[Source] = []
        poll_ms = int(self.config.poll_interval * 1000)
        for attempt in range(VANISHED_RETRIES + 1):
            if not plan.watched:
                break
            try:
                sources.append(
                    Source(plan.watched, polling=False, poll_ms=poll_ms, events=self.events)
                )
            except FileNotFoundError as exc:
                # A directory went between planning and its watch (a venv being recreated):
                # not the OS refusing. Leave it out and try again; its owners are rescanned.
                if attempt == VANISHED_RETRIES:
                    plan.reason = "; ".join(filter(None, [plan.reason, refusal(exc)]))
                    plan.polled, plan.watched = [*plan.watched, *plan.polled], []
                    break
                self._vanished(plan, [d for d in plan.watched if not os.path.isdir(d)])
                plan.watched = [d for d in plan.watched if os.path.isdir(d)]
                plan.polled = [d for d in plan.polled if os.path.isdir(d)]
                continue
            except REFUSED as exc:
                fitted = fit(plan.watched, exc, self.events)
                if fitted is not None:
                    sources.append(fitted)
                kept = len(fitted.directories) if fitted is not None else 0
                plan.polled += plan.watched[kept:]
                plan.watched = plan.watched[:kept]
                plan.reason = "; ".join(filter(None, [plan.reason, refusal(exc)]))
            break
        # Left to the periodic rescan when it cannot be OS-watched.
        plan.polled = [d for d in plan.polled if d not in plan.os_only]
        if plan.polled:
            sources.append(Source(plan.polled, polling=True, poll_ms=poll_ms, events=self.events))
        return sources

    def _vanished(self, plan: _Plan, directories: Iterable[str]) -> None:
        """Rescan the environments a vanished directory belonged to (what happened there
        before a watch could see it)."""
        now = self.clock()
        for directory in directories:
            for env in plan.watchset.owners(directory):
                self.pending.setdefault(env, _Pending(now, now))

    def rebuild(self, rows: Sequence[Environment] | None = None) -> None:
        """Build the watch set anew; the new watches start before the old ones stop, so no
        change falls in between."""
        rows = self._known() if rows is None else rows
        plan = self._plan(rows)
        sources = self._start_sources(plan)
        if self.sources and "was reached" in plan.reason and plan.polled:
            # Near the limit the old watches leave no room for the new: give them back and
            # build again (a change in that moment is seen by the next rescan).
            for source in sources:
                source.close()
            self.close()
            plan = self._plan(rows)
            sources = self._start_sources(plan)
        before = {*self.plan.watched, *self.plan.polled}
        old, self.sources, self.plan = self.sources, sources, plan
        for source in old:
            source.close()
        # What changed where nobody watched yet (before the watcher started, or in a
        # directory that just appeared) is seen by a rescan; free when nothing changed.
        now = self.clock()
        for directory in {*plan.watched, *plan.polled} - before:
            for env in plan.watchset.owners(directory):
                self.pending.setdefault(env, _Pending(now, now))
        self._rebuild_wanted = False
        self.fingerprint = self._fingerprint(rows)
        self._failed_sources = False
        logger.info(
            "following %d environments: %d paths watched, %d polled%s",
            sum(1 for row in rows if row.gone_at is None),
            len(plan.watched),
            len(plan.polled),
            f" ({plan.reason})" if plan.reason else "",
        )
        self._beat(sum(1 for row in rows if row.gone_at is None))

    def close(self) -> None:
        for source in self.sources:
            source.close()
        self.sources = []

    # --- housekeeping ---------------------------------------------------------------

    def _housekeeping(self) -> None:
        now = self.clock()
        if self._rebuild_wanted or (self._failed_sources and now >= self._next_failed_rebuild):
            # A failing source is rebuilt at most once per HOUSEKEEPING, not in a loop.
            self._next_failed_rebuild = now + HOUSEKEEPING
            self.rebuild()
        if now >= self._next_housekeeping:
            self._next_housekeeping = now + HOUSEKEEPING
            close_old_connections()
            self._check_known()
            self._full_rescan(now)
        if now >= self._next_update_checks:
            self._next_update_checks = now + UPDATE_CHECKS_EVERY
            self._update_checks()
        self._push(now)
        if now >= self._next_beat:
            self._beat()

    def _check_known(self) -> None:
        """Rebuild when environments were found, lost or changed what is watched: one
        aggregate query, and the full fingerprint only when that moved."""
        aggregate = Environment.objects.aggregate(
            count=Count("pk"), gone=Count("gone_at"), changed=Max("last_changed")
        )
        if aggregate == self.aggregate:
            return
        self.aggregate = aggregate
        rows = self._known()
        if self._fingerprint(rows) != self.fingerprint:
            self.rebuild(rows)

    # --- the loop -------------------------------------------------------------------

    def _timeout(self) -> float:
        now = self.clock()
        wake = min(self._next_housekeeping, self._next_beat, self._next_update_checks)
        if self._push_first is not None:
            wake = min(wake, self._push_last + PUSH_AFTER, self._push_first + PUSH_AT_LATEST)
        for entry in self.pending.values():
            due = min(entry.last + QUIET, entry.first + entry.cap)
            wake = min(wake, max(due, entry.not_before))
        return max(0.0, wake - now)

    def step(self) -> None:
        """Wait for events (or the next thing due), then do what is due."""
        try:
            item = self.events.get(timeout=self._timeout())
        except queue.Empty:
            pass
        else:
            self._take(item)
            while True:
                try:
                    self._take(self.events.get_nowait())
                except queue.Empty:
                    break
        try:
            self._rescan_due()
            self._housekeeping()
        except DatabaseError:
            logger.exception("the watcher's database work failed; trying again in a second")
            close_old_connections()
            time.sleep(1.0)

    def run(self, stop: threading.Event) -> None:
        self.rebuild()
        self.aggregate = None
        try:
            while not stop.is_set():
                self.step()
        finally:
            self.close()
            WatchState.objects.filter(machine=self.config.machine, pid=os.getpid()).delete()
