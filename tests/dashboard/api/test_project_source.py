"""Which file an environment is held to, in the API: the drift JSON says which and why, and
POST /api/projects/<id>/source chooses another of the project's files (the page's Form)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.models import Project
from dashboard.scanning import scan_tree
from tests.dashboard.api.conftest import ApiClient
from tests.dashboard.conftest import row
from tests.locked import build_shop


@pytest.fixture
def shop(db: None, settings: SettingsWrapper, tmp_path: Path, wheelhouse: Path) -> Path:
    settings.SCAN_ROOTS = [tmp_path]
    project, _ = build_shop(tmp_path, wheelhouse, ["alpha==1.0"])
    assert scan_tree().state == "done"
    return project


def test_the_drift_says_which_file_and_why(shop: Path, api: ApiClient) -> None:
    env = row(shop / ".venv")
    status, data = api.get(f"/api/environments/{env.pk}")
    assert status == 200
    drift = data["drift"]
    assert drift["source"] == str(shop / "uv.lock")
    assert drift["source_kind"] == "lock"
    assert drift["source_reason"] == (
        "uv.lock: the project's lock file, more exact than pyproject.toml's ranges"
    )
    assert drift["selection"].startswith("uv.lock: ")
    assert drift["lock_outdated"] == ""
    assert drift["status"] == "drifted"
    assert str(shop / "pyproject.toml") in drift["files"]


def test_a_project_is_held_to_one_of_its_files(shop: Path, api: ApiClient) -> None:
    project = Project.objects.get(path=str(shop))
    requirements = str(shop / "requirements.txt")
    listed = {item["id"]: item for item in api.get("/api/projects")[1]}[project.pk]
    assert requirements in listed["source_candidates"]
    assert str(shop / "uv.lock") in listed["source_candidates"]
    assert listed["requirements_explicit"] is False

    status, data = api.post(f"/api/projects/{project.pk}/source", {"source": requirements})
    assert status == 202
    assert api.last["Location"] == "/api/projects"
    assert (data["requirements_source"], data["requirements_explicit"]) == (requirements, True)
    queued = [task.args_kwargs["kwargs"]["path"] for task in DBTaskResult.objects.all()]
    assert queued == [str(shop / ".venv")]

    status, data = api.post(f"/api/projects/{project.pk}/source", {"source": ""})
    assert status == 202
    # What automatic chooses, at once (the rescans queued have not run).
    lock = str(shop / "uv.lock")
    assert (data["requirements_source"], data["requirements_explicit"]) == (lock, False)
    assert DBTaskResult.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"source": "/etc/passwd"},
            "“/etc/passwd” is not one of this project's files: choose automatic or a file "
            "listed (rescan if the file is new)",
        ),
        (
            {"source": None},
            'source: give one of the project\'s source_candidates, or "" for automatic',
        ),
        ({}, 'source: give one of the project\'s source_candidates, or "" for automatic'),
        ({"source": "", "force": True}, "a source choice has no field 'force'"),
    ],
)
def test_anything_else_is_refused(
    shop: Path, api: ApiClient, body: dict[str, object], message: str
) -> None:
    project = Project.objects.get(path=str(shop))
    assert api.post(f"/api/projects/{project.pk}/source", body) == (400, {"error": message})
    assert not Project.objects.get(pk=project.pk).requirements_explicit
    assert not DBTaskResult.objects.exists()


def test_choosing_needs_the_token_and_a_project(db: None, api: ApiClient, user: Client) -> None:
    project = Project.objects.create(path="/nowhere/app", name="app")
    session = user.post(f"/api/projects/{project.pk}/source", {}, content_type="application/json")
    assert session.status_code == 401
    assert api.post("/api/projects/999999/source", {"source": ""}) == (
        404,
        {"error": "no project with id 999999"},
    )
