"""Available versions in the dashboard: checked by the worker against a local index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.jobs.models import Job
from dashboard.live import revision
from dashboard.models import Distribution, Environment
from dashboard.scanning import scan_tree
from dashboard.updates import check_updates
from tests.dashboard.conftest import log_in
from tests.envcore.indexserver import IndexState, serve_index
from tests.envtools import make_venv, pip_list_json
from tests.locked import pyproject, uv_lock
from tests.wheelmaker import write_wheel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def index_url(tmp_path: Path, settings: SettingsWrapper) -> Iterator[str]:
    state = IndexState()
    for version in ("1.0", "1.1", "2.0"):
        state.publish(write_wheel(tmp_path / "published", "alpha", version))
    with serve_index(state) as url:
        settings.INDEX_URL = url
        settings.INSTALLER = "pip"
        settings.DATA_DIR = tmp_path / "data"
        yield url


@pytest.fixture
def project(tmp_path: Path, settings: SettingsWrapper, index_url: str) -> Environment:
    settings.SCAN_ROOTS = [tmp_path / "home"]
    app = tmp_path / "home" / "app"
    app.mkdir(parents=True)
    (app / "requirements.txt").write_text("alpha<2\n")
    make_venv(app / ".venv", ["alpha==1.0"], wheelhouse=tmp_path / "published", with_pip=True)
    scan_tree()
    return Environment.objects.get()


def test_update_check_stores_latest_allowed_and_jump(project: Environment) -> None:
    before = revision()
    assert check_updates(project) == 1
    assert revision() == before + 1  # open pages show the new versions by themselves
    alpha = Distribution.objects.get(environment=project, name="alpha")
    assert (alpha.latest, alpha.latest_allowed, alpha.jump) == ("2.0", "1.1", "major")
    assert alpha.choices == ["2.0", "1.1", "1.0"]
    page = log_in(Client()).get(f"/environments/{project.pk}/").content.decode()
    assert "1 upgradable" in page
    assert "allowed: 1.1" in page
    assert "Upgrade all within the requirements" in page


def test_upgrade_all_stays_within_the_requirements(project: Environment) -> None:
    check_updates(project)
    client = log_in(Client())
    client.post(f"/environments/{project.pk}/jobs/upgrade-all/")
    call_command("worker", "--batch", "--interval", "0")
    job = Job.objects.get()
    assert job.state == "succeeded", job.summary
    versions = {row["name"]: row["version"] for row in pip_list_json(Path(project.path))}
    assert versions["alpha"] == "1.1"  # not 2.0: the requirement says alpha<2
    alpha = Distribution.objects.get(environment=project, name="alpha")
    assert (alpha.version, alpha.latest, alpha.update_status) == ("1.1", "2.0", "upgradable")


def test_upgrade_to_a_chosen_version(project: Environment) -> None:
    check_updates(project)
    client = log_in(Client())
    client.post(f"/environments/{project.pk}/jobs/upgrade/", {"name": "alpha", "target": "2.0"})
    call_command("worker", "--batch", "--interval", "0")
    assert Job.objects.get().state == "succeeded"
    versions = {row["name"]: row["version"] for row in pip_list_json(Path(project.path))}
    assert versions["alpha"] == "2.0"
    assert Environment.objects.get().status == "drifted"  # 2.0 breaks alpha<2: shown


def test_the_check_button_queues_work_for_the_worker(project: Environment) -> None:
    response = log_in(Client()).post(f"/environments/{project.pk}/updates/")
    assert response.status_code == 302
    task = DBTaskResult.objects.get(task_path="dashboard.updates.update_check")
    assert task.args_kwargs["args"] == [project.pk]
    assert task.args_kwargs["kwargs"] == {"announce": True}  # asked: "checked just now"


def test_a_check_that_finds_nothing_new_leaves_open_pages_alone(project: Environment) -> None:
    """The watcher re-checks every environment when the index cache expires: a check
    that changes nothing shown must not make every open page fetch itself again."""
    check_updates(project)
    project.refresh_from_db()
    checked = project.updates_checked_at
    before = revision()
    assert check_updates(project) == 1
    assert revision() == before
    project.refresh_from_db()
    assert project.updates_checked_at is not None and checked is not None
    assert project.updates_checked_at > checked  # still recorded as checked
    check_updates(project, announce=True)  # the user's click: the page says "just now"
    assert revision() == before + 1


def test_an_unreachable_index_says_unknown(project: Environment, settings: SettingsWrapper) -> None:
    settings.INDEX_URL = "http://127.0.0.1:9/simple"
    assert check_updates(project) == 0
    alpha = Distribution.objects.get(environment=project, name="alpha")
    assert alpha.update_status == "unknown" and alpha.update_reason
    page = log_in(Client()).get(f"/environments/{project.pk}/").content.decode()
    assert "0 upgradable" in page and ">unknown<" in page


def test_the_check_sees_the_wheel_directories_jobs_install_from(
    project: Environment, settings: SettingsWrapper, tmp_path: Path
) -> None:
    # ENVDASH_FIND_LINKS + ENVDASH_NO_INDEX: jobs install from that directory only, so the
    # update check must offer what is there (3.0), not what the index URL would say.
    wheels = tmp_path / "wheels"
    write_wheel(wheels, "alpha", "3.0")
    settings.INDEX_URL = "http://127.0.0.1:9/simple"
    settings.INDEX_FIND_LINKS = (str(wheels),)
    settings.INDEX_NO_INDEX = True
    assert check_updates(project) == 1
    alpha = Distribution.objects.get(environment=project, name="alpha")
    assert (alpha.latest, alpha.update_status) == ("3.0", "upgradable")
    assert alpha.choices == ["3.0"]


def _locked_shop(root: Path, wheels: Path, asks: str) -> Path:
    """A uv project asking `asks`, locked by the real `uv lock`, its .venv at alpha 1.0."""
    app = root / "shop"
    app.mkdir(parents=True)
    (app / "pyproject.toml").write_text(pyproject([asks]))
    uv_lock(app, wheels)
    make_venv(app / ".venv", ["alpha==1.0"], wheelhouse=wheels)
    return app


def _held_to_its_lock() -> Environment:
    scan_tree()
    env = Environment.objects.get()
    assert env.source_kind == "lock", env.source_reason
    return env


def test_a_lock_is_read_for_the_environments_python_not_the_workers(
    tmp_path: Path, settings: SettingsWrapper, index_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker may run on another Python than the environment: here one the lock (made
    for >=3.9) has nothing for. Only the worker's own markers change; the env is real.
    The lock has no pyproject.toml to hold it to any more (a requirements.txt beside it
    keeps the directory a project), so its pins are what is allowed."""
    import packaging.markers

    settings.SCAN_ROOTS = [tmp_path / "home"]
    app = _locked_shop(tmp_path / "home", tmp_path / "published", "alpha<2")  # locks 1.1
    (app / "pyproject.toml").unlink()
    (app / "requirements.txt").write_text("alpha\n")
    env = _held_to_its_lock()
    worker = {**packaging.markers.default_environment()}
    worker.update(python_version="2.7", python_full_version="2.7.18")
    monkeypatch.setattr(packaging.markers, "default_environment", lambda: dict(worker))
    assert check_updates(env) == 1
    alpha = Distribution.objects.get(environment=env, name="alpha")
    assert (alpha.latest, alpha.latest_allowed) == ("2.0", "1.1")  # the lock's pin, not 2.0


def test_latest_allowed_follows_the_declared_ranges_not_the_locks_pins(
    tmp_path: Path, settings: SettingsWrapper, index_url: str
) -> None:
    """Locked at alpha 1.0, then the project widened to alpha<2 (the lock still satisfies
    it: not out of date): 1.1 is allowed, as `uv lock --upgrade` would take it."""
    settings.SCAN_ROOTS = [tmp_path / "home"]
    app = _locked_shop(tmp_path / "home", tmp_path / "published", "alpha<=1.0")
    (app / "pyproject.toml").write_text(pyproject(["alpha<2"]))
    env = _held_to_its_lock()
    assert env.status == "in-sync", env.status
    assert check_updates(env) == 1
    alpha = Distribution.objects.get(environment=env, name="alpha")
    assert (alpha.latest, alpha.latest_allowed) == ("2.0", "1.1")  # not the pinned 1.0
    page = log_in(Client()).get(f"/environments/{env.pk}/").content.decode()
    assert "allowed: 1.1" in page
