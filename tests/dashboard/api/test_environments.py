"""GET /api/environments and /api/environments/<id> over a scanned tree of real
environments: the contract other tools rely on, and the page's filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from dashboard.models import Distribution, Environment
from tests.dashboard.api.conftest import ApiClient
from tests.dashboard.conftest import row
from tests.trees import HOSTILE_SUMMARY, Tree


def _paths(items: list[dict[str, object]]) -> list[object]:
    return [item["path"] for item in items]


def test_the_list_has_id_path_and_status_of_every_live_environment(
    scanned: Tree, api: ApiClient
) -> None:
    status, items = api.get("/api/environments")
    assert status == 200 and isinstance(items, list)
    by_path = {item["path"]: item for item in items}
    assert set(by_path) == {
        str(scanned.drifted),
        str(scanned.in_sync),
        str(scanned.loose),
        str(scanned.broken),
    }
    drifted = by_path[str(scanned.drifted)]
    assert drifted["id"] == row(scanned.drifted).pk
    assert drifted["status"] == "drifted"
    assert drifted["url"] == f"/environments/{drifted['id']}/"
    assert drifted["project"]["name"] == "proj-a"
    assert drifted["package_count"] == 2
    assert drifted["drift_summary"]["counts"]["mismatch"] == 1
    assert drifted["drift_summary"]["counts"]["missing"] == 1
    assert by_path[str(scanned.broken)]["status"] == "broken"
    assert by_path[str(scanned.loose)]["project"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "drifted"}, ["drifted"]),
        ({"status": "broken"}, ["broken"]),
        ({"q": "loose"}, ["loose"]),
        ({"q": "proj-a"}, ["drifted"]),
        ({"q": "proj .venv"}, ["drifted", "in_sync"]),  # every word must match
        ({"kind": "nothing-like-this"}, []),
        ({"sort": "-name", "q": "envs"}, ["loose", "broken"]),
        ({"sort": "name", "q": "envs"}, ["broken", "loose"]),
    ],
)
def test_the_filters_are_the_environments_pages(
    scanned: Tree, api: ApiClient, user: Client, query: dict[str, str], expected: list[str]
) -> None:
    status, items = api.get("/api/environments", query)
    assert status == 200
    assert _paths(items) == [str(getattr(scanned, name)) for name in expected]
    page = user.get("/environments/", query).content.decode()
    for item in items:  # the page, asked the same, lists the same environments
        assert f'href="{item["url"]}"' in page


def test_the_python_filter_and_gone_environments(scanned: Tree, api: ApiClient) -> None:
    minor = row(scanned.in_sync).python_minor
    _, same_python = api.get("/api/environments", {"python": minor})
    assert str(scanned.in_sync) in _paths(same_python)
    Environment.objects.filter(path=str(scanned.loose)).update(gone_at=datetime.now(UTC))
    assert str(scanned.loose) not in _paths(api.get("/api/environments")[1])
    _, gone = api.get("/api/environments", {"status": "gone"})
    assert _paths(gone) == [str(scanned.loose)] and gone[0]["status"] == "gone"
    _, with_gone = api.get("/api/environments", {"gone": "1"})
    assert len(with_gone) == 4


@pytest.mark.parametrize(
    ("query", "refusal"),
    [
        ({"status": "sad"}, "status is one of broken, drifted, in-sync, no-requirements, gone"),
        (
            {"sort": "colour"},
            "sort is one of name, project, python, kind, packages, status, size, "
            "scanned, optionally with a leading '-'",
        ),
        ({"gone": "yes"}, "gone is 1 (include vanished environments) or 0"),
        (
            {"stauts": "broken"},
            "unknown parameter 'stauts';"
            " the filters are q, status, kind, manager, python, sort, gone, page",
        ),
        ({"q": "x" * 201}, "q is at most 200 characters"),
        ({"page": "0"}, "page 0 does not exist"),
        ({"page": "9"}, "page 9 does not exist"),
        ({"page": "two"}, "page must be a whole number (0 or more)"),
        ({"q": "a\x00b"}, "a query parameter holds a NUL character"),
    ],
)
def test_a_bad_filter_is_refused_in_one_line(
    scanned: Tree, api: ApiClient, query: dict[str, str], refusal: str
) -> None:
    assert api.get("/api/environments", query) == (400, {"error": refusal})


def test_the_list_pages_by_a_hundred_with_a_next_link(db: None, api: ApiClient) -> None:
    now = datetime.now(UTC)
    moments = dict.fromkeys(("first_seen", "last_seen", "last_scanned", "last_changed"), now)
    Environment.objects.bulk_create(
        Environment(path=f"/synthetic/env{i:03d}", name=f"env{i:03d}", kind="venv", **moments)
        for i in range(130)
    )
    _, first = api.get("/api/environments", {"sort": "name"})
    assert len(first) == 100 and first[0]["name"] == "env000"
    assert api.last is not None
    assert api.last["Link"] == '</api/environments?sort=name&page=2>; rel="next"'
    _, second = api.get("/api/environments", {"sort": "name", "page": "2"})
    assert [item["name"] for item in second] == [f"env{i:03d}" for i in range(100, 130)]
    assert not api.last.has_header("Link")


def test_one_environment_has_its_packages_drift_and_problems(scanned: Tree, api: ApiClient) -> None:
    env = row(scanned.drifted)
    Distribution.objects.filter(environment=env, name="alpha").update(
        latest="2.0", latest_allowed="1.1", update_status="upgradable"
    )
    status, data = api.get(f"/api/environments/{env.pk}")
    assert status == 200
    assert data["id"] == env.pk and data["path"] == str(scanned.drifted)
    packages = {item["name"]: item for item in data["packages"]}
    assert {name: item["version"] for name, item in packages.items()} == {
        "alpha": "1.1",
        "delta-pkg-two": "3.0",
    }
    assert packages["alpha"]["latest"] == "2.0"
    assert packages["alpha"]["requirement"] == "==1.0"
    assert packages["alpha"]["drift_status"] == "mismatch"
    assert data["drift"]["source"].endswith("proj-a/requirements.txt")
    items = {item["name"]: item for item in data["drift"]["items"]}
    assert items["alpha"]["status"] == "mismatch" and items["alpha"]["installed"] == "1.1"
    assert items["beta"]["status"] == "missing" and items["beta"]["required"] == ">=1.0"
    assert data["updates"] == {"checked_at": None, "upgradable": 0}
    broken = api.get(f"/api/environments/{row(scanned.broken).pk}")[1]
    assert broken["status"] == "broken" and broken["health"] == "broken"
    assert broken["broken_reason"]
    loose = api.get(f"/api/environments/{row(scanned.loose).pk}")[1]
    assert loose["packages"][0]["summary"] == HOSTILE_SUMMARY  # data, not markup: as it is


def test_an_environments_problems_are_the_pages(scanned: Tree, api: ApiClient) -> None:
    env = row(scanned.in_sync)
    Environment.objects.filter(pk=env.pk).update(problems=["beta 1.0 requires alpha>=1.0"])
    assert api.get(f"/api/environments/{env.pk}")[1]["problems"] == ["beta 1.0 requires alpha>=1.0"]


def test_an_unknown_environment_is_a_json_404(db: None, api: ApiClient) -> None:
    assert api.get("/api/environments/999") == (404, {"error": "no environment with id 999"})
    huge = "9" * 30
    assert api.get(f"/api/environments/{huge}")[0] == 404


def test_a_rescan_of_one_environment_is_queued(scanned: Tree, api: ApiClient) -> None:
    env = row(scanned.in_sync)
    before = DBTaskResult.objects.count()
    assert api.post(f"/api/environments/{env.pk}/rescan") == (202, {"queued": True})
    assert api.last is not None and api.last["Location"] == f"/api/environments/{env.pk}"
    task = DBTaskResult.objects.order_by("-enqueued_at")[0]
    assert DBTaskResult.objects.count() == before + 1
    assert task.args_kwargs["kwargs"] == {"path": str(scanned.in_sync), "force": True}


def test_an_update_check_is_queued_for_an_environment_on_disk(
    scanned: Tree, api: ApiClient
) -> None:
    env = row(scanned.in_sync)
    assert api.post(f"/api/environments/{env.pk}/check-updates") == (202, {"queued": True})
    assert DBTaskResult.objects.filter(task_path__endswith="update_check").count() == 1
    Environment.objects.filter(pk=env.pk).update(gone_at=datetime.now(UTC))
    status, data = api.post(f"/api/environments/{env.pk}/check-updates")
    assert (status, data) == (404, {"error": f"no environment on disk with id {env.pk}"})
