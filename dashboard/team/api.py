"""`POST /api/snapshots`: members' dashboards push their machine's snapshot here.

Authenticated by a per-member bearer token (no session, so no CSRF); every refusal is a
4xx JSON `{"error": "<one line>"}` and stores nothing.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dashboard.team.conf import max_snapshot_bytes
from dashboard.team.ingest import IngestError, authenticate_token, store_snapshot
from dashboard.text import is_number
from envcore.errors import SnapshotError
from envcore.snapshot import parse_snapshot

__all__ = ["snapshots"]


def _error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="envdash team"'
    return response


def _read_body(request: HttpRequest, limit: int) -> bytes:
    """The body, refused by its declared length before any of it is read when too big."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if not is_number(declared):
        raise IngestError(411, "send the snapshot with a Content-Length header")
    if int(declared) > limit:
        raise IngestError(413, f"snapshot is larger than the server's limit of {limit} bytes")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise IngestError(413, f"snapshot is larger than the server's limit of {limit} bytes")
    return body


@login_not_required  # member tokens, checked here
@csrf_exempt
@require_POST
def snapshots(request: HttpRequest) -> JsonResponse:
    try:
        member = authenticate_token(request.headers.get("Authorization", ""))
        content_type = request.content_type or ""
        if content_type != "application/json":
            raise IngestError(415, "send the snapshot as Content-Type: application/json")
        data = parse_snapshot(_read_body(request, max_snapshot_bytes()))
        stored = store_snapshot(member, data)
    except IngestError as exc:
        return _error(exc.status, exc.message)
    except SnapshotError as exc:
        return _error(400, str(exc))
    return JsonResponse(
        {
            "stored": stored.snapshot_id,
            "host": stored.host,
            "environments": stored.environments,
        },
        status=201,
    )
