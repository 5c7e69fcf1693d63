"""POST /api/jobs: every kind the pages can start, started through the API on real venvs
with real pip (offline wheels) and run by the real worker; the refusals are the pages'."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.jobs.interpreters import refresh_interpreters
from dashboard.jobs.kinds import KINDS, JobError, validate
from dashboard.jobs.models import Interpreter, Job
from dashboard.jobs.operations import RETRY_INSTALLER
from dashboard.models import Distribution, Environment
from tests.dashboard.api.conftest import ApiClient
from tests.dashboard.conftest import log_in
from tests.dashboard.jobs.conftest import installed, work

pytestmark = pytest.mark.django_db(transaction=True)


def _run(api: ApiClient, body: dict[str, Any]) -> dict[str, Any]:
    """Start a job through the API, let the real worker run it, return the API's view."""
    status, job = api.post("/api/jobs", body)
    assert status == 201, job
    assert api.last["Location"] == f"/api/jobs/{job['id']}"
    assert job["state"] == "queued" and job["kind"] == body["kind"]
    work()
    status, done = api.get(f"/api/jobs/{job['id']}")
    assert status == 200
    assert done["state"] == "succeeded", (done["summary"], done["log"]["lines"][-5:])
    return dict(done)


def test_install_upgrade_and_uninstall(project: Environment, api: ApiClient) -> None:
    env = project.pk
    done = _run(api, {"kind": "install", "environment": env, "specs": "beta==1.0"})
    assert installed(project)["beta"] == "1.0"
    pip = next(argv for argv in done["commands"] if "install" in argv)
    assert pip[0].startswith(project.path) and pip[-1] == "beta==1.0"  # an argv list
    assert pip[pip.index("pip") + 1] == "install"
    assert done["installer"] == "pip" and done["installer_reason"]
    assert done["log"]["lines"] and done["log"]["next"] == done["log"]["lines"][-1]["seq"]
    _run(api, {"kind": "upgrade", "environment": env, "name": "alpha", "target": "latest"})
    assert installed(project)["alpha"] == "2.0"
    _run(api, {"kind": "uninstall", "environment": env, "name": "beta"})
    assert "beta" not in installed(project)
    # The environment the API reads back is the rescan after the jobs.
    packages = {p["name"]: p["version"] for p in api.get(f"/api/environments/{env}")[1]["packages"]}
    assert packages["alpha"] == "2.0" and "beta" not in packages


def test_upgrade_all_and_sync(project: Environment, api: ApiClient) -> None:
    # What an update check stores (dashboard.updates): alpha may go to 1.1 within the file.
    Distribution.objects.filter(environment=project, name="alpha").update(latest_allowed="1.1")
    done = _run(api, {"kind": "upgrade-all", "environment": project.pk})
    assert done["params"]["specs"] == ["alpha==1.1"] and installed(project)["alpha"] == "1.1"
    _run(api, {"kind": "install", "environment": project.pk, "specs": "alpha==2.0"})
    _run(api, {"kind": "sync", "environment": project.pk, "remove_untracked": False})
    assert installed(project)["alpha"] == "1.1"


def test_freeze_preview_then_write(project: Environment, api: ApiClient) -> None:
    body = {"kind": "freeze", "environment": project.pk, "mode": "update"}
    preview = _run(api, body)
    assert "+alpha==1.0" in preview["result"]["diff"]
    requirements = Path(project.path).parent / "requirements.txt"
    assert requirements.read_text() == "# pinned\nalpha==1.1\n"
    _run(api, {**body, "write": True, "expected": preview["result"]["expected"]})
    assert requirements.read_text() == "# pinned\nalpha==1.0\n"


def test_plan_then_apply_exactly_it(project: Environment, api: ApiClient) -> None:
    plan = _run(api, {"kind": "plan", "environment": project.pk, "purpose": "sync"})
    assert installed(project)["alpha"] == "1.0"  # a plan changes nothing
    assert [a["name"] for a in plan["result"]["plan"]["actions"]] == ["alpha"]
    applied = _run(api, {"kind": "apply", "environment": project.pk, "plan": str(plan["id"])})
    assert applied["params"]["plan_job"] == plan["id"]
    assert installed(project)["alpha"] == "1.1"


def test_recreate_then_delete(project: Environment, api: ApiClient) -> None:
    refresh_interpreters()
    interpreter = Interpreter.objects.filter(version__startswith="3.11").first()
    assert interpreter is not None
    body = {"kind": "recreate", "environment": project.pk, "interpreter": str(interpreter.pk)}
    done = _run(api, body)
    assert done["params"]["interpreter"] == interpreter.path
    assert installed(project)["alpha"] == "1.1"  # rebuilt from the requirements file
    _run(api, {"kind": "delete", "environment": project.pk})
    assert not Path(project.path).exists()
    assert api.get(f"/api/environments/{project.pk}")[1]["status"] == "gone"


def test_create_a_new_environment(project: Environment, api: ApiClient, tmp_path: Path) -> None:
    refresh_interpreters()
    interpreter = Interpreter.objects.filter(version__startswith="3.11").first()
    assert interpreter is not None
    target = tmp_path / "fresh" / ".venv"
    body = {"kind": "create", "path": str(target), "interpreter": str(interpreter.pk)}
    done = _run(api, {**body, "prompt": "fresh", "system_site_packages": False})
    assert done["env_path"] == str(target)
    assert "prompt = 'fresh'" in (target / "pyvenv.cfg").read_text()
    _, items = api.get("/api/environments", {"q": "fresh"})
    assert [item["path"] for item in items] == [str(target)]
    assert done["environment"] == items[0]["id"]  # linked once the rescan recorded it


def test_every_kind_the_pages_start_is_tested_here() -> None:
    tested = {"install", "upgrade", "uninstall", "upgrade-all", "sync", "freeze", "plan"}
    assert set(KINDS) == tested | {"apply", "recreate", "delete", "create"}


# -- refusals -----------------------------------------------------------------------------


@pytest.fixture
def listed(tmp_path: Path, settings: SettingsWrapper) -> Environment:
    """An environment as a row inside the scan roots, no venv: every refusal below is
    decided before anything would run (as tests/dashboard/jobs/test_kinds.py does)."""
    settings.SCAN_ROOTS = [tmp_path]
    now = timezone.now()
    moments = dict.fromkeys(("first_seen", "last_seen", "last_scanned", "last_changed"), now)
    path = tmp_path / "app" / ".venv"
    return Environment.objects.create(path=str(path), name="app/.venv", kind="venv", **moments)


PAGE_REFUSALS = [
    ("install", {"specs": "--index-url=http://evil.example/simple"}),
    ("install", {"specs": "-r /etc/passwd"}),
    ("install", {"specs": "pkg; rm -rf /"}),
    ("install", {}),
    ("upgrade", {"name": "alpha", "version": "x"}),
    ("uninstall", {"name": "-r"}),
    ("freeze", {"mode": "sideways"}),
    ("recreate", {"interpreter": "999"}),
    ("plan", {"purpose": "rm -rf"}),
    ("apply", {"plan": "12345"}),
]


@pytest.mark.parametrize(("kind", "fields"), PAGE_REFUSALS)
def test_the_refusals_are_the_pages_in_one_line(
    listed: Environment, api: ApiClient, kind: str, fields: dict[str, str]
) -> None:
    with pytest.raises(JobError) as refused:
        validate(kind, listed, fields)
    expected = str(refused.value)
    assert api.post("/api/jobs", {"kind": kind, "environment": listed.pk, **fields}) == (
        400,
        {"error": expected},
    )
    page = "/plan/" if kind == "plan" else f"/jobs/{kind}/"
    shown = log_in(Client()).post(
        f"/environments/{listed.pk}{page}", {**fields, "confirmed": "1"}, follow=True
    )
    assert html.escape(expected) in shown.content.decode()  # the page said the same
    assert not Job.objects.exists()


def test_a_new_environment_outside_the_scan_roots_is_refused(
    listed: Environment, api: ApiClient
) -> None:
    assert api.post("/api/jobs", {"kind": "create", "path": "/elsewhere/.venv"}) == (
        400,
        {"error": "/elsewhere/.venv is outside the scan roots (see Settings)"},
    )
    assert not Job.objects.exists()


def test_a_gone_or_broken_environment_is_a_conflict(listed: Environment, api: ApiClient) -> None:
    Environment.objects.filter(pk=listed.pk).update(
        health="broken", broken_reason="its base interpreter is gone"
    )
    status, data = api.post("/api/jobs", {"kind": "install", "environment": listed.pk})
    assert (status, data) == (
        409,
        {"error": f"{listed.path} is broken (its base interpreter is gone); recreate it first"},
    )
    # Recreate is what a broken environment needs: not refused for being broken.
    status, data = api.post("/api/jobs", {"kind": "recreate", "environment": listed.pk})
    assert status != 409, data
    Environment.objects.filter(pk=listed.pk).update(gone_at=timezone.now())
    status, data = api.post("/api/jobs", {"kind": "delete", "environment": listed.pk})
    assert status == 409
    assert data["error"] == f"{listed.path} is gone from disk; rescan or recreate it elsewhere"


ENV = -1  # stands for the test's environment


@pytest.mark.parametrize(
    ("body", "status", "refusal"),
    [
        ({}, 400, "kind is one of " + ", ".join(KINDS)),
        ({"kind": "pip"}, 400, "kind is one of " + ", ".join(KINDS)),
        ({"kind": "install", "specs": "alpha"}, 400, "a install job needs 'environment'"),
        ({"kind": "install", "environment": ENV, "force": True}, 400,
         "a install job has no field 'force'"),
        ({"kind": "create", "environment": ENV}, 400, "a create job has no field 'environment'"),
        ({"kind": "install", "environment": "1"}, 400, "environment: '1' is not of type 'integer'"),
        ({"kind": "install", "environment": ENV, "specs": ["a"]}, 400,
         "specs: ['a'] is not of type 'string'"),
        ({"kind": "delete", "environment": ENV, "force": "1"}, 400,
         "force: '1' is not of type 'boolean'"),
        ({"kind": "install", "environment": ENV, "specs": "a\x00"}, 400,
         "specs holds a NUL character"),
        ({"kind": "install", "environment": 99999}, 404, "no environment with id 99999"),
    ],
)  # fmt: skip
def test_a_body_the_kind_does_not_take_is_refused_in_one_line(
    listed: Environment, api: ApiClient, body: dict[str, Any], status: int, refusal: str
) -> None:
    if body.get("environment") == ENV:
        body = {**body, "environment": listed.pk}
    assert api.post("/api/jobs", body) == (status, {"error": refusal})
    assert not Job.objects.exists()


# -- cancel and retry ---------------------------------------------------------------------


def test_cancel_a_queued_job_then_it_never_runs(project: Environment, api: ApiClient) -> None:
    _, job = api.post("/api/jobs", {"kind": "install", "environment": project.pk, "specs": "beta"})
    status, cancelling = api.post(f"/api/jobs/{job['id']}/cancel")
    assert status == 202 and cancelling["cancel_requested"] is True
    assert api.last["Location"] == f"/api/jobs/{job['id']}"
    work()
    assert api.get(f"/api/jobs/{job['id']}")[1]["state"] == "cancelled"
    assert "beta" not in installed(project)
    assert api.post(f"/api/jobs/{job['id']}/cancel") == (
        409,
        {"error": "the job has already cancelled"},
    )
    assert api.post("/api/jobs/99999/cancel") == (404, {"error": "no job with id 99999"})


def test_retry_a_failed_job_and_the_retry_with_pip_rule(
    project: Environment, api: ApiClient
) -> None:
    body = {"kind": "install", "environment": project.pk, "specs": "no-such-package"}
    _, job = api.post("/api/jobs", body)
    retry = f"/api/jobs/{job['id']}/retry"
    assert api.post(retry) == (409, {"error": "The job is still running."})
    work()
    failed = api.get(f"/api/jobs/{job['id']}")[1]
    assert failed["state"] == "failed" and failed["installer"] == "pip"
    assert failed["retry_with_pip"] is False
    assert api.post(retry, {"installer": "pip"}) == (
        409,
        {"error": "Retry with pip is for a job that failed with uv."},
    )
    assert api.post(retry, {"installer": "conda"}) == (
        400,
        {"error": "a job can only be retried as it was, or with pip"},
    )
    assert api.post(retry, {"with": "pip"}) == (400, {"error": "a retry has no field 'with'"})
    status, again = api.post(retry)
    assert status == 201 and again["id"] != job["id"] and again["state"] == "queued"
    assert again["params"] == failed["params"]
    assert api.last["Location"] == f"/api/jobs/{again['id']}"
    # A job that failed with uv may run again with pip (as its page offers).
    Job.objects.filter(pk=job["id"]).update(installer="uv")
    assert api.get(f"/api/jobs/{job['id']}")[1]["retry_with_pip"] is True
    status, with_pip = api.post(retry, {"installer": "pip"})
    assert status == 201 and with_pip["params"]["installer"] == RETRY_INSTALLER
