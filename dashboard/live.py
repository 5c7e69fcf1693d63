"""Pages that update themselves: one counter (the revision) is raised by every change a
page shows, and open pages poll it (base.html's `#live`, every 2 s) to re-fetch their
live regions when it moved. A page opts in by marking a region `data-live` (it needs an
id): static/js/envdash.js then fetches the page's URL again and swaps each region whose
HTML changed, keeping focus, scroll positions and what the user typed.

What raises it: a scan starting or finishing (every environment a scan changed, found or
lost, is in place by then), a scan queued, a job created, claimed or ended, an update
check stored. Log lines and heartbeats do not: the job page polls its own log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.db.models import F
from django.http import HttpRequest, HttpResponse

from dashboard.http import HtmxHttpRequest
from dashboard.models import Revision

__all__ = ["LIVE_HEADER", "RevisionMiddleware", "bump", "bump_on_save", "revision"]

#: Sent by envdash.js when it re-fetches a page for its regions (base.html then leaves
#: pending messages for the next real page view).
LIVE_HEADER = "X-Envdash-Live"


def bump() -> None:
    """Something a page shows changed: open pages re-fetch their live regions.

    Called inside the writer's transaction, the new value becomes visible with the data.
    """
    if not Revision.objects.filter(pk=1).update(value=F("value") + 1):
        # The migration made the row; a flushed test database has none.
        Revision.objects.get_or_create(pk=1, defaults={"value": 1})


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
