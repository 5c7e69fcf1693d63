"""Waking idle workers: the FIFO a worker waits on, and a real worker woken by a queued task."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.models import Worker
from dashboard.tasks import enqueue_scan
from dashboard.wake import Waker, fifo_path, wake_workers
from tests.dashboard.jobs.conftest import command_environment, wait_until

WORKER = [sys.executable, "-m", "dashboard.cli", "worker"]
#: A child process that waits on the FIFO as an idle worker does, and says how long it slept.
WAITER = """
import sys, time
from pathlib import Path
from dashboard.wake import Waker
waker = Waker(Path(sys.argv[1]))
print("waiting", flush=True)
started = time.monotonic()
woken = waker.wait(60)
print(woken, round(time.monotonic() - started, 3), flush=True)
"""


def test_a_waker_sleeps_its_whole_timeout_when_nothing_is_queued(tmp_path: Path) -> None:
    waker = Waker(tmp_path / "wake")
    started = time.monotonic()
    assert waker.wait(0.3) is False
    assert time.monotonic() - started >= 0.3
    waker.close()


def test_interrupt_ends_the_wait_at_once(tmp_path: Path) -> None:
    waker = Waker(tmp_path / "wake")
    waker.interrupt()
    started = time.monotonic()
    assert waker.wait(30) is True
    assert time.monotonic() - started < 1
    assert waker.wait(0.05) is False  # the wake-up was used up
    waker.close()


def test_each_wake_ends_the_wait_of_one_idle_worker(
    tmp_path: Path, settings: SettingsWrapper
) -> None:
    settings.DATA_DIR = tmp_path
    waiters = [
        subprocess.Popen(
            [sys.executable, "-c", WAITER, str(fifo_path())],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        for _ in range(2)
    ]
    try:
        for waiter in waiters:
            assert waiter.stdout is not None and waiter.stdout.readline() == "waiting\n"
        wake_workers()
        wake_workers()  # two tasks queued: both idle workers poll
        for waiter in waiters:
            out, _ = waiter.communicate(timeout=10)
            woken, seconds = out.split()
            assert woken == "True" and float(seconds) < 5, out
    finally:
        for waiter in waiters:
            waiter.kill()
            waiter.wait()


def test_waking_with_no_worker_listening_does_nothing(
    tmp_path: Path, settings: SettingsWrapper
) -> None:
    settings.DATA_DIR = tmp_path
    wake_workers()  # no FIFO yet: no worker ever ran here
    os.mkfifo(fifo_path())
    wake_workers()  # a FIFO no process reads (ENXIO): nothing blocks, nothing raised
    fifo_path().unlink()
    fifo_path().write_text("")
    wake_workers()  # not a FIFO: left alone
    assert fifo_path().read_text() == ""


def test_a_waker_refuses_a_path_that_is_not_a_fifo(tmp_path: Path) -> None:
    (tmp_path / "wake").write_text("")
    with pytest.raises(OSError, match="not a FIFO"):
        Waker(tmp_path / "wake")
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OSError):
        Waker(tmp_path / "link")
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.django_db(transaction=True)
def test_a_queued_scan_wakes_a_worker_between_its_rare_polls(tmp_path: Path) -> None:
    """A worker polling every 30 s runs a scan queued here within a few seconds."""
    worker = subprocess.Popen(
        [*WORKER, "--interval", "30", "--max-interval", "30"],
        env=command_environment(),
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "worker.log").open("wb"),
    )

    def scans_done() -> int:
        return DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count()

    try:
        wait_until(Worker.objects.exists, timeout=60)
        enqueue_scan()  # claimed by the worker's first poll, or woken
        wait_until(lambda: scans_done() == 1, timeout=60)
        time.sleep(0.5)  # its poll right after the task found nothing: it waits 30 s now
        started = time.monotonic()
        enqueue_scan()
        wait_until(lambda: scans_done() == 2, timeout=60)
        assert time.monotonic() - started < 10, "the worker waited for its poll"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert worker.returncode == 0, (tmp_path / "worker.log").read_text()
