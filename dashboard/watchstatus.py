"""What the watcher says about itself (dashboard.watcher writes it, pages and the API read
it): how this machine's environments are followed, in one sentence a user can act on.

Kept apart from the watcher's loop so that reading the status imports no file-watching
library into the web server.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from dashboard.models import WatchState

__all__ = ["BEAT_SECONDS", "FRESH_FOR", "describe", "stored_state", "watch_status"]

#: How often the watcher says it is alive, and how old a beat may be before the watcher
#: counts as not running (several missed beats: a busy database is no reason to warn).
BEAT_SECONDS = 10.0
FRESH_FOR = timedelta(seconds=45)


def stored_state() -> WatchState | None:
    return WatchState.objects.filter(machine=str(settings.MACHINE_NAME)).first()


def _running(state: WatchState | None, now: datetime) -> bool:
    return state is not None and state.heartbeat_at >= now - FRESH_FOR


def _paths(count: int) -> str:
    return f"{count} path" if count == 1 else f"{count} paths"


def _every(seconds: float) -> str:
    return f"every {seconds:g} s"


def describe(state: WatchState | None, now: datetime | None = None) -> str:
    """ "watching 212 paths with inotify", "polling 12 paths every 2 s: why", "not running"."""
    if state is None or not _running(state, now or timezone.now()):
        return "not running"
    if state.mode == WatchState.Mode.OFF:
        text = "off"
    elif state.mode == WatchState.Mode.WATCHING:
        text = f"watching {_paths(state.watched)} with {state.backend or 'OS notifications'}"
    elif state.mode == WatchState.Mode.POLLING:
        text = f"polling {_paths(state.polled)} {_every(state.poll_interval)}"
    else:
        text = (
            f"watching {_paths(state.watched)} with {state.backend or 'OS notifications'}, "
            f"polling {state.polled} more {_every(state.poll_interval)}"
        )
    if state.reason:
        text += f": {state.reason}"
    return text


def watch_status() -> dict[str, Any]:
    """This machine's watcher as plain data (for the JSON API): `running`, `mode`
    (watching / polling / mixed / off / not-running), `summary` (the Settings page's
    sentence), `reason`, path counts, and ISO times of the last event, the last periodic
    rescan and the last heartbeat."""
    now = timezone.now()
    state = stored_state()
    running = _running(state, now)

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "running": running,
        "mode": state.mode if state is not None and running else "not-running",
        "summary": describe(state, now),
        "reason": state.reason if state is not None else "",
        "backend": state.backend if state is not None else "",
        "environments": state.environments if state is not None else 0,
        "watched_paths": state.watched if state is not None else 0,
        "polled_paths": state.polled if state is not None else 0,
        "poll_interval_seconds": state.poll_interval if state is not None else None,
        "rescan_interval_seconds": state.rescan_interval if state is not None else None,
        "last_event_at": iso(state.last_event_at) if state is not None else None,
        "last_rescan_at": iso(state.last_rescan_at) if state is not None else None,
        "heartbeat_at": iso(state.heartbeat_at) if state is not None else None,
    }
