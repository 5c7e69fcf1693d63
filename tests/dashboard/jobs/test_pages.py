"""Job pages and refusals that need no pip run: the live log's cursor, the jobs list's
queries, paths outside the scan roots, version targets."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.jobs.models import Interpreter, Job, JobLine
from dashboard.jobs.queue import run_job
from dashboard.models import Environment
from tests.dashboard.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def _cursor(body: str) -> str:
    match = re.search(r'<input type="hidden" id="log-cursor" name="after" value="(\d+)"', body)
    assert match, body
    return match.group(1)


def test_the_log_poll_sends_a_cursor_that_each_answer_moves_forward(
    project: Environment,
) -> None:
    job = Job.objects.create(kind="install", environment=project, env_path=project.path)
    JobLine.objects.bulk_create(
        JobLine(job=job, seq=seq, stream="stdout", text=f"line {seq}") for seq in (1, 2)
    )
    client = log_in(Client())
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    poller = re.search(r'<pre id="job-log"[^>]*>', page)
    assert poller is not None
    assert 'hx-include="#log-cursor"' in poller.group(0) and "after=" not in poller.group(0)
    assert _cursor(page) == "2"
    JobLine.objects.create(job=job, seq=3, stream="stdout", text="line 3")
    poll = {"HX-Request": "true"}
    update = client.get(f"/jobs/{job.pk}/", {"after": _cursor(page)}, headers=poll).content.decode()
    assert "line 3" in update and "line 2" not in update
    assert _cursor(update) == "3" and 'hx-swap-oob="true"' in update
    quiet = client.get(f"/jobs/{job.pk}/", {"after": "3"}, headers=poll).content.decode()
    assert _cursor(quiet) == "3" and "line " not in quiet


def test_the_jobs_list_runs_the_same_queries_for_3_or_30_jobs(project: Environment) -> None:
    client = log_in(Client())

    def queries(count: int) -> int:
        Job.objects.all().delete()
        Job.objects.bulk_create(
            Job(kind="install", environment=project, env_path=project.path, params={"what": "x"})
            for _ in range(count)
        )
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/jobs/").status_code == 200
        return len(captured)

    assert queries(3) == queries(30)


def test_delete_outside_the_scan_roots_is_refused_and_nothing_is_touched(
    project: Environment, settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.SCAN_ROOTS = [tmp_path / "elsewhere"]
    client = log_in(Client())
    response = client.post(
        f"/environments/{project.pk}/jobs/delete/", {"confirmed": "1", "force": "1"}, follow=True
    )
    messages = [str(message) for message in response.context["messages"]]
    assert len(messages) == 1 and "outside the scan roots" in messages[0]
    assert not Job.objects.exists()
    # Even a job that got past the form (roots changed after it was queued) is refused.
    job = Job.objects.create(
        kind="delete", environment=project, env_path=project.path, params={"force": True}
    )
    run_job.call(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and "outside the scan roots (" in job.summary
    assert "\n" not in job.summary
    assert (Path(project.path) / "pyvenv.cfg").is_file()


@pytest.mark.parametrize(
    ("form", "target"),
    [
        ({"target": "allowed"}, "allowed"),
        ({"target": "latest"}, "latest"),
        ({"target": "allowed", "version": "2.0"}, "2.0"),
        ({"version": " 1.1 "}, "1.1"),
    ],
)
def test_upgrade_targets(project: Environment, form: dict[str, str], target: str) -> None:
    log_in(Client()).post(f"/environments/{project.pk}/jobs/upgrade/", {"name": "alpha", **form})
    assert Job.objects.get().params["target"] == target


@pytest.mark.parametrize("version", ["2.0; rm -rf /", "--pre", "latest-ish"])
def test_an_exact_version_that_is_not_one_is_refused(project: Environment, version: str) -> None:
    response = log_in(Client()).post(
        f"/environments/{project.pk}/jobs/upgrade/",
        {"name": "alpha", "version": version},
        follow=True,
    )
    messages = [str(message) for message in response.context["messages"]]
    assert len(messages) == 1 and "is not a version number" in messages[0]
    assert not Job.objects.exists()


@pytest.fixture
def interpreter(db: None) -> Interpreter:
    return Interpreter.objects.create(
        path=sys.executable,
        version="3.11.7",
        implementation="CPython",
        source="path",
        found_at=timezone.now(),
    )


@pytest.mark.parametrize("name", ["new\nline", "nul\0byte", "tab\there", "bidi\u202eenv"])
def test_create_refuses_control_characters_in_the_path(
    project: Environment, interpreter: Interpreter, tmp_path: Path, name: str
) -> None:
    path = f"{tmp_path}/{name}/.venv"
    response = log_in(Client()).post(
        "/environments/new/", {"path": path, "interpreter": interpreter.pk}
    )
    assert response.status_code == 400
    assert b"one line without control characters" in response.content
    assert not Job.objects.exists()


def test_create_takes_a_requirements_file_only_from_inside_the_roots(
    project: Environment,
    interpreter: Interpreter,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text("token=hunter2\n")
    (tmp_path / "app" / "link.txt").symlink_to(outside)
    (tmp_path / "app" / "folder").mkdir()
    client = log_in(Client())
    target = str(tmp_path / "fresh" / ".venv")
    for requirements, reason in [
        ("/etc/shadow", b"outside the scan roots"),
        (str(outside), b"outside the scan roots"),
        (str(tmp_path / "app" / "link.txt"), b"outside the scan roots"),
        (str(tmp_path / "app" / "folder"), b"is not a regular file"),
        (str(tmp_path / "app" / "missing.txt"), b"is not a regular file"),
    ]:
        response = client.post(
            "/environments/new/",
            {"path": target, "interpreter": interpreter.pk, "requirements": requirements},
        )
        assert response.status_code == 400, requirements
        assert reason in response.content, requirements
    assert not Job.objects.exists()
    inside = str(tmp_path / "app" / "requirements.txt")
    client.post(
        "/environments/new/",
        {"path": target, "interpreter": interpreter.pk, "requirements": inside},
    )
    assert Job.objects.get().params["requirements"] == inside
