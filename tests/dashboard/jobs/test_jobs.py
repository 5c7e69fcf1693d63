"""Jobs end to end: a POST queues a job, the real worker runs real pip, the page shows it."""

from __future__ import annotations

import itertools
import signal
import socket
import subprocess
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.jobs.interpreters import refresh_interpreters
from dashboard.jobs.models import Interpreter, Job, JobLine
from dashboard.jobs.queue import RETRY_SECONDS
from dashboard.jobs.reaper import reap_interrupted
from dashboard.live import revision
from dashboard.models import Activity, Environment
from dashboard.scanning import scan_tree
from tests.dashboard.conftest import log_in
from tests.dashboard.jobs.conftest import (
    installed,
    living_members,
    wait_until,
    work,
    worker_processes,
)
from tests.envtools import make_venv

pytestmark = pytest.mark.django_db(transaction=True)


def test_install_runs_real_pip_streams_its_log_and_refreshes_the_env(project: Environment) -> None:
    client = log_in(Client())
    before = revision()
    response = client.post(f"/environments/{project.pk}/jobs/install/", {"specs": "beta==1.0"})
    job = Job.objects.get()
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.state == "queued"
    assert revision() == before + 1  # open pages show the queued job
    work()
    # Claimed, ended, its environment's rescan started and finished: pages follow each.
    assert revision() >= before + 5
    job.refresh_from_db()
    assert job.state == "succeeded", job.summary
    assert "+ beta 1.0" in job.summary
    lines = list(JobLine.objects.filter(job=job).values_list("seq", "stream", "text"))
    assert [seq for seq, _, _ in lines] == list(range(1, len(lines) + 1))
    times = list(JobLine.objects.filter(job=job).order_by("seq").values_list("at", flat=True))
    assert times == sorted(times)
    assert lines[0][1:] == ("info", "installer: pip — chosen")
    assert lines[1][1] == "cmd" and "pip" in lines[1][2] and "--" in lines[1][2].split()
    assert installed(project)["beta"] == "1.0"
    project.refresh_from_db()
    assert project.distributions.filter(name="beta").exists()  # re-inspected after the job
    activity = Activity.objects.get(kind="job")
    # Named as the pages name it (`app/.venv`), not by the bare directory.
    assert activity.message == f"{job.title} on {project.name}: succeeded"
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Succeeded" in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no polling


def test_the_dashboards_index_settings_reach_pip(
    project: Environment,
    wheelhouse: Path,
    settings: SettingsWrapper,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With pip's own configuration pointing nowhere, ENVDASH_FIND_LINKS/NO_INDEX suffice."""
    monkeypatch.delenv("PIP_NO_INDEX")
    monkeypatch.delenv("PIP_FIND_LINKS")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    settings.INDEX_FIND_LINKS = (str(wheelhouse),)
    settings.INDEX_NO_INDEX = True
    log_in(Client()).post(f"/environments/{project.pk}/jobs/install/", {"specs": "beta==1.0"})
    work()
    job = Job.objects.get()
    assert job.state == "succeeded", job.summary
    command = JobLine.objects.filter(job=job, stream="cmd").first()
    assert command is not None
    assert "--no-index" in command.text and f"--find-links={wheelhouse}" in command.text
    assert installed(project)["beta"] == "1.0"


@pytest.mark.parametrize(
    "spec", ["--index-url=http://evil.example/simple", "-r /etc/passwd", "pkg; rm -rf /", "./x"]
)
def test_hostile_specs_are_refused_before_anything_runs(project: Environment, spec: str) -> None:
    client = log_in(Client())
    response = client.post(
        f"/environments/{project.pk}/jobs/install/", {"specs": spec}, follow=True
    )
    assert not Job.objects.exists()
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1 and "\n" not in messages[0]


def test_a_failing_install_leaves_the_environment_as_it_was(project: Environment) -> None:
    before = installed(project)
    client = log_in(Client())
    client.post(f"/environments/{project.pk}/jobs/install/", {"specs": "no-such-package"})
    work()
    job = Job.objects.get()
    assert job.state == "failed"
    assert "\n" not in job.summary and job.summary
    assert installed(project) == before


def test_jobs_on_one_environment_run_one_after_another(project: Environment) -> None:
    client = log_in(Client())
    for version in ("1.1", "2.0", "1.0", "1.1"):
        client.post(f"/environments/{project.pk}/jobs/install/", {"specs": f"alpha=={version}"})
    work()
    jobs = list(Job.objects.order_by("pk"))
    assert [job.state for job in jobs] == ["succeeded"] * 4
    for earlier, later in itertools.pairwise(jobs):
        assert earlier.finished_at is not None and later.started_at is not None
        assert later.started_at >= earlier.finished_at  # never overlapping, in order
    assert installed(project)["alpha"] == "1.1"


def test_the_log_endpoint_sends_new_lines_escaped_and_stops_polling(project: Environment) -> None:
    job = Job.objects.create(kind="install", environment=project, env_path=project.path)
    JobLine.objects.create(job=job, seq=1, stream="stdout", text="one")
    JobLine.objects.create(job=job, seq=2, stream="stdout", text="<script>alert(1)</script>")
    client = log_in(Client())
    update = client.get(f"/jobs/{job.pk}/?after=1", headers={"HX-Request": "true"})
    body = update.content.decode()
    assert update.status_code == 200
    assert "one" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body
    Job.objects.filter(pk=job.pk).update(state="succeeded")
    done = client.get(f"/jobs/{job.pk}/?after=2", headers={"HX-Request": "true"})
    assert done.status_code == 286


def test_cancel_before_start_and_the_reaper_for_a_killed_worker(
    project: Environment, settings: SettingsWrapper
) -> None:
    client = log_in(Client())
    client.post(f"/environments/{project.pk}/jobs/install/", {"specs": "beta"})
    job = Job.objects.get()
    client.post(f"/jobs/{job.pk}/cancel/")
    work()
    job.refresh_from_db()
    assert job.state == "cancelled"
    # A job whose worker (on another host) went silent, its process group still running.
    # Popen returns once `sleep` is exec'd: the leader's pid and start time are final.
    child = subprocess.Popen(["sleep", "60"], start_new_session=True)
    dead = Job.objects.create(
        kind="install",
        environment=project,
        env_path=project.path,
        machine=settings.MACHINE_NAME,
        worker="elsewhere:1",
        params={"specs": ["beta"], "what": "beta"},
        state="running",
        heartbeat_at=timezone.now(),
        pgid=child.pid,
        leader_started=psutil.Process(child.pid).create_time(),
    )
    assert reap_interrupted() == 0  # heartbeat still fresh
    later = timezone.now() + timedelta(minutes=5)
    assert reap_interrupted(now_fn=lambda: later) == 1
    dead.refresh_from_db()
    assert dead.state == "interrupted"
    assert dead.summary == (
        "interrupted: the worker died while install beta ran; the environment may be partly changed"
    )
    assert child.wait(timeout=10) == -signal.SIGTERM or child.returncode < 0


def test_the_reaper_leaves_other_machines_and_strangers_processes_alone(
    project: Environment, settings: SettingsWrapper
) -> None:
    """A pgid is only meaningful on the job's machine, and only for processes it started."""
    stale = timezone.now() - timedelta(minutes=5)
    stranger = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        elsewhere = Job.objects.create(
            kind="install",
            env_path=project.path,
            machine="another-machine",
            state="running",
            heartbeat_at=stale,
            pgid=stranger.pid,
        )
        # Same machine, stale: interrupted, but the recorded leader's pid now names a
        # process that started at another time (as after a reboot): it must survive.
        reused = Job.objects.create(
            kind="install",
            env_path=project.path,
            machine=settings.MACHINE_NAME,
            state="running",
            heartbeat_at=stale,
            pgid=stranger.pid,
            leader_started=psutil.Process(stranger.pid).create_time() - 600,
        )
        assert reap_interrupted() == 1
        assert Job.objects.get(pk=elsewhere.pk).state == "running"
        assert Job.objects.get(pk=reused.pk).state == "interrupted"
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_freeze_previews_a_diff_then_writes_with_a_backup(project: Environment) -> None:
    client = log_in(Client())
    client.post(f"/environments/{project.pk}/jobs/freeze/", {"mode": "update"})
    work()
    preview = Job.objects.get()
    assert preview.state == "succeeded", preview.summary
    assert "-alpha==1.1" in preview.result["diff"] and "+alpha==1.0" in preview.result["diff"]
    requirements = Path(project.project.path) / "requirements.txt"  # type: ignore[union-attr]
    assert requirements.read_text() == "# pinned\nalpha==1.1\n"  # nothing written yet
    page = client.get(f"/jobs/{preview.pk}/").content.decode()
    assert "Write " in page
    client.post(
        f"/environments/{project.pk}/jobs/freeze/",
        {"mode": "update", "write": "1", "expected": preview.result["expected"]},
    )
    work()
    written = Job.objects.order_by("-pk")[0]
    assert written.state == "succeeded", written.summary
    assert requirements.read_text() == "# pinned\nalpha==1.0\n"
    backups = [p for p in requirements.parent.iterdir() if p.name.startswith("requirements.txt.")]
    assert len(backups) == 1 and backups[0].read_text() == "# pinned\nalpha==1.1\n"


def test_delete_asks_first_then_removes_the_environment(project: Environment) -> None:
    client = log_in(Client())
    confirm = client.post(f"/environments/{project.pk}/jobs/delete/")
    assert b"Yes, delete it" in confirm.content
    assert not Job.objects.exists()
    client.post(f"/environments/{project.pk}/jobs/delete/", {"confirmed": "1"})
    work()
    job = Job.objects.get()
    assert job.state == "succeeded", job.summary
    assert not Path(project.path).exists()
    project.refresh_from_db()
    assert project.gone_at is not None


def test_job_pages_need_a_session_and_posts_need_csrf(project: Environment) -> None:
    assert Client().post(f"/environments/{project.pk}/jobs/install/").status_code == 302
    strict = log_in(Client(enforce_csrf_checks=True))
    assert (
        strict.post(f"/environments/{project.pk}/jobs/install/", {"specs": "beta"}).status_code
        == 403
    )
    assert not Job.objects.exists()
    assert log_in(Client()).get("/jobs/").status_code == 200


def test_create_a_new_environment_with_a_probed_interpreter(
    project: Environment, tmp_path: Path
) -> None:
    client = log_in(Client())
    empty = client.get("/environments/new/").content.decode()
    assert "No interpreters known yet" in empty
    assert '<div id="interpreter-field" data-live>' in empty  # fills in by itself
    before = revision()
    assert refresh_interpreters() >= 1
    assert revision() > before  # open pages re-fetch the field
    again = revision()
    refresh_interpreters()
    assert revision() == again  # nothing new found: open pages are left alone
    assert '<div id="interpreter-field">' in client.get("/environments/new/").content.decode()
    interpreter = Interpreter.objects.filter(version__startswith="3.11").first()
    assert interpreter is not None
    outside = client.post(
        "/environments/new/", {"path": "/elsewhere/.venv", "interpreter": interpreter.pk}
    )
    assert outside.status_code == 400 and b"outside the scan roots" in outside.content
    target = tmp_path / "fresh" / ".venv"
    response = client.post(
        "/environments/new/",
        {"path": str(target), "interpreter": interpreter.pk, "prompt": "fresh"},
    )
    job = Job.objects.get(kind="create")
    assert response["Location"] == f"/jobs/{job.pk}/"
    work()
    job.refresh_from_db()
    assert job.state == "succeeded", job.summary
    assert "prompt = 'fresh'" in (target / "pyvenv.cfg").read_text()
    assert Environment.objects.get(path=str(target)).kind == "venv"  # scanned in


def test_recreate_asks_first_and_can_choose_the_interpreter(project: Environment) -> None:
    refresh_interpreters()
    interpreter = Interpreter.objects.filter(version__startswith="3.11").first()
    assert interpreter is not None
    client = log_in(Client())
    confirm = client.post(f"/environments/{project.pk}/jobs/recreate/").content.decode()
    assert "Yes, recreate it" in confirm and interpreter.path in confirm
    bogus = client.post(
        f"/environments/{project.pk}/jobs/recreate/",
        {"confirmed": "1", "interpreter": "999"},
        follow=True,
    )
    assert "choose one of the interpreters" in bogus.content.decode()
    client.post(
        f"/environments/{project.pk}/jobs/recreate/",
        {"confirmed": "1", "interpreter": str(interpreter.pk)},
    )
    work()
    job = Job.objects.get()
    assert job.state == "succeeded", job.summary
    assert job.params["interpreter"] == interpreter.path
    assert installed(project)["alpha"] == "1.1"  # rebuilt from the requirements file
    # The same versions again is what a recreate is for: said so, not "nothing changed".
    count = len(installed(project))
    assert job.summary.startswith(f"recreated with {count} packages reinstalled"), job.summary


def test_each_package_row_has_upgrade_and_remove_buttons(project: Environment) -> None:
    client = log_in(Client())
    page = client.get(f"/environments/{project.pk}/").content.decode()
    row = page[page.index('data-package="alpha"') :].split("</tr>")[0]
    assert f"/environments/{project.pk}/jobs/upgrade/" in row
    # Remove (and Install of the required version) show their plan first: see test_plans.
    assert f'action="/environments/{project.pk}/plan/"' in row
    assert 'name="purpose" value="remove"' in row and 'name="purpose" value="install"' in row
    client.post(f"/environments/{project.pk}/jobs/upgrade/", {"name": "alpha", "target": "allowed"})
    work()
    job = Job.objects.get()
    assert job.state == "succeeded", job.summary
    assert job.params["specifier"] == "==1.1"  # the project's requirement bounds the upgrade
    assert installed(project)["alpha"] == "1.1"


def test_ten_jobs_on_one_env_with_two_workers_run_in_order_and_none_is_lost(
    project: Environment, tmp_path: Path, wheelhouse: Path
) -> None:
    """Ten jobs on one env run one at a time, in order, each starting as the one before it
    ends; meanwhile jobs on another env run beside them on the second worker."""
    make_venv(tmp_path / "other" / ".venv", [], wheelhouse=wheelhouse, with_pip=True)
    scan_tree()
    other = Environment.objects.get(path=str(tmp_path / "other" / ".venv"))
    client = log_in(Client())
    versions = ["1.1", "2.0", "1.0"] * 3 + ["1.1"]
    for version in versions:
        client.post(f"/environments/{project.pk}/jobs/install/", {"specs": f"alpha=={version}"})
    for version in ("1.0", "1.1", "2.0"):
        client.post(f"/environments/{other.pk}/jobs/install/", {"specs": f"alpha=={version}"})
    workers = worker_processes(2, tmp_path)
    try:
        wait_until(lambda: Job.objects.filter(state="succeeded").count() == 13, timeout=300)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
    jobs = list(Job.objects.filter(environment=project).order_by("pk"))
    assert len(jobs) == 10
    for earlier, later in itertools.pairwise(jobs):
        assert earlier.finished_at is not None and later.started_at is not None
        assert later.started_at >= earlier.finished_at  # one at a time, in order
        # Started by the job ahead as it finished, not by the fallback retry.
        assert later.started_at - earlier.finished_at < timedelta(seconds=RETRY_SECONDS / 2)
    beside = Job.objects.filter(environment=other)
    assert any(
        a.started_at < b.finished_at and b.started_at < a.finished_at  # type: ignore[operator]
        for a in jobs
        for b in beside
    ), "no job on the other environment ran in parallel"
    assert installed(project)["alpha"] == "1.1"
    assert installed(other)["alpha"] == "2.0"


def test_cancel_a_running_job_ends_its_processes(
    project: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip waits on an index that never answers; Cancel must end pip and fail nothing else."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections, never replies
    monkeypatch.delenv("PIP_NO_INDEX")
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{listener.getsockname()[1]}/simple")
    monkeypatch.setenv("PIP_TIMEOUT", "600")
    before = installed(project)
    client = log_in(Client())
    client.post(f"/environments/{project.pk}/jobs/install/", {"specs": "not-in-wheelhouse"})
    job = Job.objects.get()
    workers = worker_processes(1, tmp_path)
    try:
        wait_until(lambda: Job.objects.get(pk=job.pk).pgid is not None, timeout=60)
        pgid = Job.objects.get(pk=job.pk).pgid
        assert pgid is not None
        client.post(f"/jobs/{job.pk}/cancel/")
        wait_until(lambda: Job.objects.get(pk=job.pk).finished, timeout=60)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
        listener.close()
    job.refresh_from_db()
    assert job.state == "cancelled", job.summary
    # The whole process group is gone (a short-lived child pip had running may linger as
    # a zombie of PID 1, which a container may never reap).
    assert living_members(pgid) == []
    assert installed(project) == before
    retried = client.post(f"/jobs/{job.pk}/retry/")
    again = Job.objects.exclude(pk=job.pk).get()
    assert retried["Location"] == f"/jobs/{again.pk}/"
    assert (again.kind, again.params, again.state) == (job.kind, job.params, "queued")
