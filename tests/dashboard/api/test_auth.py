"""Who may call the API: reads with the Bearer token or the session, writes only with the
Bearer token (no CSRF token needed, and a session cookie alone starts nothing); the pages'
Host checks; JSON answers for unknown paths and methods."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from dashboard.auth import login_token
from dashboard.jobs.models import Job
from tests.dashboard.api.conftest import ApiClient, conforms
from tests.dashboard.conftest import log_in, row
from tests.trees import Tree

pytestmark = pytest.mark.django_db

WRITES = [
    ("/api/jobs", {"kind": "install", "environment": 1, "specs": "alpha"}),
    ("/api/scan", {}),
    ("/api/environments/1/rescan", None),
    ("/api/environments/1/check-updates", None),
    ("/api/jobs/1/cancel", None),
    ("/api/jobs/1/retry", {}),
]
READS = ["/api/environments", "/api/projects", "/api/jobs", "/api/scan"]


def _post(client: Client, path: str, body: object, host: str = "", **headers: str) -> Any:
    data = b"" if body is None else json.dumps(body).encode()
    extra: dict[str, Any] = {"HTTP_HOST": host} if host else {}
    return client.post(path, data, content_type="application/json", headers=headers, **extra)


def _refused(response: Any, path: str, method: str) -> str:
    data = conforms(response, method, path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="envdash"'
    return str(data["error"])


@pytest.mark.parametrize("path", READS)
def test_reads_need_a_token_or_a_session(path: str) -> None:
    _refused(Client().get(path), path, "GET")
    wrong = Client().get(path, headers={"Authorization": "Bearer not-the-token"})
    _refused(wrong, path, "GET")
    assert log_in(Client()).get(path).status_code == 200
    assert Client().get(path, headers={"Authorization": f"Bearer {login_token()}"}).status_code == (
        200
    )


def test_a_wrong_token_is_refused_even_beside_a_session() -> None:
    response = log_in(Client()).get(
        "/api/environments", headers={"Authorization": "Bearer not-the-token"}
    )
    assert "not valid" in _refused(response, "/api/environments", "GET")


@pytest.mark.parametrize(("path", "body"), WRITES)
def test_writes_need_the_bearer_token_a_session_cookie_alone_starts_nothing(
    scanned: Tree, path: str, body: object
) -> None:
    env = row(scanned.in_sync)
    path = path.replace("/1/", f"/{env.pk}/") if "environments" in path else path
    if isinstance(body, dict) and "environment" in body:
        body = {**body, "environment": env.pk}
    tasks_before = DBTaskResult.objects.count()
    for client, headers in [
        (Client(), {}),
        (Client(), {"Authorization": "Bearer not-the-token"}),
        (Client(), {"Authorization": f"Basic {login_token()}"}),
        (log_in(Client()), {}),  # the session, with CSRF not even enforced
        (log_in(Client(enforce_csrf_checks=True)), {}),
    ]:
        _refused(_post(client, path, body, **headers), path, "POST")
    assert not Job.objects.exists()
    assert DBTaskResult.objects.count() == tasks_before  # nothing queued


def test_the_session_alone_is_told_to_send_the_token(db: None) -> None:
    response = _post(log_in(Client()), "/api/scan", {})
    assert _refused(response, "/api/scan", "POST") == (
        "API writes need Authorization: Bearer <token>; a session is not enough"
    )


def test_a_bearer_write_needs_no_csrf_token(scanned: Tree, api: ApiClient) -> None:
    # `api` enforces CSRF as a browser would, and sends no CSRF cookie or header.
    env = row(scanned.in_sync)
    status, job = api.post("/api/jobs", {"kind": "install", "environment": env.pk, "specs": "x"})
    assert status == 201 and Job.objects.get().pk == job["id"]


def test_the_host_header_is_checked_as_for_the_pages() -> None:
    bearer = {"Authorization": f"Bearer {login_token()}"}
    rebound = Client().get("/api/environments", headers=bearer, HTTP_HOST="evil.example")
    assert rebound.status_code == 400
    assert rebound.json() == {
        "error": "this dashboard does not answer to that Host header (ENVDASH_ALLOWED_HOSTS)"
    }
    response = _post(Client(), "/api/scan", {}, "evil.example", **bearer)
    assert response.status_code == 400
    assert not DBTaskResult.objects.exists()


def test_unknown_paths_and_methods_answer_json(api: ApiClient) -> None:
    bearer = api.headers
    missing = Client().get("/api/nothing/here", headers=bearer)
    assert missing.status_code == 404
    assert missing.json() == {"error": "no API endpoint /api/nothing/here; see /api/openapi.json"}
    assert Client().get("/api/nothing").status_code == 401  # no token: no answer either way
    wrong = Client().delete("/api/environments", headers=bearer)
    assert wrong.status_code == 405 and wrong["Allow"] == "GET"
    assert wrong.json() == {"error": "DELETE is not allowed here; use GET"}
    put = Client().put("/api/jobs", headers=bearer)
    assert put.status_code == 405 and put["Allow"] == "GET, POST"
    assert put.json() == {"error": "PUT is not allowed here; use GET or POST"}
    get_a_write = Client().get("/api/environments/1/rescan", headers=bearer)
    assert get_a_write.status_code == 405 and get_a_write["Allow"] == "POST"
    assert get_a_write["Content-Type"] == "application/json"


def test_the_team_snapshot_api_is_still_its_own(db: None) -> None:
    # /api/snapshots is the team app's (member tokens), not caught by the API's 404.
    response = Client().post("/api/snapshots", b"{}", content_type="application/json")
    assert response.status_code == 401
    assert "member" in response.json()["error"] or "token" in response.json()["error"]
