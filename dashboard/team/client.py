"""Push a snapshot to a team server over HTTP (urllib), with one-line errors a user can act on."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

__all__ = ["PushError", "push_snapshot_document", "snapshots_endpoint"]

API_PATH = "/api/snapshots"


class PushError(Exception):
    """The team server could not be reached or refused the snapshot; str() is one line."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is a failure, never followed.

    urllib would resend the bearer token to whatever host the answer names, and turn the
    POST into a GET whose 200 looked like a stored snapshot.
    """

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def snapshots_endpoint(url: str) -> str:
    """The API URL for a team server's base URL (or the API URL itself)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PushError(f"team server URL must start with http:// or https://, not {url!r}")
    base = url.strip().rstrip("/")
    return base if base.endswith(API_PATH) else base + API_PATH


def push_snapshot_document(
    url: str, token: str, document: dict[str, Any] | bytes, *, timeout: float = 30
) -> dict[str, Any]:
    """POST the snapshot; returns the server's JSON answer or raises PushError."""
    if not token:
        raise PushError("no API token: pass --token or set ENVDASH_TEAM_TOKEN")
    endpoint = snapshots_endpoint(url)
    body = document if isinstance(document, bytes) else json.dumps(document).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked to be http(s) above
        endpoint,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {token}",
        },
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            where = " ".join((exc.headers.get("Location") or "elsewhere").split())[:200]
            raise PushError(
                f"{endpoint}: {exc.code} redirect to {where}; envdash follows no redirects, "
                "so set the team server URL to the address that answers"
            ) from exc
        raise PushError(f"{endpoint}: {exc.code} {_reason(exc)}") from exc
    except urllib.error.URLError as exc:
        raise PushError(f"cannot reach {endpoint}: {exc.reason}") from exc
    except (TimeoutError, OSError) as exc:
        raise PushError(f"cannot reach {endpoint}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise PushError(f"{endpoint} did not answer with JSON; is it an envdash server?") from exc
    return answer if isinstance(answer, dict) else {}


def _reason(error: urllib.error.HTTPError) -> str:
    """The server's {"error": ...} line when there is one, else the HTTP reason."""
    try:
        payload = json.loads(error.read(4096) or b"{}")
    except (json.JSONDecodeError, OSError, ValueError):
        payload = {}
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        return " ".join(payload["error"].split())[:300]
    return str(error.reason)
