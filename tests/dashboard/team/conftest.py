"""Fixtures of the team tests: members with tokens, snapshot documents, a logged-in client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from dashboard.team.ingest import issue_token
from dashboard.team.models import Member
from tests.dashboard.team.factories import log_in


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
