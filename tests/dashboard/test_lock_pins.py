"""An environment held to a lock file is not pushed off it by Upgrade: the page still shows
the newer version the declared ranges allow, but offers the lock tool's command instead of
the button, and the page's POST, the API and the job refuse a package the lock pins in that
one line before anything runs. Real `uv lock`, real venvs, real pip, a local index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.utils.html import escape
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.jobs.models import Job
from dashboard.models import Distribution, Environment, Project
from dashboard.scanning import scan_tree
from dashboard.sources import hold_project_to
from dashboard.updates import check_updates
from tests.dashboard.api.conftest import ApiClient
from tests.dashboard.conftest import log_in
from tests.dashboard.jobs.conftest import installed, work
from tests.envcore.indexserver import IndexState, serve_index
from tests.envtools import make_venv
from tests.locked import pyproject, uv_lock
from tests.wheelmaker import write_wheel

pytestmark = pytest.mark.django_db(transaction=True)

PINNED = (
    "alpha is pinned to 1.0 by uv.lock: update the lock (uv lock --upgrade-package alpha) and Sync"
)


@pytest.fixture
def published(tmp_path: Path, settings: SettingsWrapper) -> Iterator[Path]:
    """alpha 1.0, 1.1, 2.0 and stray 1.0, 1.1 on a local index the jobs and checks use."""
    state = IndexState()
    files = tmp_path / "published"
    for name, version in [("alpha", "1.0"), ("alpha", "1.1"), ("alpha", "2.0")]:
        state.publish(write_wheel(files, name, version))
    for version in ("1.0", "1.1"):
        state.publish(write_wheel(files, "stray", version))
    with serve_index(state) as url:
        settings.INDEX_URL = url
        settings.INSTALLER = "pip"
        settings.DATA_DIR = tmp_path / "data"
        settings.SCAN_ROOTS = [tmp_path / "home"]
        yield files


@pytest.fixture
def locked(tmp_path: Path, published: Path) -> Environment:
    """shop: uv.lock made when it asked alpha<=1.0 (alpha 1.0 locked), then pyproject.toml
    widened to alpha<2 (the lock still satisfies it); its .venv has alpha 1.0 and stray
    1.0, which the lock does not name (untracked). Scanned and checked for updates."""
    shop = tmp_path / "home" / "shop"
    shop.mkdir(parents=True)
    (shop / "pyproject.toml").write_text(pyproject(["alpha<=1.0"]))
    uv_lock(shop, published)
    (shop / "pyproject.toml").write_text(pyproject(["alpha<2"]))
    (shop / "requirements.txt").write_text("alpha<2\nstray\n")
    make_venv(shop / ".venv", ["alpha==1.0", "stray==1.0"], wheelhouse=published, with_pip=True)
    scan_tree()
    env = Environment.objects.get()
    assert (env.source_kind, env.status) == ("lock", "in-sync"), env.source_reason
    check_updates(env)
    return env


def _refused_on_the_page(user: Client, env: Environment, kind: str, data: dict[str, str]) -> str:
    answer = user.post(f"/environments/{env.pk}/jobs/{kind}/", data, follow=True)
    assert not Job.objects.exists()
    return answer.content.decode()


def test_the_page_shows_the_allowed_version_and_the_locks_command_instead_of_upgrade(
    locked: Environment,
) -> None:
    alpha = Distribution.objects.get(environment=locked, name="alpha")
    assert (alpha.latest, alpha.latest_allowed) == ("2.0", "1.1")
    page = log_in(Client()).get(f"/environments/{locked.pk}/").content.decode()
    assert "allowed: 1.1" in page  # what `uv lock --upgrade-package alpha` would take
    assert escape(PINNED) in page
    assert 'Upgrade<span class="sr-only"> alpha</span>' not in page
    assert 'Upgrade<span class="sr-only"> stray</span>' in page  # untracked: upgradable


def test_upgrading_a_locked_package_is_refused_by_the_page_and_the_api(
    locked: Environment,
) -> None:
    for target in ("allowed", "latest", "2.0"):
        page = _refused_on_the_page(
            log_in(Client()), locked, "upgrade", {"name": "alpha", "target": target}
        )
        assert escape(PINNED) in page
    api = ApiClient(Client(enforce_csrf_checks=True))
    packages = {
        row["name"]: row for row in api.get(f"/api/environments/{locked.pk}")[1]["packages"]
    }
    assert (packages["alpha"]["latest_allowed"], packages["alpha"]["pinned_by_lock"]) == (
        "1.1",
        PINNED,
    )
    assert packages["stray"]["pinned_by_lock"] == ""
    status, answer = api.post(
        "/api/jobs", {"kind": "upgrade", "environment": locked.pk, "name": "Alpha"}
    )
    assert (status, answer["error"]) == (400, PINNED)
    assert installed(locked)["alpha"] == "1.0"


def test_an_untracked_package_is_still_upgraded(locked: Environment) -> None:
    log_in(Client()).post(f"/environments/{locked.pk}/jobs/upgrade/", {"name": "stray"})
    work()
    job = Job.objects.get()
    assert job.state == "succeeded", job.summary
    versions = installed(locked)
    assert (versions["alpha"], versions["stray"]) == ("1.0", "1.1")


def test_upgrade_all_upgrades_only_what_the_lock_does_not_pin(locked: Environment) -> None:
    user = log_in(Client())
    user.post(f"/environments/{locked.pk}/jobs/upgrade-all/")
    work()
    job = Job.objects.get()
    assert job.state == "succeeded", job.summary
    assert job.params["specs"] == ["stray==1.1"]
    versions = installed(locked)
    assert (versions["alpha"], versions["stray"]) == ("1.0", "1.1")
    Job.objects.all().delete()
    page = _refused_on_the_page(user, Environment.objects.get(), "upgrade-all", {})
    assert (
        escape("alpha is pinned to 1.0 by uv.lock: update the lock (uv lock --upgrade) and Sync")
        in page
    )


def test_a_job_queued_before_the_env_was_held_to_the_lock_refuses_before_pip_runs(
    locked: Environment,
) -> None:
    """Queued while the project was held to requirements.txt (the Upgrade button was there),
    run after it went back to its lock: the job reads the lock and stops in one line."""
    project = Project.objects.get()
    hold_project_to(project, str(Path(project.path) / "requirements.txt"))
    scan_tree()
    assert Environment.objects.get().source_kind == "requirements"
    user = log_in(Client())
    user.post(f"/environments/{locked.pk}/jobs/upgrade/", {"name": "alpha", "target": "latest"})
    assert Job.objects.get().state == "queued"
    hold_project_to(project, "")
    scan_tree()
    assert Environment.objects.get().source_kind == "lock"
    work()
    job = Job.objects.get()
    assert (job.state, job.summary) == ("failed", PINNED)
    assert not any("pip" in line.text for line in job.lines.all() if line.stream == "cmd")
    assert installed(locked)["alpha"] == "1.0"


def test_an_env_held_to_requirements_is_upgraded_as_before(locked: Environment) -> None:
    project = Project.objects.get()
    hold_project_to(project, str(Path(project.path) / "requirements.txt"))
    scan_tree()
    env = Environment.objects.get()
    check_updates(env)
    page = log_in(Client()).get(f"/environments/{env.pk}/").content.decode()
    assert "pinned by" not in page and 'Upgrade<span class="sr-only"> alpha</span>' in page
    log_in(Client()).post(f"/environments/{env.pk}/jobs/upgrade/", {"name": "alpha"})
    work()
    assert Job.objects.get().state == "succeeded"
    assert installed(env)["alpha"] == "1.1"  # the newest requirements.txt's alpha<2 allows
