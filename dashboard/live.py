"""Pages that update themselves: one counter (the revision) is raised by every change a
page shows, and open pages ask for it (base.html's `#live`) to re-fetch their live regions
when it moved. A page opts in by marking a region `data-live` (it needs an id):
static/js/envdash.js then fetches the page's URL again and swaps each region whose HTML
changed, keeping focus, scroll positions and what the user typed.

The ask is held: `/live/?since=N&wait=S` answers as soon as the revision differs from N,
or after S seconds. Meanwhile it reads no database: every bump, once committed, appends a
byte to a file in the data directory (whatever process made it: web server, worker,
watcher), and the held request looks at that file's size ten times a second. An open page
so sees a change ~0.1 s after it is stored and costs one request per `MAX_WAIT` while
nothing happens. Changes made on another machine sharing the database touch no file here:
the held request also reads the revision every `DB_EVERY` seconds. Each held request holds
one of the web server's threads, so only `holding` of them are held at once (serve sets it
from its thread count); beyond that, polls are answered at once and the page asks again
2 s later, as before.

What raises it: a scan starting or finishing (every environment a scan changed, found or
lost, is in place by then), a scan queued, a job created, claimed or ended, an update
check stored. Log lines and heartbeats do not: the job page polls its own log.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse

from dashboard.http import HtmxHttpRequest
from dashboard.models import Revision

__all__ = [
    "LIVE_HEADER",
    "MAX_WAIT",
    "RevisionMiddleware",
    "bump",
    "bump_on_save",
    "hold_at_most",
    "revision",
    "stop_holding",
    "wait_for_change",
]

#: Sent by envdash.js when it re-fetches a page for its regions (base.html then leaves
#: pending messages for the next real page view).
LIVE_HEADER = "X-Envdash-Live"

#: The longest a poll is held (the page asks again at once when it ends).
MAX_WAIT = 25.0
#: How often a held poll looks at the change file, and reads the database anyway.
LOOK_EVERY = 0.1
DB_EVERY = 3.0
#: The change file grows a byte per bump; it starts again past this size.
_CHANGES_MAX = 4096

_holds = {"limit": 4, "held": 0}
_holds_lock = threading.Lock()
_stopping = threading.Event()


def hold_at_most(count: int) -> None:
    """How many polls may be held at once (serve: half its threads; 0: none)."""
    with _holds_lock:
        _holds["limit"] = count


def _take_hold() -> bool:
    with _holds_lock:
        if _holds["held"] >= _holds["limit"]:
            return False
        _holds["held"] += 1
        return True


def _give_hold() -> None:
    with _holds_lock:
        _holds["held"] -= 1


def _never() -> bool:
    return False


def stop_holding() -> None:
    """The server is stopping: held polls answer now rather than hold up its exit."""
    _stopping.set()


def _changes_path() -> Path:
    return Path(settings.DATA_DIR) / "live-changes"


def _announce() -> None:
    """Tell held polls (in any process of this machine) that the revision moved."""
    with contextlib.suppress(OSError):  # they read the database every DB_EVERY anyway
        fd = os.open(
            _changes_path(),
            os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
        )
        try:
            os.write(fd, b".")
            if os.fstat(fd).st_size > _CHANGES_MAX:
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)


def _stamp() -> tuple[int, int]:
    try:
        info = os.stat(_changes_path(), follow_symlinks=False)
    except OSError:
        return (-1, -1)
    return (info.st_size, info.st_mtime_ns)


def bump() -> None:
    """Something a page shows changed: open pages re-fetch their live regions.

    Called inside the writer's transaction, the new value becomes visible with the data.
    """
    if not Revision.objects.filter(pk=1).update(value=F("value") + 1):
        # The migration made the row; a flushed test database has none.
        Revision.objects.get_or_create(pk=1, defaults={"value": 1})
    transaction.on_commit(_announce)


def wait_for_change(since: int, wait: float, gone: Callable[[], bool] = _never) -> int:
    """The revision, as soon as it differs from `since`, or after `wait` seconds.

    Returns at once when no hold is free (see `hold_at_most`), or when `gone()` says the
    client closed the connection.
    """
    stamp = _stamp()  # before reading: a change committed after the read moves the stamp
    now = revision()
    if now != since or wait <= 0 or _stopping.is_set() or not _take_hold():
        return now
    try:
        started = last_read = time.monotonic()
        while not _stopping.wait(LOOK_EVERY):
            at = time.monotonic()
            moved = _stamp()
            if moved != stamp or at - last_read >= DB_EVERY:
                stamp, last_read = moved, at
                now = revision()
                if now != since:
                    return now
            if at - started >= wait or gone():
                break
        return now
    finally:
        _give_hold()


def revision() -> int:
    """The current revision: one primary-key read, what every poll costs."""
    value = Revision.objects.filter(pk=1).values_list("value", flat=True).first()
    return value or 0


def bump_on_save(sender: object, **kwargs: Any) -> None:
    """post_save receiver for the rows pages show (Scan, Job)."""
    bump()


class RevisionMiddleware:
    """Reads the revision before the view reads anything else, for a page view.

    A page renders the revision it was built from into its poll (`request.revision`):
    read first, a change that lands while the view runs makes the next poll re-fetch,
    never one that is missed. htmx fragments, static files and the regions' own
    re-fetches do not need it and pay nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        headers = request.headers
        if (
            request.method == "GET"
            and "HX-Request" not in headers
            and LIVE_HEADER not in headers
            and not request.path.startswith(str(settings.STATIC_URL))
        ):
            cast(HtmxHttpRequest, request).revision = revision()
        return self.get_response(request)
