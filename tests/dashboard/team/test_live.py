"""Over real HTTP against a live server: export → push → team page, parallel pushes, auto-push."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import threading
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_tasks_db.models import DBTaskResult

from dashboard.models import Project
from dashboard.scanning import scan_tree
from dashboard.team.local import stored_snapshot
from dashboard.team.models import Machine, Member, PushState, Snapshot, TeamEnvironment
from dashboard.team.tasks import push_snapshot, schedule_push
from tests.dashboard.team.factories import environment, log_in, post_json, snapshot
from tests.envtools import make_venv

MakeToken = Callable[[str], tuple[Member, str]]


def get_page(url: str) -> str:
    """GET with a logged-in session cookie, as a browser would."""
    cookie = log_in(Client()).cookies[django_settings.SESSION_COOKIE_NAME].value
    request = urllib.request.Request(  # noqa: S310 - the live server's http URL
        url, headers={"Cookie": f"{django_settings.SESSION_COOKIE_NAME}={cookie}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.status == 200
        return str(response.read().decode())


@pytest.fixture(scope="module")
def project_tree(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """A scan root with one git project (alpha==1.1 required, 1.0 installed) and its .venv."""
    root = tmp_path_factory.mktemp("team-root")
    project = root / "shop"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run(
        ["git", "-C", str(project), "remote", "add", "origin", "git@github.com:acme/shop.git"],
        check=True,
    )
    (project / "requirements.txt").write_text("alpha==1.1\n")
    (project / "pyproject.toml").write_text('[project]\nname = "shop"\nversion = "1"\n')
    make_venv(project / ".venv", ["alpha==1.0"], wheelhouse=wheelhouse)
    return root


def test_round_trip_export_push_team_page(
    live_server: Any, member_token: MakeToken, project_tree: Path, tmp_path: Path, capsys: Any
) -> None:
    _, token = member_token("alice")
    exported = tmp_path / "snapshot.json"
    call_command("snapshot", "export", "-o", str(exported), "--root", str(project_tree))
    document = json.loads(exported.read_text())
    assert [env["project"]["identity"] for env in document["environments"]] == [
        "github.com/acme/shop"
    ]
    call_command("snapshot", "push", live_server.url, "--token", token, str(exported))
    assert "pushed snapshot of" in capsys.readouterr().out
    env = TeamEnvironment.objects.get()
    assert env.status == "drifted"
    assert env.drift_items == {"alpha": "mismatch"}

    page = get_page(f"{live_server.url}/team/")
    assert "github.com/acme/shop" in page
    assert str(django_settings.MACHINE_NAME) in page
    assert 'team-badge--drifted">drifted<' in page
    assert "1 mismatch" in page
    expanded = get_page(f"{live_server.url}/team/?expand={env.project_id}")
    assert '<th scope="row">alpha</th>' in expanded
    assert "<code>==1.1</code>" in expanded
    assert 'team-cell team-cell--violates">1.0' in expanded


def test_push_reports_the_servers_reason(
    live_server: Any, member_token: MakeToken, tmp_path: Path
) -> None:
    _, token = member_token("alice")
    doc = tmp_path / "snap.json"
    doc.write_text(json.dumps(snapshot()))
    call_command("snapshot", "push", live_server.url, "--token", token, str(doc))
    with pytest.raises(CommandError, match=r"409 this snapshot of laptop-1 was already received"):
        call_command("snapshot", "push", live_server.url, "--token", token, str(doc))
    with pytest.raises(CommandError, match=r"401 unknown API token"):
        call_command("snapshot", "push", live_server.url, "--token", "nope", str(doc))
    with pytest.raises(CommandError, match=r"cannot reach http://127.0.0.1:9/api/snapshots"):
        call_command("snapshot", "push", "http://127.0.0.1:9", "--token", token, str(doc))
    with pytest.raises(CommandError, match=r"must start with http"):
        call_command("snapshot", "push", "file:///etc/passwd", "--token", token, str(doc))
    doc.write_text("{broken")
    with pytest.raises(CommandError, match=r"not valid JSON"):
        call_command("snapshot", "push", live_server.url, "--token", token, str(doc))


def test_oversized_push_is_refused_over_http(
    live_server: Any, member_token: MakeToken, settings: Any
) -> None:
    settings.TEAM_MAX_SNAPSHOT_BYTES = 4096
    _, token = member_token("alice")
    big = snapshot(environments=[environment(f"/a/{i}/.venv") for i in range(40)])
    status, answer = post_json(f"{live_server.url}/api/snapshots", big, token)
    assert (status, answer) == (
        413,
        {"error": "snapshot is larger than the server's limit of 4096 bytes"},
    )
    assert not Snapshot.objects.exists()


def test_parallel_pushes_for_one_machine_keep_only_the_newest(
    live_server: Any, member_token: MakeToken
) -> None:
    _, token = member_token("alice")
    base = datetime.now(UTC) - timedelta(hours=1)
    documents = [
        snapshot(
            "shared-box",
            when=base + timedelta(seconds=index),
            environments=[environment(f"/s/{index}/app/.venv", packages={"alpha": f"1.{index}"})],
        )
        for index in range(12)
    ]
    random.Random(7).shuffle(documents)
    barrier = threading.Barrier(len(documents))
    results: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def send(document: dict[str, Any]) -> None:
        barrier.wait()
        outcome = post_json(f"{live_server.url}/api/snapshots", document, token, timeout=60)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=send, args=(doc,)) for doc in documents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    statuses = sorted(status for status, _ in results)
    assert set(statuses) <= {201, 409}, results
    assert 201 in statuses
    newest = max(documents, key=lambda d: d["created_at"])
    machine = Machine.objects.get()
    assert machine.snapshot_at == datetime.fromisoformat(newest["created_at"])
    (env,) = TeamEnvironment.objects.all()
    assert env.path == newest["environments"][0]["path"]
    assert env.packages == [["alpha", "1.11", "index"]]
    assert Snapshot.objects.count() == statuses.count(201)
    for status, answer in results:
        if status == 409:
            assert "a newer snapshot of shared-box is already stored" in answer["error"]


def test_auto_push_sends_the_snapshot_after_a_scan(
    live_server: Any, member_token: MakeToken, project_tree: Path, settings: Any
) -> None:
    _, token = member_token("alice")
    settings.TEAM_URL, settings.TEAM_TOKEN = live_server.url, token
    settings.SCAN_ROOTS = [project_tree]
    assert scan_tree().state == "done"
    assert schedule_push() is True
    queued = DBTaskResult.objects.get()
    assert queued.task_path.endswith("push_snapshot")
    assert push_snapshot.call() is True
    assert TeamEnvironment.objects.get().project.identity == "github.com/acme/shop"  # type: ignore[union-attr]
    state = PushState.objects.get()
    assert state.last_success_at is not None and state.last_error == ""


def test_the_pushed_snapshot_is_what_the_scan_stored_against_the_chosen_requirements(
    live_server: Any, member_token: MakeToken, settings: Any, tmp_path: Path, wheelhouse: Path
) -> None:
    root = tmp_path / "root"
    project = root / "shop"
    project.mkdir(parents=True)
    (project / "requirements.txt").write_text("alpha==1.0\n")  # what envcore would pick: in sync
    (project / "ci.txt").write_text("alpha==1.1\nbeta>=1.0\n")  # what the user chose
    env = make_venv(project / ".venv", ["alpha==1.0"], wheelhouse=wheelhouse)
    Project.objects.create(
        path=str(project),
        name="shop",
        requirements_source=str(project / "ci.txt"),
        requirements_explicit=True,
    )
    _, token = member_token("alice")
    settings.TEAM_URL, settings.TEAM_TOKEN = live_server.url, token
    settings.SCAN_ROOTS = [root]
    assert scan_tree().state == "done"
    # The snapshot is built from the stored rows: an environment that is no longer on disk
    # (nor readable) is still described as the scan found it, so nothing walked it again.
    shutil.rmtree(env)

    (section,) = stored_snapshot()["environments"]
    assert section["path"] == str(env)
    assert section["distributions"] == [{"name": "alpha", "version": "1.0", "source": "index"}]
    assert section["project"]["requirements_source"] == "ci.txt"
    assert section["project"]["requirements"] == [
        {"name": "alpha", "specifier": "==1.1"},
        {"name": "beta", "specifier": ">=1.0"},
    ]
    drift = section["drift"]
    assert drift["summary"] == "drifted"
    assert [(i["name"], i["status"], i["installed_version"]) for i in drift["items"]] == [
        ("alpha", "mismatch", "1.0"),
        ("beta", "missing", None),
    ]
    assert drift["counts"]["mismatch"] == drift["counts"]["missing"] == 1

    assert push_snapshot.call() is True
    pushed = TeamEnvironment.objects.get()
    assert pushed.path == str(env)
    assert pushed.status == "drifted"
    assert pushed.drift_items == {"alpha": "mismatch", "beta": "missing"}
    assert pushed.required == {"alpha": "==1.1", "beta": ">=1.0"}


def test_a_failed_auto_push_is_recorded_and_retried_later(
    db: None, project_tree: Path, settings: Any
) -> None:
    settings.TEAM_URL, settings.TEAM_TOKEN = "http://127.0.0.1:9", "envdash_team_x"
    settings.SCAN_ROOTS = [project_tree]
    before = datetime.now(UTC)
    assert push_snapshot.call() is False
    state = PushState.objects.get()
    assert "cannot reach http://127.0.0.1:9/api/snapshots" in state.last_error
    assert state.attempts == 1
    retry = DBTaskResult.objects.get()
    assert retry.args_kwargs == {"args": [2], "kwargs": {}}
    assert before + timedelta(seconds=50) < retry.run_after < before + timedelta(minutes=2)
    assert push_snapshot.call(8) is False
    assert DBTaskResult.objects.count() == 1  # the last attempt schedules nothing more
    assert PushState.objects.get().next_attempt_at is None


def test_auto_push_is_off_without_a_team_server(db: None, settings: Any) -> None:
    settings.TEAM_URL, settings.TEAM_TOKEN = "", ""
    assert schedule_push() is False
    assert push_snapshot.call() is False
    assert not DBTaskResult.objects.exists()
