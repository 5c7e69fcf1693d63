"""A worker killed in the middle of a recreate: the next worker start finds the job, ends
what it left running, and puts the old environment back — and acts on nothing else."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.jobs.interpreters import refresh_interpreters
from dashboard.jobs.models import Job, JobLine, RecoveryRecord
from dashboard.models import Activity, Environment, Scan
from dashboard.tasks import enqueue_scan
from dashboard.worker_startup import run_startup_checks
from envcore.ops.journal import plan_move
from tests.dashboard.conftest import log_in
from tests.dashboard.jobs.conftest import installed, living_members, wait_until, worker_processes
from tests.envtools import listing, plant_lookalikes

pytestmark = pytest.mark.django_db(transaction=True)


def _backups(env_path: Path) -> list[Path]:
    return [p for p in env_path.parent.iterdir() if p.name.startswith(f".{env_path.name}.")]


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
    refresh_interpreters()  # "the same interpreter" must be one found on this machine
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
        # The job records each command's group as it starts: wait for the install's (the
        # group of the venv step before it is already empty), so the kill lands on it.
        wait_until(lambda: bool(living_members(Job.objects.get(pk=job.pk).pgid or -1)), timeout=30)
        [backup] = _backups(env_path)
        record = RecoveryRecord.objects.get()
        assert (record.job_id, record.kind, record.moved) == (job.pk, "recreate", str(backup))
        assert backup.name.endswith(record.nonce)
        pgid = Job.objects.get(pk=job.pk).pgid
        assert pgid is not None
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        listener.close()
    assert living_members(pgid)  # pip outlived its worker, in its own process group

    run_startup_checks()

    job.refresh_from_db()
    assert job.state == "interrupted"
    assert "\n" not in job.summary and "worker" in job.summary
    assert living_members(pgid) == []
    assert _backups(env_path) == []
    assert not RecoveryRecord.objects.exists()
    assert installed(project) == before  # the old environment is back and works
    restored = Activity.objects.get(kind="recovery")
    assert "restored" in restored.message and str(env_path) in restored.message
    project.refresh_from_db()
    assert project.gone_at is None


def _worker_batch(tmp_path: Path) -> int:
    """A real worker process, from its start to the end of its queues."""
    [worker] = worker_processes(1, tmp_path, "--batch")
    return worker.wait(timeout=180)


def test_planted_backup_names_make_the_worker_delete_nothing(
    tmp_path: Path, settings: SettingsWrapper
) -> None:
    root = tmp_path / "roots"
    planted = plant_lookalikes(root)
    before = listing(root)
    settings.SCAN_ROOTS = [root]
    enqueue_scan()

    assert _worker_batch(tmp_path) == 0, (tmp_path / "worker0.log").read_text()

    assert listing(root) == before
    assert (planted["important"] / "data.txt").read_text() == "keep me"
    assert (planted["env"] / "marker").read_text() == "the real one"
    assert Scan.objects.get().state == "done"
    assert not Activity.objects.filter(kind="recovery").exists()


def test_a_directory_named_like_the_backup_of_dot_does_not_stop_the_worker(
    tmp_path: Path, settings: SettingsWrapper
) -> None:
    root = tmp_path / "roots"
    (root / "z" / "...envdash-backup-20240101T000000-1").mkdir(parents=True)
    settings.SCAN_ROOTS = [root]
    enqueue_scan()

    assert _worker_batch(tmp_path) == 0, (tmp_path / "worker0.log").read_text()

    assert Scan.objects.get().state == "done"
    assert (root / "z" / "...envdash-backup-20240101T000000-1").is_dir()


def _trash(directory: Path, machine: str) -> RecoveryRecord:
    entry = plan_move("delete", directory / "old")
    (entry.moved / "lib").mkdir(parents=True)
    return RecoveryRecord.objects.create(
        machine=machine,
        kind="delete",
        nonce=entry.nonce,
        original=str(entry.original),
        moved=str(entry.moved),
        created_at=entry.created_at,
    )


def test_a_failing_record_is_reported_and_the_others_still_recovered(tmp_path: Path) -> None:
    machine = str(django_settings.MACHINE_NAME)
    broken = RecoveryRecord.objects.create(
        machine=machine,
        kind="recreate",
        nonce="0" * 16,
        original=str(tmp_path / "a"),
        moved=str(tmp_path / ("b" * 300)),  # too long a name: lstat fails
        created_at=timezone.now(),
    )
    finished = _trash(tmp_path, machine)
    elsewhere = _trash(tmp_path / "other", "another-machine")

    run_startup_checks()  # does not raise

    messages = sorted(Activity.objects.filter(kind="recovery").values_list("message", flat=True))
    assert len(messages) == 2
    assert messages[0].startswith("recovery: failed") and "next start" in messages[0]
    assert messages[1].startswith(f"recovery: removed {finished.moved}")
    assert not Path(finished.moved).exists()
    assert Path(elsewhere.moved).is_dir()  # another machine's record: not this disk
    remaining = set(RecoveryRecord.objects.values_list("pk", flat=True))
    assert remaining == {broken.pk, elsewhere.pk}
