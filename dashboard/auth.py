"""Token login: every page needs a session, every API call a session or a bearer token.

A dashboard on localhost that runs pip is a target for any web page the user visits (DNS
rebinding, CSRF). So a random token is created at first start (file mode 0600) and the
printed URL carries it; `/login/?token=...` swaps it for a session cookie. Comparison is
constant-time. Views anyone may reach (the login page, static files, the team snapshot API,
which authenticates with member tokens of its own) carry Django's `login_not_required`.

Sessions live in the database and carry a fingerprint of the token they were opened with:
logging out deletes every session, and a new token invalidates every old one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django_htmx.middleware import HtmxDetails

from dashboard.envvars import secret_file

__all__ = [
    "SESSION_KEY",
    "LoginRequiredMiddleware",
    "bearer_token",
    "end_all_sessions",
    "has_session",
    "login_token",
    "login_url_for",
    "name_cookies_for_port",
    "open_session",
    "session_fingerprint",
    "token_matches",
]

SESSION_KEY = "envdash_authenticated"
TOKEN_FILE_NAME = "token"  # noqa: S105 - a file name, not a secret


def _token_file() -> Path:
    return Path(settings.DATA_DIR) / TOKEN_FILE_NAME


def login_token() -> str:
    """ENVDASH_TOKEN if set, else the token file's content (created once, mode 0600)."""
    if settings.FIXED_TOKEN:
        return str(settings.FIXED_TOKEN)
    return secret_file(_token_file(), 32)


def token_matches(candidate: str) -> bool:
    """Constant-time comparison (never short-circuits on the first differing byte)."""
    expected = login_token()
    return bool(candidate) and hmac.compare_digest(
        candidate.encode("utf-8", "surrogateescape"), expected.encode("utf-8")
    )


def session_fingerprint() -> str:
    """What a session must hold to count: an HMAC of the current token.

    Derived from the token (not a flag), so replacing the token ends every session at once
    without any bookkeeping; keyed with SECRET_KEY so the database never holds the token.
    """
    return hmac.new(
        settings.SECRET_KEY.encode("utf-8"),
        b"envdash-session\0" + login_token().encode("utf-8"),
        hashlib.sha256,
    ).hexdigest()


def open_session(session: SessionBase) -> None:
    """Log the session in (a fresh key, so a key planted before login is worthless)."""
    session.cycle_key()
    session[SESSION_KEY] = session_fingerprint()


def has_session(request: HttpRequest) -> bool:
    held = request.session.get(SESSION_KEY)
    return isinstance(held, str) and hmac.compare_digest(held, session_fingerprint())


def end_all_sessions() -> None:
    """Logout means every browser, and every copy of a cookie, is logged out."""
    Session.objects.all().delete()


def name_cookies_for_port(port: int) -> None:
    """Cookies ignore ports: give each dashboard its own cookie names, or two envdash (or
    any other app) on 127.0.0.1 overwrite, and receive, each other's cookies.

    Called by `serve` once it knows the port it really listens on (`--port 0` included),
    before it answers any request; Django reads these names on every request.
    """
    settings.SESSION_COOKIE_NAME = f"envdash_session_{port}"
    settings.CSRF_COOKIE_NAME = f"envdash_csrftoken_{port}"


def bearer_token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _is_api(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return request.path.startswith("/api/") or (
        "application/json" in accept and "text/html" not in accept
    )


def login_url_for(request: HttpRequest) -> str:
    """The login page, coming back to this request's page once logged in."""
    return "/login/?" + urlencode({"next": request.get_full_path()})


def _is_open(request: HttpRequest) -> bool:
    """Whether the view the path leads to is marked `login_not_required` (as Django's own
    LoginRequiredMiddleware reads it); an unknown path is not open."""
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        return False
    return not getattr(view, "login_required", True)


class LoginRequiredMiddleware:
    """Lets a request through only with a session or a valid bearer token, unless its view
    is marked `login_not_required`.

    Decided before any other middleware's view processing (CSRF included), so a request
    without credentials always gets the login answer, never a CSRF refusal.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The URL match first: it is in memory, the session costs a query and a file read.
        if _is_open(request) or has_session(request):
            return self.get_response(request)
        if (token := bearer_token(request)) and token_matches(token):
            return self.get_response(request)
        if _is_api(request) or request.headers.get("Authorization"):
            response: HttpResponse = JsonResponse(
                {"error": "authentication required: log in or send Authorization: Bearer"},
                status=401,
            )
            response["WWW-Authenticate"] = 'Bearer realm="envdash"'
            return response
        login_url = login_url_for(request)
        if HtmxDetails(request):  # request.htmx is set by a later middleware
            # htmx would swap the login page into a fragment; make it navigate instead.
            response = HttpResponse(status=401)
            response["HX-Redirect"] = login_url
            return response
        return HttpResponseRedirect(login_url)
