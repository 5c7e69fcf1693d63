"""The job page says which installer ran and lists each command's exact argv; a job that
failed with uv offers Retry with pip, which runs the same job with pip and nothing else."""

from __future__ import annotations

import re
import shlex
from html import unescape
from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.jobs.models import Job
from dashboard.models import Environment
from dashboard.scanning import scan_environment
from tests.dashboard.conftest import log_in
from tests.dashboard.jobs.conftest import installed, work

pytestmark = pytest.mark.django_db(transaction=True)


def _commands(page: str) -> list[list[str]]:
    """The argv of each command the page lists, read back from the escaped text."""
    section = re.search(r'<section id="job-commands".*?</section>', page, re.S)
    assert section is not None, page
    return [shlex.split(unescape(code)) for code in re.findall(r"<code>(.*?)</code>", section[0])]


@pytest.fixture
def uv_fails(
    project: Environment, settings: SettingsWrapper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Environment:
    """auto picks uv, whose cache cannot be made (a file is in the way); pip is unaffected."""
    settings.INSTALLER = "auto"
    blocked = tmp_path / "uv-cache-is-a-file"
    blocked.write_text("")
    monkeypatch.setenv("UV_CACHE_DIR", str(blocked))
    return project


def test_a_job_that_failed_with_uv_is_retried_with_pip(uv_fails: Environment) -> None:
    project = uv_fails
    client = log_in(Client())
    client.post(f"/environments/{project.pk}/jobs/install/", {"specs": "beta<2"})
    work()
    failed = Job.objects.get()
    assert failed.state == "failed" and failed.installer == "uv", failed.summary
    page = client.get(f"/jobs/{failed.pk}/").content.decode()
    assert "Installer: <strong>uv</strong>" in page
    [argv] = _commands(page)
    assert Path(argv[0]).name == "uv" and argv[1:4] == ["pip", "install", "--no-config"]
    assert argv[-2:] == ["--", "beta<2"]  # the exact argv, escaped on the page
    assert "&#x27;beta&lt;2&#x27;" in page and "'beta<2'" not in page
    assert 'name="installer" value="pip"' in page and "Retry with pip" in page

    response = client.post(f"/jobs/{failed.pk}/retry/", {"installer": "pip"})
    again = Job.objects.exclude(pk=failed.pk).get()
    assert response["Location"] == f"/jobs/{again.pk}/"
    assert again.params == {**failed.params, "installer": "pip"}
    work()
    again.refresh_from_db()
    assert again.state == "succeeded", again.summary
    assert (again.installer, again.installer_reason) == ("pip", "chosen")
    assert installed(project)["beta"] == "1.0"
    page = client.get(f"/jobs/{again.pk}/").content.decode()
    assert "Installer: <strong>pip</strong> — chosen (Retry with pip)" in page
    [argv] = _commands(page)
    assert argv[1:5] == ["-I", "-m", "pip", "install"] and argv[-2:] == ["--", "beta<2"]
    assert 'name="installer" value="pip"' not in page  # it succeeded: no button
    lines = list(again.lines.values_list("stream", "text"))
    assert lines[0] == ("info", "installer: pip — chosen")


def test_retry_with_pip_takes_nothing_else_and_only_after_uv_failed(
    uv_fails: Environment,
) -> None:
    project = uv_fails
    client = log_in(Client())
    # An installer posted with a job's own form is not one of its fields: dropped.
    client.post(
        f"/environments/{project.pk}/jobs/install/",
        {"specs": "beta==1.0", "installer": "--index-url=http://evil.example/simple"},
    )
    failed = Job.objects.get()
    assert "installer" not in failed.params
    work()
    failed.refresh_from_db()
    assert failed.state == "failed" and failed.retry_with_pip
    for hostile in ("--index-url=http://evil.example/simple", "uv", "PIP"):
        response = client.post(f"/jobs/{failed.pk}/retry/", {"installer": hostile}, follow=True)
        messages = [str(m) for m in response.context["messages"]]
        assert messages == ["a job can only be retried as it was, or with pip"]
    assert Job.objects.count() == 1
    strict = log_in(Client(enforce_csrf_checks=True))
    assert strict.post(f"/jobs/{failed.pk}/retry/", {"installer": "pip"}).status_code == 403
    assert Job.objects.count() == 1
    # A job that ran with pip (or succeeded) is not offered, and not taken, Retry with pip.
    Job.objects.filter(pk=failed.pk).update(installer="pip")
    assert 'value="pip"' not in client.get(f"/jobs/{failed.pk}/").content.decode()
    response = client.post(f"/jobs/{failed.pk}/retry/", {"installer": "pip"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Retry with pip is for a job that failed with uv."
    ]
    assert Job.objects.count() == 1


def test_a_job_that_runs_no_installer_says_so(project: Environment) -> None:
    job = Job.objects.create(
        kind="delete", environment=project, env_path=project.path, state="succeeded"
    )
    page = log_in(Client()).get(f"/jobs/{job.pk}/").content.decode()
    assert "No installer ran for this job." in page and _commands(page) == []


def test_auto_runs_pip_when_uv_cannot_honour_a_setting_and_the_log_says_why(
    project: Environment, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.INSTALLER = "auto"
    monkeypatch.setenv("PIP_PREFER_BINARY", "yes")
    client = log_in(Client())
    client.post(f"/environments/{project.pk}/jobs/install/", {"specs": "beta==1.0"})
    work()
    job = Job.objects.get()
    assert job.state == "succeeded", job.summary
    why = "uv cannot honour pip's `prefer-binary` setting (from PIP_PREFER_BINARY)"
    assert (job.installer, job.installer_reason) == ("pip", why)
    assert job.lines.values_list("stream", "text")[0] == ("info", f"installer: pip — {why}")
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Installer: <strong>pip</strong> — uv cannot honour pip&#x27;s `prefer-binary`" in page
    [argv] = _commands(page)
    assert argv[1:5] == ["-I", "-m", "pip", "install"]


def test_an_apply_that_failed_with_uv_is_retried_with_pip(
    project: Environment, settings: SettingsWrapper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan was made with uv; its apply fails with uv; Retry with pip installs the same
    exact pins with pip (the plan names uv, the retry must still run pip)."""
    settings.INSTALLER = "auto"
    Path(project.requirements_source).write_text("alpha==1.0\nbeta==1.0\n")
    scan_environment(project.path)
    client = log_in(Client())
    client.post(f"/environments/{project.pk}/plan/", {"purpose": "install", "name": "beta"})
    work()
    plan = Job.objects.get(kind="plan")
    assert plan.state == "succeeded" and plan.result["plan"]["installer"] == "uv", plan.summary
    blocked = tmp_path / "uv-cache-is-a-file"
    blocked.write_text("")
    monkeypatch.setenv("UV_CACHE_DIR", str(blocked))
    client.post(f"/environments/{project.pk}/plans/{plan.pk}/")
    work()
    failed = Job.objects.get(kind="apply")
    assert failed.state == "failed" and failed.installer == "uv", failed.summary
    client.post(f"/jobs/{failed.pk}/retry/", {"installer": "pip"})
    work()
    again = Job.objects.filter(kind="apply").exclude(pk=failed.pk).get()
    assert again.state == "succeeded", again.summary
    assert again.installer == "pip"
    assert installed(project)["beta"] == "1.0"
