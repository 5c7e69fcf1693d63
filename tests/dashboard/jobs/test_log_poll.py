"""The job log's poll: what it appends to the log is the new lines and nothing else."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from dashboard.jobs.models import Job, JobLine
from dashboard.models import Environment
from tests.dashboard.conftest import log_in

pytestmark = pytest.mark.django_db

POLL = {"HX-Request": "true", "HX-Target": "job-log"}


def _appended(body: str) -> str:
    """What htmx's `beforeend` adds to the <pre>: the answer without its oob elements."""
    cursor = body.index('<input type="hidden" id="log-cursor"')
    tail = body[cursor:]
    assert tail.count('hx-swap-oob="true"') == 2, tail
    assert tail.rstrip().endswith("</div>"), tail
    # Nothing may sit between the oob elements either: text there lands in the log.
    assert re.fullmatch(r"<input[^>]*>(<div id=\"job-state\".*</div>)", tail, re.DOTALL), tail
    return body[:cursor]


@pytest.fixture
def running(db: None) -> Job:
    env = Environment.objects.create(
        path="/envs/app/.venv",
        name="app/.venv",
        kind="venv",
        first_seen="2026-01-01T00:00Z",
        last_seen="2026-01-01T00:00Z",
        last_scanned="2026-01-01T00:00Z",
        last_changed="2026-01-01T00:00Z",
    )
    return Job.objects.create(kind="install", environment=env, env_path=env.path, state="running")


def test_a_quiet_poll_appends_nothing_not_even_a_newline(running: Job) -> None:
    client = log_in(Client())
    body = client.get(f"/jobs/{running.pk}/", {"after": "0"}, headers=POLL).content.decode()
    assert _appended(body) == ""


def test_each_new_line_is_appended_once_with_one_newline(running: Job) -> None:
    JobLine.objects.bulk_create(
        JobLine(job=running, seq=seq, stream="stdout", text=f"line {seq}") for seq in (1, 2)
    )
    client = log_in(Client())
    body = client.get(f"/jobs/{running.pk}/", {"after": "0"}, headers=POLL).content.decode()
    assert _appended(body) == (
        '<span class="log-stdout">line 1</span>\n<span class="log-stdout">line 2</span>\n'
    )
    running.state = "succeeded"
    running.save()
    last = client.get(f"/jobs/{running.pk}/", {"after": "2"}, headers=POLL)
    assert last.status_code == 286  # finished and nothing new: the poll stops
    assert _appended(last.content.decode()) == ""
