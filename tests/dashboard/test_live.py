"""Live pages: the revision every change raises, the poll that reads it, what pages render."""

from __future__ import annotations

import re
from pathlib import Path

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from dashboard import tasks
from dashboard.jobs.models import Job
from dashboard.live import LIVE_HEADER, bump, revision
from dashboard.models import Scan
from dashboard.scanning import scan_environment
from tests.dashboard.conftest import row
from tests.trees import Tree

PAGE = {"Accept": "text/html"}


def _since(body: str) -> int:
    match = re.search(r'<div id="live" hidden hx-get="/live/\?since=(\d+)"', body)
    assert match, body
    return int(match.group(1))


def test_the_poll_answers_204_until_the_revision_moves(db: None, user: Client) -> None:
    now = revision()
    with CaptureQueriesContext(connection) as idle:
        quiet = user.get("/live/", {"since": now}, HTTP_HX_REQUEST="true")
    assert quiet.status_code == 204 and quiet.content == b""
    # The session and the revision: nothing else while nothing happens.
    assert len(idle.captured_queries) == 2, [q["sql"] for q in idle.captured_queries]
    bump()
    moved = user.get("/live/", {"since": now}, HTTP_HX_REQUEST="true")
    assert moved.status_code == 200
    assert moved["HX-Trigger"] == "envdash:changed"
    assert _since(moved.content.decode()) == now + 1


def test_the_poll_needs_a_session(db: None, client: Client) -> None:
    response = client.get("/live/", {"since": "0"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith("/login/")


def test_a_page_polls_from_the_revision_it_was_built_from(scanned: Tree, user: Client) -> None:
    page = user.get("/", headers=PAGE).content.decode()
    assert _since(page) == revision()
    assert "data-live" in page
    # A fragment (htmx) carries no poll of its own: the page's poll is still there.
    fragment = user.get(
        "/environments/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="env-table"
    ).content.decode()
    assert 'id="live"' not in fragment and "data-live" in fragment


def test_scans_jobs_and_queued_scans_raise_the_revision(scanned: Tree, user: Client) -> None:
    env = row(scanned.drifted)
    before = revision()
    scan_environment(env.path)  # started and finished
    assert revision() == before + 2
    Job.objects.create(kind="install", environment=env, env_path=env.path)
    assert revision() == before + 3
    user.post(reverse("rescan"))  # queued: pages say "Scanning…"
    assert revision() == before + 4


def test_scanning_shows_while_queued_or_running_never_once_the_row_says_done(
    scanned: Tree, user: Client
) -> None:
    assert not tasks.scan_pending()
    tasks.enqueue_scan()
    assert "Scanning…" in user.get("/", headers=PAGE).content.decode()
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING, started_at=timezone.now())
    assert not tasks.scan_pending()  # claimed, its row not stored yet: nothing says running
    running = Scan.objects.create(started_at=timezone.now())
    assert "Scanning…" in user.get("/", headers=PAGE).content.decode()
    running.state = Scan.State.DONE
    running.save()
    # The task is still RUNNING for a moment: the page re-fetched now says done.
    assert "Scanning…" not in user.get("/", headers=PAGE).content.decode()


def test_a_live_refetch_leaves_messages_for_the_next_page(scanned: Tree, user: Client) -> None:
    env = row(scanned.drifted)
    user.post(reverse("environment-rescan", args=[env.pk]))
    refetch = user.get(f"/environments/{env.pk}/", HTTP_X_ENVDASH_LIVE="1")
    assert "Rescan of" not in refetch.content.decode()
    assert 'id="live"' not in refetch.content.decode()  # a re-fetch polls nothing itself
    shown = user.get(f"/environments/{env.pk}/", headers=PAGE).content.decode()
    assert "Rescan of" in shown


def test_the_header_name_is_the_one_the_script_sends() -> None:
    script = (Path(__file__).resolve().parents[2] / "static/js/envdash.js").read_text()
    assert f'"{LIVE_HEADER}": "1"' in script
