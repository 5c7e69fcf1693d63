"""Workers that die, and the serve that supervises them, as whole processes: a killed
worker's install is ended and its job says so within seconds; serve restarts a killed
worker; a killed serve takes its workers (and their installs) with it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from django.test import Client

from dashboard.jobs.models import Job
from dashboard.models import Environment, Worker
from envcore.runner import ProcessIdentity
from tests.dashboard.conftest import log_in
from tests.dashboard.jobs.conftest import (
    command_environment,
    installed,
    wait_until,
    worker_processes,
)
from tests.envcore.indexserver import IndexState, serve_index
from tests.wheelmaker import write_wheel

pytestmark = pytest.mark.django_db(transaction=True)

#: "A few seconds": from a kill to the job marked and its processes gone.
FEW_SECONDS = 10.0


def _gone(pid: int) -> bool:
    """Dead, or a zombie nobody reaped yet (in containers PID 1 may be slow to)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _tree(leader: ProcessIdentity) -> list[int]:
    process = psutil.Process(leader.pid)
    assert process.create_time() == pytest.approx(leader.started, abs=1)
    return [leader.pid, *(child.pid for child in process.children(recursive=True))]


@contextmanager
def _slow_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[IndexState]:
    """An index whose only package, slowpkg, takes about 20 s to download."""
    state = IndexState(trickle=1.0)
    state.publish(write_wheel(tmp_path / "index", "slowpkg", "1.0"))
    with serve_index(state) as url:
        monkeypatch.delenv("PIP_NO_INDEX")
        monkeypatch.delenv("PIP_FIND_LINKS")
        monkeypatch.setenv("PIP_INDEX_URL", url)
        yield state


def _downloading(state: IndexState) -> bool:
    return any(path.startswith("/files/slowpkg") for path in state.requests)


def _running_install(project: Environment, state: IndexState) -> tuple[Job, ProcessIdentity]:
    log_in(Client()).post(f"/environments/{project.pk}/jobs/install/", {"specs": "slowpkg"})
    wait_until(lambda: _downloading(state), timeout=120)
    job = Job.objects.get()
    assert job.state == "running" and job.leader is not None
    return job, job.leader


def test_a_worker_killed_mid_install_ends_the_install_and_says_so(
    project: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "index").mkdir()
    with _slow_index(tmp_path, monkeypatch) as state:
        workers = worker_processes(2, tmp_path)
        try:
            job, leader = _running_install(project, state)
            install = _tree(leader)
            [victim] = [w for w in workers if job.worker.endswith(f":{w.pid}")]
            # Left unreaped: the zombie must not pass for a live worker.
            victim.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            wait_until(lambda: Job.objects.get(pk=job.pk).finished, timeout=FEW_SECONDS)
            wait_until(lambda: all(_gone(pid) for pid in install), timeout=FEW_SECONDS)
            took = time.monotonic() - killed_at
            # The surviving worker rescans the environment once nothing runs in it.
            wait_until(lambda: _rescanned_after(project, job), timeout=60)
        finally:
            for worker in workers:
                worker.kill()
                worker.wait()
    job.refresh_from_db()
    assert job.state == "interrupted"
    assert job.summary == (
        "interrupted: the worker died while install slowpkg ran; "
        "the environment may be partly changed"
    )
    assert took < FEW_SECONDS
    assert "slowpkg" not in installed(project)  # the download never finished


def _rescanned_after(project: Environment, job: Job) -> bool:
    scanned = Environment.objects.get(pk=project.pk).last_scanned
    finished = Job.objects.get(pk=job.pk).finished_at
    return scanned is not None and finished is not None and scanned > finished


@contextmanager
def _serve(tmp_path: Path, workers: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {**command_environment(), "ENVDASH_JOB_CONCURRENCY": str(workers)}
    serve = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "serve", "--port", "0", "--no-scan"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "serve.log").open("wb"),
    )
    try:
        yield serve
    finally:
        for child in _children(serve.pid) + _children(serve.pid, "watch"):  # what is left
            with contextlib.suppress(psutil.Error):
                child.kill()
        with contextlib.suppress(ProcessLookupError):
            serve.kill()
        serve.wait()


def _children(pid: int, kind: str = "worker") -> list[psutil.Process]:
    """serve's live `kind` processes (its workers, or its watcher)."""
    try:
        return [
            p
            for p in psutil.Process(pid).children()
            if p.status() != psutil.STATUS_ZOMBIE and kind in p.cmdline()
        ]
    except psutil.Error:
        return []


def _beating_workers(serve: subprocess.Popen[bytes], count: int) -> list[int]:
    """Wait for `count` workers of serve that have said they are alive; their pids."""

    def ready() -> bool:
        pids = {p.pid for p in _children(serve.pid)}
        return len(pids) == count and Worker.objects.filter(pid__in=pids).count() == count

    wait_until(ready, timeout=90)
    return sorted(p.pid for p in _children(serve.pid))


def test_killing_serve_ends_its_workers_and_the_install_they_ran(
    project: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "index").mkdir()
    with _slow_index(tmp_path, monkeypatch) as state, _serve(tmp_path, workers=2) as serve:
        workers = _beating_workers(serve, 2)
        job, leader = _running_install(project, state)
        install = _tree(leader)
        serve.send_signal(signal.SIGKILL)
        serve.wait()
        wait_until(lambda: all(_gone(pid) for pid in workers + install), timeout=FEW_SECONDS)
    job.refresh_from_db()
    assert job.state == "interrupted"
    assert job.summary == (
        "interrupted: envdash serve stopped while install slowpkg ran; "
        "the environment may be partly changed"
    )
    assert "slowpkg" not in installed(project)


def test_serve_restarts_a_killed_worker_and_jobs_still_run(
    project: Environment, tmp_path: Path
) -> None:
    with _serve(tmp_path, workers=1) as serve:
        [first] = _beating_workers(serve, 1)
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: [p.pid for p in _children(serve.pid)] not in ([], [first]), 30)
        assert not psutil.pid_exists(first)  # reaped, not left a zombie
        [second] = _beating_workers(serve, 1)
        log_in(Client()).post(f"/environments/{project.pk}/jobs/install/", {"specs": "beta"})
        wait_until(lambda: Job.objects.get().finished, timeout=120)
    job = Job.objects.get()
    assert job.state == "succeeded", job.summary
    assert job.worker.endswith(f":{second}")
    assert "beta" in installed(project)
    log = (tmp_path / "serve.log").read_text()
    restarts = [line for line in log.splitlines() if "restarted" in line]
    assert len(restarts) == 1
    assert re.fullmatch(
        rf"envdash: worker {first} was killed by SIGKILL after \d+ s; waited 1 s; "
        rf"restarted as worker {second}",
        restarts[0],
    )
