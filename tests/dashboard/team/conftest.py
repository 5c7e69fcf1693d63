"""Fixtures of the team tests: members with tokens, snapshot documents, a logged-in client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from django.conf import settings
from django.test import Client

from dashboard.team.ingest import issue_token
from dashboard.team.models import Member
from tests.dashboard.team.factories import log_in


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A file SQLite test database: the live-server tests write from several threads at once,
    and SQLite's shared in-memory database answers "table is locked" instead of waiting."""
    database = settings.DATABASES["default"]
    if str(database["ENGINE"]).endswith("sqlite3"):
        path = tmp_path_factory.mktemp("team-db") / "test.sqlite3"
        current = cast(dict[str, Any], database.get("TEST") or {})
        database["TEST"] = {**current, "NAME": str(path)}


@pytest.fixture
def team_client(client: Client) -> Client:
    return log_in(client)


@pytest.fixture
def member_token(db: None) -> Callable[[str], tuple[Member, str]]:
    """Create a member (or reuse one by name) and a fresh API token for it."""

    def make(name: str) -> tuple[Member, str]:
        member, _ = Member.objects.get_or_create(name=name)
        return member, issue_token(member)

    return make
