"""Issue 13's surprising defaults, as the forms and pages now behave: the Install box takes
PEP 508 requirements with commas inside them, interpreters are listed by version, a new
environment defaults to the newest supported interpreter its project allows, a recreate
preselects the installed interpreter nearest to the environment's own, and a finished
Create links to the new environment. No pip runs here: environments are database rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.jobs.kinds import JobError, validate
from dashboard.models import Environment
from tests.dashboard.conftest import log_in

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
