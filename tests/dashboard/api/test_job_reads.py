"""GET /api/jobs and /api/jobs/<id>: filters, newest first, and the log after a cursor
(the job page's poll), with index credentials left out of everything returned."""

from __future__ import annotations

import shlex

import pytest
from django.utils import timezone

from dashboard.jobs.models import Job, JobLine
from dashboard.jobs.stream import LINES_PER_POLL
from dashboard.models import Environment
from tests.dashboard.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

SECRET_INDEX = "https://me:s3cret@pypi.example/simple"


def _env(name: str) -> Environment:
    now = timezone.now()
    moments = dict.fromkeys(("first_seen", "last_seen", "last_scanned", "last_changed"), now)
    return Environment.objects.create(path=f"/x/{name}", name=name, kind="venv", **moments)


def _job(env: Environment | None, kind: str = "install", state: str = "queued") -> Job:
    return Job.objects.create(
        kind=kind,
        environment=env,
        env_path=env.path if env else "/x/new",
        machine="m",
        params={"specs": ["alpha"], "what": "alpha"},
        state=state,
    )


def test_jobs_newest_first_with_filters(api: ApiClient) -> None:
    one, two = _env("one"), _env("two")
    first = _job(one, "install", "succeeded")
    second = _job(two, "freeze", "failed")
    third = _job(one, "uninstall", "queued")
    status, items = api.get("/api/jobs")
    assert status == 200 and [item["id"] for item in items] == [third.pk, second.pk, first.pk]
    assert items[0]["url"] == f"/jobs/{third.pk}/" and items[0]["environment"] == one.pk
    assert [i["id"] for i in api.get("/api/jobs", {"environment": str(one.pk)})[1]] == [
        third.pk,
        first.pk,
    ]
    assert [i["id"] for i in api.get("/api/jobs", {"state": "failed"})[1]] == [second.pk]
    assert [i["id"] for i in api.get("/api/jobs", {"kind": "install"})[1]] == [first.pk]
    assert [i["id"] for i in api.get("/api/jobs", {"limit": "1"})[1]] == [third.pk]


@pytest.mark.parametrize(
    ("query", "refusal"),
    [
        (
            {"state": "done"},
            "state is one of queued, running, succeeded, failed, cancelled, interrupted",
        ),
        (
            {"kind": "pip"},
            "kind is one of create, install, upgrade, upgrade-all, uninstall, "
            "sync, freeze, recreate, delete, plan, apply",
        ),
        ({"limit": "0"}, "limit is between 1 and 500"),
        ({"limit": "501"}, "limit is between 1 and 500"),
        ({"environment": "-1"}, "environment must be a whole number (0 or more)"),
        (
            {"env": "1"},
            "unknown parameter 'env'; the parameters are environment, state, kind, limit",
        ),
    ],
)
def test_a_bad_job_filter_is_refused_in_one_line(
    api: ApiClient, query: dict[str, str], refusal: str
) -> None:
    assert api.get("/api/jobs", query) == (400, {"error": refusal})


def test_the_log_pages_after_a_cursor_until_the_job_is_done(api: ApiClient) -> None:
    job = _job(_env("one"), state="running")
    total = LINES_PER_POLL + 5
    JobLine.objects.bulk_create(
        JobLine(job=job, seq=seq, stream="out", text=f"line {seq}") for seq in range(1, total + 1)
    )
    status, data = api.get(f"/api/jobs/{job.pk}")
    assert status == 200
    assert [line["seq"] for line in data["log"]["lines"]] == list(range(1, LINES_PER_POLL + 1))
    assert data["log"]["next"] == LINES_PER_POLL and data["log"]["done"] is False
    rest = api.get(f"/api/jobs/{job.pk}", {"after": str(data["log"]["next"])})[1]
    assert [line["text"] for line in rest["log"]["lines"]] == [
        f"line {seq}" for seq in range(LINES_PER_POLL + 1, total + 1)
    ]
    assert rest["log"]["next"] == total
    waiting = api.get(f"/api/jobs/{job.pk}", {"after": str(total)})[1]
    assert waiting["log"] == {"lines": [], "next": total, "done": False}  # still running
    Job.objects.filter(pk=job.pk).update(state="succeeded", finished_at=timezone.now())
    ended = api.get(f"/api/jobs/{job.pk}", {"after": str(total)})[1]
    assert ended["log"] == {"lines": [], "next": total, "done": True}
    assert api.get(f"/api/jobs/{job.pk}", {"after": "x"}) == (
        400,
        {"error": "after must be a whole number (0 or more)"},
    )
    assert api.get("/api/jobs/99999") == (404, {"error": "no job with id 99999"})


def test_index_credentials_are_left_out_of_argv_log_and_parameters(api: ApiClient) -> None:
    job = _job(_env("one"), state="failed")
    job.params = {"specs": [f"alpha @ {SECRET_INDEX}/alpha.whl"], "what": "alpha"}
    job.summary = f"failed: could not reach {SECRET_INDEX}"
    job.save()
    argv = ["pip", "install", f"--index-url={SECRET_INDEX}", "--extra-index-url", SECRET_INDEX]
    JobLine.objects.create(job=job, seq=1, stream="cmd", text="$ " + shlex.join(argv))
    JobLine.objects.create(job=job, seq=2, stream="err", text=f"Looking in {SECRET_INDEX}")
    _, data = api.get(f"/api/jobs/{job.pk}")
    assert data["commands"] == [
        [
            "pip",
            "install",
            "--index-url=https://me:****@pypi.example/simple",
            "--extra-index-url",
            "https://me:****@pypi.example/simple",
        ]
    ]
    assert data["log"]["lines"][1]["text"] == "Looking in https://me:****@pypi.example/simple"
    assert data["params"]["specs"] == ["alpha @ https://me:****@pypi.example/simple/alpha.whl"]
    assert "s3cret" not in api.last.content.decode()
    assert "s3cret" not in api.get("/api/jobs")[1][0]["summary"]
