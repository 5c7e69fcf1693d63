"""Who may see the team pages: a logged-in dashboard session (the API uses member tokens)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from dashboard.auth import has_session

__all__ = ["login_required"]


View = Callable[..., HttpResponse]


def login_required(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not has_session(request):
            return HttpResponseRedirect("/login/?" + urlencode({"next": request.get_full_path()}))
        return view(request, *args, **kwargs)

    return wrapped
