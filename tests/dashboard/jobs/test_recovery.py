"""A worker killed in the middle of a recreate: the next worker start finds the job, ends
what it left running, and puts the old environment back."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from pathlib import Path

import psutil
import pytest
from django.test import Client

from dashboard.jobs.models import Job, JobLine
from dashboard.models import Activity, Environment
from dashboard.worker_startup import run_startup_checks
from tests.dashboard.conftest import log_in
from tests.dashboard.jobs.conftest import installed, wait_until, worker_processes

pytestmark = pytest.mark.django_db(transaction=True)


def _backups(env_path: Path) -> list[Path]:
    return [p for p in env_path.parent.iterdir() if p.name.startswith(f".{env_path.name}.")]


def _living(pgid: int) -> list[int]:
    """Live members of a process group (an orphan's zombie stays until init reaps it)."""
    members = []
    for process in psutil.process_iter(["status"]):
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(process.pid) == pgid and process.info["status"] != psutil.STATUS_ZOMBIE:
                members.append(process.pid)
    return members


def test_a_worker_killed_mid_recreate_is_repaired_at_the_next_start(
    project: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_path = Path(project.path)
    before = installed(project)
    # The new environment's install waits forever on an index that never answers, so the
    # kill lands while the old environment sits renamed aside as a backup.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    monkeypatch.delenv("PIP_NO_INDEX")
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{listener.getsockname()[1]}/simple")
    monkeypatch.setenv("PIP_TIMEOUT", "600")
    client = log_in(Client())
    client.post(f"/environments/{project.pk}/jobs/recreate/", {"confirmed": "1"})
    job = Job.objects.get()
    [worker] = worker_processes(1, tmp_path)
    try:
        wait_until(
            lambda: JobLine.objects.filter(
                job=job, stream="cmd", text__contains=" install "
            ).exists(),
            timeout=90,
        )
        wait_until(lambda: Job.objects.get(pk=job.pk).pgid is not None, timeout=10)
        assert len(_backups(env_path)) == 1
        pgid = Job.objects.get(pk=job.pk).pgid
        assert pgid is not None
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        listener.close()
    assert _living(pgid)  # pip outlived its worker, in its own process group

    run_startup_checks()

    job.refresh_from_db()
    assert job.state == "interrupted"
    assert "\n" not in job.summary and "worker" in job.summary
    assert _living(pgid) == []
    assert _backups(env_path) == []
    assert installed(project) == before  # the old environment is back and works
    restored = Activity.objects.get(kind="recovery")
    assert "restored" in restored.message and str(env_path) in restored.message
    project.refresh_from_db()
    assert project.gone_at is None
