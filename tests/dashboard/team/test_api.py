"""POST /api/snapshots: member tokens, validation, limits, duplicates, newest wins, atomicity."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dashboard.team.models import (
    Machine,
    Member,
    MemberToken,
    ProjectReport,
    Snapshot,
    TeamEnvironment,
    TeamProject,
)
from tests.dashboard.team.factories import environment, snapshot

URL = "/api/snapshots"
MakeToken = Callable[[str], tuple[Member, str]]


def post(client: Client, body: Any, token: str | None, **extra: Any) -> Any:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post(
        URL,
        data=data,
        content_type=extra.pop("content_type", "application/json"),
        headers=headers,
        **extra,
    )


def stored_nothing() -> bool:
    return not (
        Snapshot.objects.exists()
        or TeamEnvironment.objects.exists()
        or ProjectReport.objects.exists()
        or TeamProject.objects.exists()
    )


@pytest.mark.django_db
def test_it_stores_a_valid_snapshot(client: Client, member_token: MakeToken) -> None:
    alice, token = member_token("alice")
    doc = snapshot(
        environments=[environment("/a/app/.venv"), environment("/a/other/.venv", identity=None)]
    )
    response = post(client, doc, token)
    assert response.status_code == 201
    assert response.json() == {"stored": doc["snapshot_id"], "host": "laptop-1", "environments": 2}
    machine = Machine.objects.get()
    assert (machine.host, machine.member, machine.user) == ("laptop-1", alice, "alice")
    assert TeamEnvironment.objects.count() == 2
    env = TeamEnvironment.objects.get(path="/a/app/.venv")
    assert env.project is not None and env.project.identity == "github.com/acme/app"
    assert env.status == "in-sync"
    assert env.packages == [["alpha", "1.0", "index"], ["beta", "2.0", "index"]]
    assert env.required == {"alpha": "==1.0"}
    assert ProjectReport.objects.get().environments == 1
    assert MemberToken.objects.get().last_used_at is not None


@pytest.mark.django_db
def test_it_requires_a_token(client: Client) -> None:
    response = post(client, snapshot(), None)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "missing API token" in response.json()["error"]
    assert stored_nothing()


@pytest.mark.django_db
def test_it_rejects_a_wrong_token(client: Client, member_token: MakeToken) -> None:
    _, token = member_token("alice")
    response = post(client, snapshot(), token + "x")
    assert response.status_code == 401
    assert response.json() == {"error": "unknown API token"}
    assert stored_nothing()


@pytest.mark.django_db
def test_it_rejects_a_revoked_token(client: Client, member_token: MakeToken) -> None:
    _, token = member_token("alice")
    MemberToken.objects.update(revoked_at=timezone.now())
    response = post(client, snapshot(), token)
    assert response.status_code == 403
    assert "revoked" in response.json()["error"]
    assert stored_nothing()


@pytest.mark.django_db
def test_tokens_are_stored_hashed(member_token: MakeToken) -> None:
    _, token = member_token("alice")
    row = MemberToken.objects.get()
    assert token not in (row.digest, row.prefix)
    assert len(row.digest) == 64 and token.startswith(row.prefix)


@pytest.mark.django_db
def test_one_member_cannot_overwrite_anothers_machine(
    client: Client, member_token: MakeToken
) -> None:
    _, alice = member_token("alice")
    _, bob = member_token("bob")
    first = snapshot(environments=[environment("/home/alice/app/.venv")])
    assert post(client, first, alice).status_code == 201
    hijack = snapshot(when=datetime.now(UTC) + timedelta(minutes=1), environments=[])
    response = post(client, hijack, bob)
    assert response.status_code == 403
    assert response.json() == {"error": "machine laptop-1 belongs to another member"}
    assert list(TeamEnvironment.objects.values_list("path", flat=True)) == ["/home/alice/app/.venv"]
    assert Snapshot.objects.count() == 1


@pytest.mark.django_db
def test_a_newer_snapshot_replaces_the_machines_environments(
    client: Client, member_token: MakeToken
) -> None:
    _, token = member_token("alice")
    now = datetime.now(UTC)
    assert post(client, snapshot(when=now - timedelta(hours=1)), token).status_code == 201
    newer = snapshot(
        when=now, environments=[environment("/x/app/.venv", packages={"alpha": "2.0"})]
    )
    assert post(client, newer, token).status_code == 201
    env = TeamEnvironment.objects.get()
    assert (env.path, env.packages) == ("/x/app/.venv", [["alpha", "2.0", "index"]])
    assert Snapshot.objects.count() == 2
    assert ProjectReport.objects.count() == 2


@pytest.mark.django_db
def test_an_older_snapshot_is_refused(client: Client, member_token: MakeToken) -> None:
    _, token = member_token("alice")
    now = datetime.now(UTC)
    assert post(client, snapshot(when=now), token).status_code == 201
    response = post(client, snapshot(when=now - timedelta(minutes=5)), token)
    assert response.status_code == 409
    assert "a newer snapshot of laptop-1 is already stored" in response.json()["error"]
    assert Snapshot.objects.count() == 1


@pytest.mark.django_db
def test_a_duplicate_is_refused(client: Client, member_token: MakeToken) -> None:
    _, token = member_token("alice")
    doc = snapshot()
    assert post(client, doc, token).status_code == 201
    response = post(client, doc, token)
    assert response.status_code == 409
    assert response.json() == {"error": "this snapshot of laptop-1 was already received"}
    assert Snapshot.objects.count() == 1


HOSTILE_CASES: list[tuple[str, Any, int, str]] = [
    ("bad JSON", b'{"schema_version": 1,', 400, "not valid JSON"),
    ("not an object", b"[1, 2]", 400, "must be a JSON object"),
    (
        "wrong version",
        {**snapshot(), "schema_version": 99},
        400,
        "unsupported snapshot schema version 99",
    ),
    ("wrong type", {**snapshot(), "environments": {"a": 1}}, 400, "environments: must be array"),
    ("huge string", {**snapshot(), "user": "u" * 200_000}, 400, "user: longer than 64 characters"),
    (
        "HTML in a package name",
        snapshot(environments=[environment("/a/.venv", packages={"<script>x</script>": "1.0"})]),
        400,
        "name: contains characters",
    ),
    (
        "path traversal in a package name",
        snapshot(environments=[environment("/a/.venv", packages={"../../etc/passwd": "1.0"})]),
        400,
        "name: contains characters",
    ),
    (
        "path traversal in a project identity",
        snapshot(environments=[environment("/a/.venv", identity="github.com/../../etc")]),
        400,
        "identity: contains characters",
    ),
    ("HTML in a host", {**snapshot(), "host": "<b>evil</b>"}, 400, "host: contains characters"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status", "message"), [pytest.param(*case[1:], id=case[0]) for case in HOSTILE_CASES]
)
def test_it_refuses_malformed_and_hostile_snapshots(
    client: Client, member_token: MakeToken, body: Any, status: int, message: str
) -> None:
    _, token = member_token("alice")
    response = post(client, body, token)
    assert response.status_code == status
    error = response.json()["error"]
    assert message in error
    assert "\n" not in error and len(error) < 300
    assert stored_nothing()
    assert not Machine.objects.exists()


@pytest.mark.django_db
def test_it_refuses_an_oversized_body_by_its_declared_length(
    client: Client, member_token: MakeToken, settings: Any
) -> None:
    settings.TEAM_MAX_SNAPSHOT_BYTES = 2048
    _, token = member_token("alice")
    big = snapshot(environments=[environment(f"/a/{i}/.venv") for i in range(20)])
    response = post(client, big, token)
    assert response.status_code == 413
    assert response.json() == {"error": "snapshot is larger than the server's limit of 2048 bytes"}
    assert stored_nothing()


@pytest.mark.django_db
def test_it_refuses_other_content_types(client: Client, member_token: MakeToken) -> None:
    _, token = member_token("alice")
    response = post(client, json.dumps(snapshot()), token, content_type="text/plain")
    assert response.status_code == 415
    assert stored_nothing()


@pytest.mark.django_db
def test_it_rejects_get(client: Client) -> None:
    assert client.get(URL).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_a_failure_half_way_stores_nothing(
    client: Client, member_token: MakeToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Break the last write of a push: the machine, snapshot and environments roll back."""
    _, token = member_token("alice")

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ProjectReport.objects, "bulk_create", fail)
    client.raise_request_exception = False
    response = post(client, snapshot(), token)
    assert response.status_code == 500
    assert stored_nothing()
    assert not Machine.objects.exists()
