"""Destructive jobs ask first on a page of their own: with a plain POST (no JavaScript),
nothing is queued until the confirmation's own POST comes back."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from dashboard.jobs.models import Job
from tests.dashboard.conftest import row
from tests.trees import Tree


@pytest.mark.parametrize(
    ("kind", "data", "carried"),
    [
        ("delete", {}, {}),
        ("uninstall", {"name": "alpha"}, {"name": "alpha"}),
        ("sync", {"remove_untracked": "1"}, {"remove_untracked": "1"}),
    ],
)
def test_a_destructive_post_answers_a_confirmation_and_queues_nothing(
    scanned: Tree, user: Client, kind: str, data: dict[str, str], carried: dict[str, str]
) -> None:
    env = row(scanned.drifted)
    url = f"/environments/{env.pk}/jobs/{kind}/"
    page = user.post(url, data)
    assert page.status_code == 200
    body = page.content.decode()
    assert f"Yes, {kind} it" in body
    assert not Job.objects.exists()
    form = re.search(r'<form id="confirm-form".*?</form>', body, re.DOTALL)
    assert form is not None
    for name, value in carried.items():
        assert f'<input type="hidden" name="{name}" value="{value}">' in form.group(0)
    answer = user.post(url, {**data, "confirmed": "1"})
    job = Job.objects.get()
    assert answer["Location"] == f"/jobs/{job.pk}/"
    assert job.kind == kind


def test_a_sync_that_removes_nothing_needs_no_confirmation(scanned: Tree, user: Client) -> None:
    env = row(scanned.drifted)
    answer = user.post(f"/environments/{env.pk}/jobs/sync/")
    job = Job.objects.get()
    assert answer["Location"] == f"/jobs/{job.pk}/"
    assert job.params["remove_untracked"] is False
