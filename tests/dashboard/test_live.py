"""Live pages: the revision every change raises, the poll that reads it, what pages render."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from dashboard import live, tasks
from dashboard.jobs.models import Job
from dashboard.live import LIVE_HEADER, bump, revision
from dashboard.models import Scan
from dashboard.scanning import scan_environment
from tests.dashboard.conftest import log_in, row
from tests.dashboard.jobs.conftest import command_environment
from tests.trees import Tree

PAGE = {"Accept": "text/html"}
#: What envdash.js sends with its held poll.
POLL = {LIVE_HEADER: "1"}


def _since(body: str) -> int:
    match = re.search(r'<div id="live" hidden data-src="/live/" data-since="(\d+)"', body)
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


def test_a_held_poll_answers_204_after_its_wait_without_reading_the_database(
    db: None, user: Client
) -> None:
    now = revision()
    started = time.monotonic()
    with CaptureQueriesContext(connection) as held:
        quiet = user.get("/live/", {"since": str(now), "wait": "1"}, headers=POLL)
    assert quiet.status_code == 204
    assert time.monotonic() - started >= 1
    assert len(held.captured_queries) == 2, [q["sql"] for q in held.captured_queries]


@pytest.fixture
def rare_database_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A held poll that reads the database only once a minute: only the file can wake it."""
    monkeypatch.setattr(live, "DB_EVERY", 60.0)


@pytest.mark.django_db(transaction=True)
def test_a_held_poll_answers_once_another_process_bumped(
    rare_database_reads: None, tmp_path: Path
) -> None:
    """A worker or the watcher raises the revision: the page's held poll answers at once."""
    user = log_in(Client())
    now = revision()
    bumper = threading.Timer(
        0.5,
        subprocess.run,
        [[sys.executable, "-m", "dashboard.cli", "shell", "-c", BUMP]],
        {"env": command_environment(), "check": True, "timeout": 60},
    )
    bumper.start()
    started = time.monotonic()
    moved = user.get("/live/", {"since": str(now), "wait": "25"}, headers=POLL)
    answered = time.monotonic()
    bumper.join()
    assert moved.status_code == 200 and moved["HX-Trigger"] == "envdash:changed"
    assert _since(moved.content.decode()) == now + 1
    assert answered - started < 20, "the held poll waited out its time"


#: What a worker does when it stores a change (in its own transaction).
BUMP = (
    "from django.db import transaction\n"
    "from dashboard.live import bump\n"
    "with transaction.atomic(): bump()"
)


@pytest.fixture
def no_holds() -> Iterator[None]:
    live.hold_at_most(0)
    yield
    live.hold_at_most(4)


def test_with_every_hold_taken_the_poll_answers_at_once(
    db: None, user: Client, no_holds: None
) -> None:
    started = time.monotonic()
    quiet = user.get("/live/", {"since": str(revision()), "wait": "25"}, headers=POLL)
    assert quiet.status_code == 204
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("since", "wait"), [("x", "25"), ("-1", "1"), ("²", "²"), ("0", "1e9"), ("", "")]
)
def test_odd_query_strings_answer_at_once_with_the_revision(
    db: None, user: Client, since: str, wait: str
) -> None:
    bump()
    started = time.monotonic()
    moved = user.get("/live/", {"since": since, "wait": wait}, headers=POLL)
    assert moved.status_code == 200 and _since(moved.content.decode()) == revision()
    assert time.monotonic() - started < 5


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
    assert script.count(f'"{LIVE_HEADER}": "1"') == 2  # the poll and the regions' re-fetch
