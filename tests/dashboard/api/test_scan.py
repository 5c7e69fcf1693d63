"""GET and POST /api/scan: the last full scan and whether one is pending; a rescan."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dashboard.models import Scan, WatchState
from tests.dashboard.api.conftest import ApiClient, raw_post
from tests.trees import Tree


def test_before_any_scan_there_is_none_and_no_watcher(db: None, api: ApiClient) -> None:
    status, data = api.get("/api/scan")
    assert status == 200 and data["pending"] is False and data["last"] is None
    assert data["watching"]["running"] is False
    assert data["watching"]["mode"] == "not-running"


def test_how_the_watcher_follows_the_disk(db: None, api: ApiClient) -> None:
    now = timezone.now()
    WatchState.objects.create(
        machine=str(settings.MACHINE_NAME),
        started_at=now,
        heartbeat_at=now,
        mode=WatchState.Mode.POLLING,
        reason="inotify's watch limit is reached",
        polled=12,
        poll_interval=2.0,
    )
    watching = api.get("/api/scan")[1]["watching"]
    assert watching["running"] is True and watching["mode"] == "polling"
    assert watching["summary"] == "polling 12 paths every 2 s: inotify's watch limit is reached"


def test_the_last_full_scan_and_its_counts(scanned: Tree, api: ApiClient) -> None:
    status, data = api.get("/api/scan")
    last = Scan.objects.filter(target="").latest()
    assert status == 200 and data["pending"] is False
    assert data["last"]["id"] == last.pk and data["last"]["state"] == "done"
    assert data["last"]["found"] == 4 and data["last"]["roots"] == [str(scanned.root)]
    assert data["last"]["finished_at"] is not None


def test_a_rescan_is_queued_and_then_pending(db: None, api: ApiClient) -> None:
    assert api.post("/api/scan") == (202, {"queued": True})
    assert api.last is not None and api.last["Location"] == "/api/scan"
    assert api.post("/api/scan", {"force": True}) == (202, {"queued": True})
    kwargs = [task.args_kwargs["kwargs"] for task in DBTaskResult.objects.order_by("enqueued_at")]
    assert kwargs == [{"path": "", "force": False}, {"path": "", "force": True}]
    assert api.get("/api/scan")[1]["pending"] is True


def test_a_bad_rescan_body_is_refused_in_one_line(db: None, api: ApiClient) -> None:
    assert api.post("/api/scan", {"force": "yes"}) == (400, {"error": "force: give true or false"})
    assert api.post("/api/scan", {"all": True}) == (
        400,
        {"error": "a rescan has no field 'all'"},
    )
    assert api.post("/api/scan", [1]) == (400, {"error": "the body must be a JSON object"})
    bearer = api.headers["Authorization"]
    broken = raw_post(api.client, "/api/scan", b"{", "application/json", Authorization=bearer)
    assert broken.status_code == 400
    assert broken.json() == {
        "error": "the body is not JSON: Expecting property name enclosed in double quotes at line 1"
    }
    form = raw_post(api.client, "/api/scan", b"force=1", "text/plain", Authorization=bearer)
    assert form.status_code == 415
    assert form.json() == {"error": "send the body as Content-Type: application/json"}
    huge = raw_post(
        api.client, "/api/scan", b" " * 70_000 + b"{}", "application/json", Authorization=bearer
    )
    assert huge.status_code == 413
    assert not DBTaskResult.objects.exists()
