"""The registry of job kinds: every kind has a Form and a run function, and each Form
refuses bad input with its own one-line message (the first check that fails, as before
the Forms). No pip runs here: the environment is a database row."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.jobs.kinds import KINDS, JobError, validate, validate_create
from dashboard.jobs.lifecycle import NO_INTERPRETERS
from dashboard.jobs.models import Interpreter, Job
from dashboard.models import Environment

pytestmark = pytest.mark.django_db

NO_SPECS = "give at least one package spec, e.g. requests>=2.32"
CHOOSE = "choose one of the interpreters found on this machine"
ABSOLUTE = "give the new environment's absolute path, e.g. /home/me/app/.venv"


@pytest.fixture
def env(tmp_path: Path, settings: SettingsWrapper) -> Environment:
    settings.SCAN_ROOTS = [tmp_path]
    now = timezone.now()
    path = tmp_path / "app" / ".venv"
    moments = dict.fromkeys(("first_seen", "last_seen", "last_scanned", "last_changed"), now)
    return Environment.objects.create(path=str(path), name="app/.venv", kind="venv", **moments)


def test_every_kind_has_one_entry_and_only_create_makes_an_environment() -> None:
    assert set(KINDS) == set(Job.Kind.values)
    assert [kind for kind, spec in KINDS.items() if spec.creates] == ["create"]
    assert {kind for kind, spec in KINDS.items() if spec.confirm_template} == {
        "recreate",
        "delete",
        "uninstall",
        "sync",  # when it removes what the requirements do not name
    }


@pytest.mark.parametrize(
    ("kind", "form", "refusal"),
    [
        ("install", {}, NO_SPECS),
        ("install", {"specs": " , "}, NO_SPECS),
        (
            "upgrade",
            {"name": "no good", "version": "x"},
            "'no good' is not a valid distribution name",
        ),
        ("upgrade", {"name": "alpha", "version": "x"}, "'x' is not a version number"),
        ("uninstall", {"name": "-r"}, "'-r' is not a valid distribution name"),
        ("upgrade-all", {}, "nothing to upgrade within the requirements (check for updates first)"),
        ("sync", {}, "this environment has no requirements file to sync with"),
        ("freeze", {"mode": ""}, "freeze mode is plain, replace or update"),
        ("freeze", {"mode": "update"}, "update mode needs a requirements .txt file to update"),
        (
            "recreate",
            {"interpreter": "999"},
            CHOOSE,
        ),
        ("recreate", {"interpreter": "x"}, CHOOSE),
        ("create", {}, "unknown job kind 'create'"),
        ("pip", {}, "unknown job kind 'pip'"),
    ],
)
def test_each_kind_refuses_in_one_line(
    env: Environment, kind: str, form: dict[str, str], refusal: str
) -> None:
    with pytest.raises(JobError) as refused:
        validate(kind, env, form)
    assert str(refused.value) == refusal


def test_a_recreate_without_a_choice_needs_a_known_interpreter(env: Environment) -> None:
    with pytest.raises(JobError) as refused:
        validate("recreate", env, {})
    assert str(refused.value) == NO_INTERPRETERS


def test_a_gone_environment_refuses_every_kind_first(env: Environment) -> None:
    env.gone_at = timezone.now()
    for kind in [*KINDS, "pip"]:
        with pytest.raises(JobError) as refused:
            validate(kind, env, {"specs": "--bad"})
        assert (
            str(refused.value) == f"{env.path} is gone from disk; rescan or recreate it elsewhere"
        )


def test_the_parameters_a_job_stores(env: Environment) -> None:
    assert validate("install", env, {"specs": "beta==1.0, gamma"}) == {
        "specs": ["beta==1.0", "gamma"],
        "what": "beta==1.0, gamma",
    }
    assert validate("freeze", env, {}) == {
        "mode": "plain",
        "target": str(Path(env.path).parent / "requirements.txt"),
        "write": False,
        "expected": "",
        "what": "preview requirements.txt (plain)",
    }
    assert validate("delete", env, {"force": "on"}) == {"force": False, "what": "app/.venv"}


@pytest.mark.parametrize(
    ("form", "refusal"),
    [
        ({}, ABSOLUTE),
        (
            {"path": "relative/.venv"},
            ABSOLUTE,
        ),
        ({"path": "/x/\n.venv"}, "the path must be one line without control characters"),
        ({"path": "/else/.venv"}, "/else/.venv is outside the scan roots (see Settings)"),
    ],
)
def test_create_refuses_the_path_first(
    env: Environment, form: dict[str, str], refusal: str
) -> None:
    with pytest.raises(JobError) as refused:
        validate_create({"interpreter": "x", "prompt": "\n", **form})
    assert str(refused.value) == refusal


def test_create_then_refuses_the_interpreter_and_the_prompt(env: Environment) -> None:
    path = str(Path(env.path).parent / "new")
    for interpreter in ("", "x", "999"):
        with pytest.raises(JobError) as refused:
            validate_create({"path": path, "interpreter": interpreter, "prompt": "\n"})
        assert str(refused.value) == (NO_INTERPRETERS if interpreter == "" else CHOOSE)
    listed = Interpreter.objects.create(
        path="/usr/bin/python3",
        version="3.11.7",
        implementation="CPython",
        source="path",
        found_at=timezone.now(),
    )
    with pytest.raises(JobError) as refused:
        validate_create({"path": path, "interpreter": str(listed.pk), "prompt": "a\nb"})
    assert str(refused.value) == "the prompt must be one short line"
    params = validate_create({"path": path, "interpreter": str(listed.pk), "prompt": " p "})
    assert params == {
        "path": path,
        "interpreter": "/usr/bin/python3",
        "system_site_packages": False,
        "prompt": "p",
        "requirements": "",
        "what": "app/new with Python 3.11.7",
    }


def test_a_scan_root_itself_takes_packages_but_is_never_moved_aside(
    env: Environment, settings: SettingsWrapper
) -> None:
    settings.SCAN_ROOTS = [Path(env.path)]
    assert validate("install", env, {"specs": "beta"})["specs"] == ["beta"]
    for kind in ("delete", "recreate"):
        with pytest.raises(JobError) as refused:
            validate(kind, env, {})
        assert str(refused.value) == (
            f"{env.path} is a scan root itself; envdash creates, moves and deletes "
            "environments only below a scan root"
        )
    with pytest.raises(JobError) as refused:
        validate_create({"path": env.path, "interpreter": "x"})
    assert str(refused.value) == (
        f"{env.path} is a scan root itself; envdash creates, moves and deletes "
        "environments only below a scan root (see Settings)"
    )
