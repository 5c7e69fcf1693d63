"""Snapshot documents, HTTP helpers and login for the team tests (page, API, browser)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.test import Client

from dashboard.auth import SESSION_KEY, session_fingerprint

Snapshot = dict[str, Any]


def log_in(client: Client) -> Client:
    session = client.session
    session[SESSION_KEY] = session_fingerprint()
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key or ""
    return client


def environment(
    path: str,
    *,
    identity: str | None = "github.com/acme/app",
    packages: dict[str, str] | None = None,
    required: dict[str, str] | None = None,
    summary: str | None = "in-sync",
    counts: dict[str, int] | None = None,
    python: str = "3.11.7",
    requirements_hash: str = "a" * 64,
    broken_reason: str = "",
) -> dict[str, Any]:
    """One environment section of a snapshot, shaped like build_snapshot's."""
    packages = packages if packages is not None else {"alpha": "1.0", "beta": "2.0"}
    required = required if required is not None else {"alpha": "==1.0"}
    project = (
        {
            "identity": identity,
            "name": identity.rsplit("/", 1)[-1].removeprefix("dir:"),
            "requirements_hash": requirements_hash,
            "requirements_source": "requirements.txt",
            "requirements": [{"name": n, "specifier": s} for n, s in sorted(required.items())],
        }
        if identity
        else None
    )
    drift = (
        {
            "summary": summary,
            "counts": counts or {"ok": len(required)},
            "items": [
                {
                    "name": name,
                    "status": "ok",
                    "required": spec,
                    "installed_version": packages.get(name),
                }
                for name, spec in sorted(required.items())
            ],
            "untracked": [],
        }
        if summary and identity
        else None
    )
    return {
        "path": path,
        "name": path.rstrip("/").rsplit("/", 2)[-2] + "/.venv" if "/" in path else path,
        "kind": "venv",
        "python_version": python,
        "health": "broken" if broken_reason else "ok",
        "broken_reason": broken_reason,
        "project": project,
        "distributions": [
            {"name": name, "version": version, "source": "index"}
            for name, version in sorted(packages.items())
        ],
        "drift": drift,
    }


def snapshot(
    host: str = "laptop-1",
    *,
    user: str = "alice",
    when: datetime | None = None,
    environments: list[dict[str, Any]] | None = None,
) -> Snapshot:
    return {
        "schema_version": 1,
        "snapshot_id": uuid.uuid4().hex,
        "created_at": (when or datetime.now(UTC)).isoformat(timespec="microseconds"),
        "host": host,
        "user": user,
        "tool_version": "0.1.0",
        "environments": environments
        if environments is not None
        else [environment(f"/home/{user}/app/.venv")],
    }


def post_json(
    url: str, body: bytes | Snapshot, token: str | None, *, timeout: float = 30
) -> tuple[int, dict[str, Any]]:
    """A real HTTP POST with urllib: (status, JSON answer)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
