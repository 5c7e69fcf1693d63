"""Token login: every page needs a session, every API call a session or a bearer token.

A dashboard on localhost that runs pip is a target for any web page the user visits (DNS
rebinding, CSRF). So a random token is created at first start (file mode 0600) and the
printed URL carries it; `/login/?token=...` swaps it for a session cookie. Comparison is
constant-time. The team snapshot API authenticates with member tokens of its own.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse

__all__ = [
    "SESSION_KEY",
    "LoginRequiredMiddleware",
    "bearer_token",
    "login_token",
    "token_matches",
]

SESSION_KEY = "envdash_authenticated"
TOKEN_FILE_NAME = "token"  # noqa: S105 - a file name, not a secret

#: Paths reachable without a session: the login page, static files, and the team API
#: (which checks member tokens itself).
_OPEN_PREFIXES = ("/login/", "/static/", "/api/snapshots")


def _token_file() -> Path:
    return Path(settings.DATA_DIR) / TOKEN_FILE_NAME


def login_token() -> str:
    """ENVDASH_TOKEN if set, else the token file's content (created once, mode 0600)."""
    if settings.FIXED_TOKEN:
        return str(settings.FIXED_TOKEN)
    path = _token_file()
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        token = secrets.token_urlsafe(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # the worker or another server process made it first
            return path.read_text(encoding="ascii").strip()
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(token)
        return token


def token_matches(candidate: str) -> bool:
    """Constant-time comparison (never short-circuits on the first differing byte)."""
    expected = login_token()
    return bool(candidate) and hmac.compare_digest(
        candidate.encode("utf-8", "surrogateescape"), expected.encode("utf-8")
    )


def bearer_token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _is_api(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return request.path.startswith("/api/") or (
        "application/json" in accept and "text/html" not in accept
    )


class LoginRequiredMiddleware:
    """Lets a request through only with a session or a valid bearer token."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(_OPEN_PREFIXES) or request.session.get(SESSION_KEY):
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
        login_url = "/login/?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request"):
            # htmx would swap the login page into a fragment; make it navigate instead.
            response = HttpResponse(status=401)
            response["HX-Redirect"] = login_url
            return response
        return HttpResponseRedirect(login_url)
