"""Who may see the team pages: a logged-in dashboard session (the API uses member tokens)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from dashboard.auth import has_session, login_url_for

__all__ = ["login_required"]


View = Callable[..., HttpResponse]


def login_required(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not has_session(request):
            return HttpResponseRedirect(login_url_for(request))
        return view(request, *args, **kwargs)

    return wrapped
