"""Issue 13's surprising defaults, as the forms and pages now behave: the Install box takes
PEP 508 requirements with commas inside them, interpreters are listed by version, a new
environment defaults to the newest supported interpreter its project allows, a recreate
preselects the installed interpreter nearest to the environment's own, and a finished
Create links to the new environment. No pip runs here: environments are database rows."""

from __future__ import annotations

import re
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.jobs.kinds import JobError, validate
from dashboard.jobs.models import Interpreter, Job
from dashboard.models import Environment
from dashboard.templatetags.envdash import ago
from tests.dashboard.conftest import log_in
from tests.dashboard.jobs.conftest import work

pytestmark = pytest.mark.django_db


@pytest.fixture
def env(tmp_path: Path, settings: SettingsWrapper) -> Environment:
    settings.SCAN_ROOTS = [tmp_path]
    now = timezone.now()
    path = tmp_path / "app" / ".venv"
    moments = dict.fromkeys(("first_seen", "last_seen", "last_scanned", "last_changed"), now)
    return Environment.objects.create(
        path=str(path), name="app/.venv", kind="venv", python_version="3.9.18", **moments
    )


# -- the Install box ----------------------------------------------------------------------


def test_install_takes_a_specifier_with_a_comma_and_several_requirements(
    env: Environment,
) -> None:
    params = validate("install", env, {"specs": "requests>=2.32,<3 rich\nname >= 1.0"})
    assert params["specs"] == ["requests<3,>=2.32", "rich", "name>=1.0"]


def test_install_names_the_bad_requirement_in_one_line(env: Environment) -> None:
    with pytest.raises(JobError) as refused:
        validate("install", env, {"specs": "rich requests>=2.32,<3.x"})
    assert str(refused.value).startswith("'requests>=2.32,<3.x' is not a valid package spec: ")
    client = log_in(Client())
    page = client.post(
        f"/environments/{env.pk}/jobs/install/", {"specs": "rich --index-url=x"}, follow=True
    ).content.decode()
    assert "&#x27;--index-url=x&#x27; looks like an option" in page


# -- interpreters: by version, and the defaults ---------------------------------------------


def _interpreters(root: Path, *versions: str) -> dict[str, Interpreter]:
    """Interpreter rows for files that exist (stubs: never run here)."""
    rows = {}
    for version in versions:
        stub = root / "opt" / f"python{version}" / "bin" / "python3"
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text("#!/bin/sh\nexit 1\n")
        stub.chmod(0o755)
        rows[version] = Interpreter.objects.create(
            path=str(stub),
            version=version,
            implementation="CPython",
            source="PATH",
            found_at=timezone.now(),
        )
    return rows


def _selected(page: str) -> list[str]:
    return re.findall(r'<option value="(\d*)" selected>', page)


def test_interpreters_are_listed_by_version_everywhere(env: Environment, tmp_path: Path) -> None:
    _interpreters(tmp_path, "3.9.18", "3.13.1", "3.10.14")
    client = log_in(Client())
    pages = [
        client.get("/environments/new/").content.decode(),
        client.get("/settings/").content.decode(),
        client.post(f"/environments/{env.pk}/jobs/recreate/").content.decode(),
    ]
    for page in pages:
        where = [page.index(f"/opt/python{v}/") for v in ("3.13.1", "3.10.14", "3.9.18")]
        assert where == sorted(where)
        assert "3.9.18 (end of life)" in page
        assert ("3.13.1 (end of life)" in page) == (date.today() >= date(2029, 10, 1))


def test_a_new_environment_defaults_to_the_newest_supported_python(
    env: Environment, tmp_path: Path
) -> None:
    rows = _interpreters(tmp_path, "3.9.18", "3.13.1", "3.10.14", "3.12.8")
    client = log_in(Client())
    page = client.get("/environments/new/").content.decode()
    assert f"Automatic: CPython 3.13.1 — {rows['3.13.1'].path}</option>" in page
    assert "3.9.18 (end of life)" in page
    target = str(tmp_path / "fresh" / ".venv")
    client.post("/environments/new/", {"path": target, "interpreter": ""})
    assert Job.objects.get().params["interpreter"] == rows["3.13.1"].path


def test_the_default_follows_the_projects_requires_python(env: Environment, tmp_path: Path) -> None:
    rows = _interpreters(tmp_path, "3.9.18", "3.13.1", "3.10.14", "3.12.8")
    project = tmp_path / "app"
    project.mkdir(exist_ok=True)
    (project / "pyproject.toml").write_text('[project]\nname = "app"\nrequires-python = "<3.13"\n')
    target = str(project / "new-env")
    client = log_in(Client())
    field = client.get(
        "/environments/new/", {"path": target, "requirements": ""}, headers={"HX-Request": "true"}
    ).content.decode()
    assert field.strip().startswith('<div id="interpreter-field">') and "<form" not in field
    assert "Automatic: CPython 3.12.8" in field
    assert (
        "Automatic is the newest installed Python not past its end of life that "
        f"requires-python &#x27;&lt;3.13&#x27; (in {project}/pyproject.toml) allows." in field
    )
    (project / "pyproject.toml").write_text('[project]\nrequires-python = "python 3"\n')
    unreadable = client.get("/environments/new/", {"path": target}).content.decode()
    assert "Automatic: CPython 3.13.1" in unreadable and "requires-python" not in unreadable
    (project / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.14"\n')
    refused = client.post("/environments/new/", {"path": target, "interpreter": ""})
    assert refused.status_code == 400
    assert (
        f"requires-python &#x27;&gt;=3.14&#x27; (in {project}/pyproject.toml) allows none of "
        "the interpreters found on this machine: choose one, or add one in Settings"
    ) in refused.content.decode()
    chosen = client.post(
        "/environments/new/", {"path": target, "interpreter": str(rows["3.9.18"].pk)}
    )
    assert chosen.status_code == 302  # a choice of the user's own is taken as it is
    assert Job.objects.get().params["interpreter"] == rows["3.9.18"].path


def test_a_recreate_preselects_the_nearest_installed_python_not_the_gone_one(
    env: Environment, tmp_path: Path
) -> None:
    env.base_interpreter = "/gone/bin/python3.9"
    env.save()
    rows = _interpreters(tmp_path, "3.13.1", "3.10.14", "3.12.8")
    client = log_in(Client())
    confirm = client.post(f"/environments/{env.pk}/jobs/recreate/").content.decode()
    assert _selected(confirm) == [str(rows["3.10.14"].pk)]
    assert "is not one found on this machine; preselected: the nearest" in confirm
    assert "the same as now" not in confirm
    client.post(f"/environments/{env.pk}/jobs/recreate/", {"confirmed": "1"})
    assert Job.objects.get().params["interpreter"] == rows["3.10.14"].path
    rows.update(_interpreters(tmp_path, "3.9.2"))
    confirm = client.post(f"/environments/{env.pk}/jobs/recreate/").content.decode()
    assert _selected(confirm) == [str(rows["3.9.2"].pk)]  # the same minor first
    Path(rows["3.9.2"].path).unlink()  # removed since the worker's last probe
    confirm = client.post(f"/environments/{env.pk}/jobs/recreate/").content.decode()
    assert _selected(confirm) == [str(rows["3.10.14"].pk)]


# -- freeze: a new lock file by default, in place changes only what is unsatisfied -------


def test_freeze_targets_a_lock_file_unless_the_requirements_are_chosen(
    env: Environment, tmp_path: Path
) -> None:
    requirements = tmp_path / "app" / "requirements.txt"
    env.requirements_source = str(requirements)
    env.save()
    assert validate("freeze", env, {})["target"] == str(
        requirements.with_name("requirements.lock.txt")
    )
    assert validate("freeze", env, {"mode": "replace"})["target"] == str(requirements)
    assert validate("freeze", env, {"mode": "update"})["target"] == str(requirements)
    with pytest.raises(JobError) as refused:
        validate("freeze", env, {"write": "1", "previewed": str(requirements)})
    assert str(refused.value) == (
        f"the freeze now goes to {requirements.with_name('requirements.lock.txt')}, "
        f"not {requirements}; preview it again"
    )


@pytest.mark.django_db(transaction=True)
def test_plain_freeze_writes_a_new_lock_file_and_leaves_the_requirements(
    project: Environment,
) -> None:
    requirements = Path(project.requirements_source)
    client = log_in(Client())
    client.post(f"/environments/{project.pk}/jobs/freeze/", {"mode": "plain"})
    work()
    preview = Job.objects.get()
    assert preview.state == "succeeded", preview.summary
    lock = requirements.with_name("requirements.lock.txt")
    assert preview.result["target"] == str(lock) and "+alpha==1.0" in preview.result["diff"]
    page = client.get(f"/jobs/{preview.pk}/").content.decode()
    assert f"Write {lock}</button>" in page and "a new file" in page
    client.post(
        f"/environments/{project.pk}/jobs/freeze/",
        {"write": "1", "expected": preview.result["expected"], "previewed": str(lock)},
    )
    work()
    assert lock.read_text().splitlines()[-1] == "alpha==1.0"
    assert requirements.read_text() == "# pinned\nalpha==1.1\n"  # never touched


def _freeze_modes(env: Environment) -> list[str]:
    page = log_in(Client()).get(f"/environments/{env.pk}/").content.decode()
    form = re.search(r'<form id="job-freeze".*?</form>', page, re.DOTALL)
    assert form, page
    return re.findall(r'<option value="(\w+)"', form.group())


@pytest.mark.parametrize(
    ("source", "kind"),
    [("uv.lock", "lock"), ("pylock.toml", "lock"), ("pyproject.toml", "pyproject")],
)
def test_freeze_offers_no_writing_into_a_lock_or_a_declaring_file(
    env: Environment, tmp_path: Path, source: str, kind: str
) -> None:
    """Only a requirements .txt is changed or replaced in place (the form refuses the rest,
    and a lock is its tool's to write): the preview of a new file is all that is offered."""
    env.requirements_source, env.source_kind = str(tmp_path / "app" / source), kind
    env.save()
    assert _freeze_modes(env) == ["plain"]
    env.requirements_source = str(tmp_path / "app" / "requirements.txt")
    env.source_kind = "requirements"
    env.save()
    assert _freeze_modes(env) == ["plain", "update", "replace"]


# -- after Create: the job page links to the new environment; "just now" ---------------------


@pytest.mark.django_db(transaction=True)
def test_the_create_job_page_links_to_the_new_environment(
    project: Environment, tmp_path: Path
) -> None:
    (listed,) = _interpreters(tmp_path, ".".join(map(str, sys.version_info[:3]))).values()
    Interpreter.objects.filter(pk=listed.pk).update(path=sys.executable)
    requirements = tmp_path / "app" / "requirements.txt"
    target = tmp_path / "fresh" / ".venv"
    client = log_in(Client())
    client.post(
        "/environments/new/",
        {"path": str(target), "interpreter": "", "requirements": str(requirements)},
    )
    job = Job.objects.get()
    queued = client.get(f"/jobs/{job.pk}/").content.decode()
    assert f"requirements from <code>{requirements}</code>" in queued
    work()
    job.refresh_from_db()
    assert job.state == "succeeded", job.summary
    created = Environment.objects.get(path=str(target))
    assert job.environment == created and created.name == "fresh/.venv"
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert f'New environment: <a href="/environments/{created.pk}/">fresh/.venv</a>' in page
    assert f"requirements from <code>{requirements}</code>" in page


def test_times_under_a_minute_read_just_now(env: Environment) -> None:
    now = timezone.now()
    assert ago(now) == "just now"
    assert ago(now - timedelta(seconds=59)) == "just now"
    assert ago(now + timedelta(seconds=5)) == "just now"  # another machine's clock
    assert ago(now - timedelta(minutes=3, seconds=5)) == "3\xa0minutes ago"
    assert ago(None) == ""
    page = log_in(Client()).get("/environments/").content.decode()
    assert "just now" in page and "0\xa0minutes" not in page


def test_the_install_box_takes_several_lines(env: Environment) -> None:
    """A text input would drop the newlines of a pasted list (HTML strips them from an
    input's value); the box is a textarea, so one requirement per line arrives as typed."""
    page = log_in(Client()).get(f"/environments/{env.pk}/").content.decode()
    assert re.search(r'<textarea name="specs"[^>]*>', page)
