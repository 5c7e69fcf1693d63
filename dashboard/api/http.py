"""The JSON API's request and response plumbing: one-line JSON errors, the method and
authentication rules every API view states in its decorator, and strict JSON bodies.

Reads accept the session or the Bearer token (LoginRequiredMiddleware has let the request
through with one of them); writes need the Bearer token itself, so a page on another site
can never make a logged-in browser start a job (a cookie alone is refused before CSRF is
even a question, which is why the views may be csrf-exempt).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from dashboard.auth import bearer_token, token_matches
from dashboard.text import is_number

__all__ = ["MAX_BODY_BYTES", "ApiError", "api_view", "error", "json_body", "number"]

#: Far more than any job's parameters; a bigger body is refused unread.
MAX_BODY_BYTES = 64 * 1024
#: The largest id or cursor a query accepts (a bigint column's range).
MAX_ID = 2**63 - 1

View = Callable[..., HttpResponse]


class ApiError(Exception):
    """A refusal: the HTTP status and the one-line reason the client gets as JSON."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="envdash"'
    return response


def _has_valid_bearer(request: HttpRequest) -> bool:
    token = bearer_token(request)
    return bool(token) and token_matches(token)


def api_view(*methods: str, write: bool = False) -> Callable[[View], View]:
    """An API view answering `methods` (else JSON 405 with Allow); `write` ones need the
    Bearer token. A wrong Authorization header is refused even beside a valid session."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                allowed = " or ".join(methods)
                response = error(405, f"{request.method} is not allowed here; use {allowed}")
                response["Allow"] = ", ".join(methods)
                return response
            if request.headers.get("Authorization") and not _has_valid_bearer(request):
                return error(401, "that Bearer token is not valid; use the token envdash prints")
            if write and request.method == "POST" and not _has_valid_bearer(request):
                return error(
                    401, "API writes need Authorization: Bearer <token>; a session is not enough"
                )
            if any("\x00" in value for value in request.GET.values()):
                # PostgreSQL refuses NUL in text: a filter holding one can match nothing.
                return error(400, "a query parameter holds a NUL character")
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                return error(exc.status, exc.message)

        # Writes are refused above without the Bearer token, which no other site can send.
        return csrf_exempt(wrapper)

    return decorate


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object; an empty body is an empty object. ApiError otherwise:
    415 for another content type, 413 past MAX_BODY_BYTES, 400 for anything not a JSON
    object."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if is_number(declared) and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    if not body.strip():
        return {}
    if request.content_type != "application/json":
        raise ApiError(415, "send the body as Content-Type: application/json")
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "the body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"the body is not JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise ApiError(400, "the body is not JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def number(raw: str, name: str) -> int:
    """A non-negative integer from a query parameter, or ApiError 400 naming it."""
    if not is_number(raw) or int(raw) > MAX_ID:
        raise ApiError(400, f"{name} must be a whole number (0 or more)")
    return int(raw)
