"""The watcher's sources: a RustNotify (the OS's notifications, or polling) read by a
thread into the loop's queue, and how many OS watches the OS grants when it refuses some
(the watch limit), with a reason a user can act on."""

from __future__ import annotations

import errno
import queue
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

# RustNotify is what watchfiles.watch() drives; used directly because the loop must know
# at once whether adding the watches failed (the OS's limit) to fall back to polling, and
# choose each wait's timeout itself (the next environment's debounce deadline).
from watchfiles._rust_notify import RustNotify

__all__ = ["REFUSED", "Event", "Failure", "Source", "fit", "is_limit", "refusal"]

#: How long notify takes to give a refused or closed watcher's watches back to the OS.
RELEASE_WAIT = 0.2


@dataclass(frozen=True)
class Failure:
    """A source's thread ended on an error (notify's "error in underlying watcher")."""

    polling: bool
    error: str


#: What a source puts on the loop's queue: changes (kind, path), or its failure.
Event = set[tuple[int, str]] | Failure


class Source:
    """One RustNotify (OS notifications, or polling) read by a thread into the loop's queue."""

    def __init__(
        self,
        directories: Sequence[str],
        *,
        polling: bool,
        poll_ms: int,
        events: queue.Queue[Event],
    ) -> None:
        self.directories = tuple(directories)
        self.polling = polling
        # Raises OSError when the OS refuses a watch (its limit reached). Errors are not
        # ignored for OS watches: watchfiles' ignore_permission_denied also swallows the
        # watch limit, leaving the directories past it silently unwatched.
        self._notify = RustNotify(list(directories), False, polling, poll_ms, False, polling)
        self._events = events
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watch-source", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                # 50 ms steps: the notifications of one file operation arrive together.
                result = self._notify.watch(200, 50, 0, self._stop)
            except Exception as exc:  # the loop falls back; the thread ends
                self._events.put(Failure(self.polling, f"{type(exc).__name__}: {exc}"))
                return
            if isinstance(result, set) and result:
                self._events.put(result)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._notify.close()


#: What watchfiles raises when the OS refuses a watch: OSError ("OS file watch limit
#: reached", ENOSPC), or its RuntimeError subclass for an inotify instance refused.
REFUSED = (OSError, RuntimeError)


def is_limit(exc: BaseException) -> bool:
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    return code in {errno.ENOSPC, errno.EMFILE} or any(
        word in text for word in ("limit", "no space", "too many open files")
    )


def _instances(exc: BaseException) -> bool:
    """The limit on inotify instances (each RustNotify is one), not on watches."""
    return getattr(exc, "errno", None) == errno.EMFILE or "too many open files" in str(exc).lower()


def _read_number(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _inotify_limit(name: str) -> tuple[str, int] | None:
    """The sysctl that binds (the system's, or this user namespace's when lower, as in a
    container) and its value."""
    system = _read_number(f"/proc/sys/fs/inotify/{name}")
    own_name = {"max_user_watches": "max_inotify_watches"}.get(name, "max_inotify_instances")
    own = _read_number(f"/proc/sys/user/{own_name}")
    if own is not None and (system is None or own < system):
        return f"user.{own_name}", own
    return (f"fs.inotify.{name}", system) if system is not None else None


def fit(directories: list[str], exc: BaseException, events: queue.Queue[Event]) -> Source | None:
    """As many OS watches as the OS grants (the first ones, by priority), or None."""
    if not is_limit(exc) or _instances(exc):
        return None
    low, high, fits = 1, len(directories) - 1, 0
    # A refused watcher gives its watches back from notify's own thread, a moment
    # later: each probe waits for that, or it is refused for the last one's watches.
    time.sleep(RELEASE_WAIT)
    while low <= high:
        middle = (low + high) // 2
        try:
            RustNotify(directories[:middle], False, False, 0, False, False).close()
        except REFUSED:
            high = middle - 1
            time.sleep(RELEASE_WAIT)
        else:
            fits, low = middle, middle + 1
            time.sleep(RELEASE_WAIT)
    if not fits:
        return None
    try:
        return Source(directories[:fits], polling=False, poll_ms=0, events=events)
    except REFUSED:  # another program took the last ones meanwhile
        return None


def refusal(exc: BaseException) -> str:
    if not is_limit(exc):
        return f"the OS's file notifications are unavailable ({exc})"
    name, value = "max_user_watches", "524288"
    if _instances(exc):
        name, value = "max_user_instances", "1024"
    limit = _inotify_limit(name)
    if sys.platform == "linux" and limit is not None:
        sysctl, current = limit
        return (
            f"the OS watch limit ({sysctl} = {current}) was reached: raise it with "
            f"`sudo sysctl {sysctl}={value}` (and a line in /etc/sysctl.d/ to keep it)"
        )
    return f"the OS watch limit was reached ({exc})"
