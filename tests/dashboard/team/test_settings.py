"""Team settings: members, API tokens shown once and stored hashed, revocation; file import."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dashboard.team.ingest import IngestError, authenticate_token
from dashboard.team.models import Member, MemberToken, Snapshot, TeamEnvironment
from tests.dashboard.team.factories import environment, snapshot


@pytest.mark.django_db
def test_settings_require_login(client: Client) -> None:
    assert client.get("/team/settings/").status_code == 302
    assert client.post("/team/settings/members/", {"name": "x"}).status_code == 302
    assert not Member.objects.exists()


@pytest.mark.django_db
def test_an_admin_adds_a_member(team_client: Client) -> None:
    response = team_client.post("/team/settings/members/", {"name": "alice"}, follow=True)
    assert Member.objects.get().name == "alice"
    assert "Added member alice." in response.content.decode()


@pytest.mark.django_db
def test_a_member_name_with_markup_is_refused(team_client: Client) -> None:
    team_client.post("/team/settings/members/", {"name": "<b>x</b>"})
    assert not Member.objects.exists()


@pytest.mark.django_db
def test_a_token_is_shown_once_and_stored_hashed(team_client: Client) -> None:
    alice = Member.objects.create(name="alice")
    response = team_client.post("/team/settings/tokens/", {"member": alice.pk, "label": "laptop"})
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    token = re.search(r'<code id="new-token">([^<]+)</code>', response.content.decode())
    assert token is not None
    row = MemberToken.objects.get()
    assert token.group(1) not in json.dumps(list(MemberToken.objects.values()), default=str)
    assert authenticate_token(f"Bearer {token.group(1)}") == alice
    again = team_client.get("/team/settings/").content.decode()
    assert token.group(1) not in again and row.prefix in again


@pytest.mark.django_db
def test_creating_a_token_needs_a_post_with_csrf(team_client: Client) -> None:
    alice = Member.objects.create(name="alice")
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = team_client.cookies
    assert strict.post("/team/settings/tokens/", {"member": alice.pk}).status_code == 403
    assert team_client.get("/team/settings/tokens/").status_code == 405
    assert not MemberToken.objects.exists()


@pytest.mark.django_db
def test_a_revoked_token_stops_working(team_client: Client) -> None:
    alice = Member.objects.create(name="alice")
    created = team_client.post("/team/settings/tokens/", {"member": alice.pk}).content.decode()
    token = re.search(r'<code id="new-token">([^<]+)</code>', created)
    assert token is not None
    row = MemberToken.objects.get()
    response = team_client.post(f"/team/settings/tokens/{row.pk}/revoke/", follow=True)
    assert "Revoked token" in response.content.decode()
    row.refresh_from_db()
    assert row.revoked_at is not None
    with pytest.raises(IngestError) as caught:
        authenticate_token(f"Bearer {token.group(1)}")
    assert caught.value.status == 403


def _upload(client: Client, member: Member, body: bytes) -> Any:
    return client.post(
        "/team/import/",
        {
            "member": member.pk,
            "snapshot": SimpleUploadedFile("snap.json", body, "application/json"),
        },
        follow=True,
    )


@pytest.mark.django_db
def test_importing_a_snapshot_file_stores_it(team_client: Client) -> None:
    alice = Member.objects.create(name="alice")
    response = _upload(team_client, alice, json.dumps(snapshot()).encode())
    assert "Imported the snapshot of laptop-1 (1 environments)." in response.content.decode()
    assert TeamEnvironment.objects.get().machine.member == alice


@pytest.mark.django_db
def test_importing_a_bad_file_stores_nothing(team_client: Client) -> None:
    alice = Member.objects.create(name="alice")
    bad = snapshot(environments=[environment("/a/.venv", packages={"<b>x</b>": "1"})])
    response = _upload(team_client, alice, json.dumps(bad).encode())
    assert "Snapshot refused: invalid snapshot:" in response.content.decode()
    assert not Snapshot.objects.exists()


@pytest.mark.django_db
def test_importing_an_oversized_file_is_refused(team_client: Client, settings: Any) -> None:
    settings.TEAM_MAX_SNAPSHOT_BYTES = 1024
    alice = Member.objects.create(name="alice")
    big = snapshot(environments=[environment(f"/a/{i}/.venv") for i in range(10)])
    response = _upload(team_client, alice, json.dumps(big).encode())
    assert "larger than the limit of 1024 bytes" in response.content.decode()
    assert not Snapshot.objects.exists()


@pytest.mark.django_db
def test_importing_needs_csrf(team_client: Client) -> None:
    alice = Member.objects.create(name="alice")
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = team_client.cookies
    assert _upload(strict, alice, json.dumps(snapshot()).encode()).status_code == 403
    assert not Snapshot.objects.exists()
