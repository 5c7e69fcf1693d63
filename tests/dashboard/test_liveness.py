"""The "no worker is running" banner: shown on every page until a worker on this machine
has beaten recently; never asked for by the fragments pages poll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard import liveness
from dashboard.liveness import FORGET_AFTER, FRESH_FOR, beat, forget
from dashboard.models import Worker

BANNER = "No worker is running: scans and jobs wait in the queue."
PAGES = ["/", "/environments/", "/projects/", "/packages/", "/jobs/", "/settings/", "/team/"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_warns_when_no_worker_is_alive(db: None, user: Client, page: str) -> None:
    body = user.get(page).content.decode()
    assert BANNER in body
    assert "<code>envdash serve</code> or <code>envdash worker</code>" in body


def test_a_fresh_beat_on_this_machine_hides_the_banner(db: None, user: Client) -> None:
    beat(timezone.now())
    assert BANNER not in user.get("/").content.decode()
    forget()  # a worker that stops cleanly stops counting at once
    assert BANNER in user.get("/").content.decode()


def test_stale_beats_and_other_machines_workers_do_not_count(
    db: None, user: Client, settings: SettingsWrapper
) -> None:
    now = timezone.now()
    Worker.objects.create(
        machine=settings.MACHINE_NAME,
        pid=1234,
        started_at=now - timedelta(hours=1),
        last_seen=now - FRESH_FOR - timedelta(seconds=1),
    )
    Worker.objects.create(machine="another-machine", pid=1234, started_at=now, last_seen=now)
    assert BANNER in user.get("/").content.decode()


def test_a_polled_fragment_does_not_ask(db: None, user: Client) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = user.get("/environments/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="env-table")
    assert response.status_code == 200
    assert BANNER not in response.content.decode()
    assert not [q for q in queries.captured_queries if "dashboard_worker" in q["sql"]]


def test_a_beat_is_one_update_and_forgets_silent_workers_once_in_a_while(
    db: None, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An idle worker beats every 2 s: that must cost one statement, not a transaction of
    four plus a DELETE."""
    monkeypatch.setitem(liveness._pruned, "at", datetime.min.replace(tzinfo=UTC))
    now = timezone.now()

    def silent(pid: int) -> Worker:
        return Worker.objects.create(
            machine=settings.MACHINE_NAME,
            pid=pid,
            started_at=now - timedelta(hours=1),
            last_seen=now - FORGET_AFTER - timedelta(seconds=1),
        )

    first = silent(1234)
    beat(now)  # the first beat: its row, and the silent one forgotten
    assert not Worker.objects.filter(pk=first.pk).exists()
    second = silent(4321)
    with CaptureQueriesContext(connection) as beating:
        beat(now)
    assert [q["sql"].split()[0] for q in beating.captured_queries] == ["UPDATE"]
    assert Worker.objects.filter(pk=second.pk).exists()  # forgotten at a later round
    monkeypatch.setitem(liveness._pruned, "at", now - FORGET_AFTER)  # a minute later
    beat(now)
    assert not Worker.objects.filter(pk=second.pk).exists()
