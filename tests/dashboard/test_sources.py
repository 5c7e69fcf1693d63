"""Which file an environment is held to, on the pages: a lock before requirements.txt, the
reason and the selection said, a lock out of date warned about, and the chooser (POST,
htmx) that holds a project to another of its files, and refuses anything else."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.models import Environment, Project
from dashboard.scanning import scan_environment, scan_tree
from dashboard.team.local import stored_snapshot
from tests.dashboard.conftest import row
from tests.envtools import install, make_venv
from tests.locked import build_shop, pyproject, uv_lock

LOCK_REASON = "the project's lock file, more exact than pyproject.toml's ranges"


def text(response: object) -> str:
    content: bytes = response.content  # type: ignore[attr-defined]
    return content.decode()


@pytest.fixture
def shop(
    db: None, settings: SettingsWrapper, tmp_path: Path, wheelhouse: Path
) -> tuple[Path, Environment]:
    """The shop project scanned: uv.lock pins alpha 2.0, requirements.txt alpha 1.0, and
    its .venv has alpha 1.0."""
    settings.SCAN_ROOTS = [tmp_path]
    project, env = build_shop(tmp_path, wheelhouse, ["alpha==1.0"])
    assert scan_tree().state == "done"
    return project, row(env)


def _choose(user: Client, env: Environment, source: str, *, htmx: bool = True) -> object:
    headers = {"HX-Request": "true"} if htmx else {}
    return user.post(
        reverse("environment-source", args=[env.pk]), {"source": source}, headers=headers
    )


def _worker_runs_the_queued_scans() -> None:
    for task in DBTaskResult.objects.all():
        scan_environment(task.args_kwargs["kwargs"]["path"])
    DBTaskResult.objects.all().delete()


def test_a_project_with_a_lock_and_requirements_is_held_to_the_lock(
    shop: tuple[Path, Environment], user: Client
) -> None:
    project, env = shop
    assert env.requirements_source == str(project / "uv.lock")
    assert (env.source_kind, env.source_reason) == ("lock", f"uv.lock: {LOCK_REASON}")
    assert env.selection
    assert env.lock_outdated == ""
    assert env.status == "drifted"  # alpha 1.0 installed, 2.0 locked
    assert env.drift_items.get(name="alpha").status == "mismatch"
    assert str(project / "pyproject.toml") in env.requirement_files  # the lock's freshness
    page = text(user.get(reverse("environment", args=[env.pk])))
    assert f"Held to <code>uv.lock</code> — {escape(LOCK_REASON)}" in page
    assert env.selection.startswith("uv.lock: project shop with ")
    assert f"Selection: {escape(env.selection.removeprefix('uv.lock: '))}</p>" in page
    assert "Lock out of date" not in page
    listed = text(user.get(reverse("projects")))
    assert "<code title=" in listed and ">uv.lock</code>" in listed


def test_choosing_requirements_txt_holds_every_env_of_the_project_to_it(
    shop: tuple[Path, Environment], user: Client
) -> None:
    project, env = shop
    requirements = str(project / "requirements.txt")
    page = text(user.get(reverse("environment", args=[env.pk])))
    assert f'<option value="{requirements}">requirements.txt</option>' in page
    assert '<option value="" selected>automatic</option>' in page

    answer = _choose(user, env, requirements)
    assert answer.status_code == 200  # type: ignore[attr-defined]
    assert "Saved: held to requirements.txt" in text(answer)
    stored = Project.objects.get(path=str(project))
    assert (stored.requirements_source, stored.requirements_explicit) == (requirements, True)
    queued = [task.args_kwargs["kwargs"] for task in DBTaskResult.objects.all()]
    assert queued == [{"path": env.path, "force": True}]

    _worker_runs_the_queued_scans()
    again = row(Path(env.path))
    assert (again.requirements_source, again.source_kind) == (requirements, "requirements")
    assert again.source_reason == "chosen by you"
    assert again.status == "in-sync"  # alpha 1.0, as requirements.txt pins it
    page = text(user.get(reverse("environment", args=[env.pk])))
    assert "Held to <code>requirements.txt</code> — chosen by you" in page
    assert f'<option value="{requirements}" selected>' in page
    snapshot = stored_snapshot()
    assert snapshot["environments"][0]["project"]["requirements_source"] == "requirements.txt"

    answer = _choose(user, env, "")
    assert "Saved: chosen automatically: uv.lock." in text(answer)
    # What automatic chooses is stored at once, not after the rescans: never a project
    # without a source in between.
    stored = Project.objects.get(path=str(project))
    assert (stored.requirements_source, stored.requirements_explicit) == (
        str(project / "uv.lock"),
        False,
    )
    listed = text(user.get(reverse("projects")))
    assert f"<code>{project / 'uv.lock'}</code> (automatic)" in listed
    _worker_runs_the_queued_scans()
    assert row(Path(env.path)).source_kind == "lock"
    snapshot = stored_snapshot()
    assert snapshot["environments"][0]["project"]["requirements_source"] == "uv.lock"


@pytest.mark.parametrize("tampered", ["/etc/passwd", "pyvenv.cfg", "../shop/requirements.txt"])
def test_a_path_that_is_not_one_of_the_projects_files_is_refused(
    shop: tuple[Path, Environment], user: Client, tampered: str
) -> None:
    project, env = shop
    value = str(project / ".venv" / tampered) if tampered == "pyvenv.cfg" else tampered
    answer = _choose(user, env, value)
    assert answer.status_code == 400  # type: ignore[attr-defined]
    assert (
        f"“{value}” is not one of this project&#x27;s files: choose automatic or a file listed"
        in text(answer)
    )
    stored = Project.objects.get(path=str(project))
    assert (stored.requirements_source, stored.requirements_explicit) == (
        str(project / "uv.lock"),
        False,
    )
    assert not DBTaskResult.objects.exists()
    plain = _choose(user, env, value, htmx=False)
    assert plain.status_code == 302  # type: ignore[attr-defined]
    page = text(user.get(reverse("environment", args=[env.pk])))
    assert "is not one of this project&#x27;s files" in page


def test_the_chooser_needs_a_login_a_post_and_a_project(
    shop: tuple[Path, Environment], user: Client
) -> None:
    _, env = shop
    assert user.get(reverse("environment-source", args=[env.pk])).status_code == 405
    anonymous = Client().post(reverse("environment-source", args=[env.pk]), {"source": ""})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    assert not DBTaskResult.objects.exists()
    Environment.objects.filter(pk=env.pk).update(project=None)
    assert _choose(user, env, "").status_code == 404  # type: ignore[attr-defined]


def test_a_lock_out_of_date_is_warned_about_and_drifted(
    db: None, settings: SettingsWrapper, tmp_path: Path, wheelhouse: Path, user: Client
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    project, env = build_shop(tmp_path, wheelhouse, ["alpha==2.0"])
    scan_environment(env)
    assert (row(env).status, row(env).lock_outdated) == ("in-sync", "")
    # The project now asks for alpha<2 and nobody ran `uv lock`: every pin still matches
    # the env, but the lock is no longer what the project declares.
    (project / "pyproject.toml").write_text(pyproject(["alpha<2"]))
    assert scan_environment(env, force=False).changed == 1  # pyproject.toml is in the signature
    stale = row(env)
    assert stale.status == "drifted"
    assert stale.lock_outdated
    assert "\n" not in stale.lock_outdated
    page = text(user.get(reverse("environment", args=[stale.pk])))
    assert '<p class="note--warning" role="alert"><strong>Lock out of date:</strong>' in page
    listed = text(user.get(reverse("environments")))
    assert "lock out of date</span>" in listed


def test_an_unreadable_lock_is_one_line_on_the_page_never_in_sync(
    db: None, settings: SettingsWrapper, tmp_path: Path, wheelhouse: Path, user: Client
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    project, env = build_shop(tmp_path, wheelhouse, ["alpha==2.0"])
    lock = project / "uv.lock"
    lock.write_text(lock.read_text()[:40])  # truncated mid-table
    assert scan_tree().state == "done"
    broken = row(env)
    assert broken.status == "drifted"
    assert broken.source_kind == "lock"
    assert len(broken.requirement_errors) == 1
    assert str(lock) in broken.requirement_errors[0]
    assert "\n" not in broken.requirement_errors[0]
    page = text(user.get(reverse("environment", args=[broken.pk])))
    assert escape(broken.requirement_errors[0]) in page
    install(env, ["alpha==1.0"], wheelhouse=wheelhouse)
    assert scan_environment(env, force=False).changed == 1
    assert row(env).status == "drifted"


@pytest.mark.usefixtures("db")
def test_an_application_env_has_no_requirements_and_says_why(
    settings: SettingsWrapper,
    tmp_path: Path,
    wheelhouse: Path,
    user: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    monkeypatch.setenv("PIPX_HOME", str(tmp_path / ".local" / "share" / "pipx"))
    env = make_venv(
        tmp_path / ".local" / "share" / "pipx" / "venvs" / "toolapp",
        ["alpha==1.0"],
        wheelhouse=wheelhouse,
    )
    (env / "pipx_metadata.json").write_text("{}")
    assert scan_tree().state == "done"
    app = row(env)
    assert (app.status, app.source_kind, app.requirements_source) == ("no-requirements", "none", "")
    assert app.source_reason == (
        "an application env made by pipx: it has no requirements to drift from"
    )
    assert not app.drift_items.exists()  # nothing in it is "untracked" either
    page = text(user.get(reverse("environment", args=[app.pk])))
    assert "an application env made by pipx: it has no requirements to drift from" in page
    assert "Hold " not in page  # no project, no chooser


def test_a_lock_that_appears_beside_requirements_changes_the_choice_at_the_next_look(
    db: None, settings: SettingsWrapper, tmp_path: Path, wheelhouse: Path
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    project, env = build_shop(tmp_path, wheelhouse, ["alpha==1.0"])
    (project / "uv.lock").unlink()
    scan_environment(env)
    assert (row(env).source_kind, row(env).status) == ("requirements", "in-sync")
    assert row(env).source_reason == "requirements.txt: no lock file"
    uv_lock(project, wheelhouse)
    assert scan_environment(env, force=False).changed == 1  # no file it read changed
    assert (row(env).source_kind, row(env).status) == ("lock", "drifted")
    assert scan_environment(env, force=False).changed == 0


def test_a_pipenv_project_without_its_lock_is_held_to_the_pipfile(
    db: None, settings: SettingsWrapper, tmp_path: Path, wheelhouse: Path, user: Client
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    env = make_venv(tmp_path / "cafe" / ".venv", ["alpha==1.1"], wheelhouse=wheelhouse)
    (tmp_path / "cafe" / "Pipfile").write_text('[packages]\nalpha = "==1.0"\n')
    assert scan_tree().state == "done"
    held = row(env)
    assert (held.source_kind, held.source_reason) == (
        "pipfile",
        "Pipfile: no Pipfile.lock, so its ranges",
    )
    assert held.status == "drifted"
    assert held.drift_items.get(name="alpha").status == "mismatch"
    page = text(user.get(reverse("environment", args=[held.pk])))
    assert "Held to <code>Pipfile</code> — no Pipfile.lock, so its ranges" in page
