"""The serve and worker commands and the scan task, run for real (in process)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.management.commands.serve import is_loopback
from dashboard.models import Environment, Scan
from dashboard.queues import machine_queue
from dashboard.tasks import enqueue_scan, scan_pending
from dashboard.worker_startup import run_startup_checks
from tests.trees import Tree


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "example.com"])  # noqa: S104
def test_serve_refuses_a_network_address_without_the_flag(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(CommandError, match="--allow-remote"):
        call_command("serve", host=host, no_worker=True, no_scan=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_addresses_are_recognised(host: str) -> None:
    assert is_loopback(host)


def test_machine_queue_is_a_safe_name(settings: SettingsWrapper) -> None:
    settings.MACHINE_NAME = "Dev Laptop (2)/x"
    assert machine_queue() == "machine-Dev-Laptop--2--x"


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_a_queued_scan_and_queues_the_team_push(
    settings: SettingsWrapper, env_tree: Tree
) -> None:
    settings.SCAN_ROOTS = [env_tree.root]
    settings.TEAM_URL = "http://127.0.0.1:9"  # nothing listens there: the push fails later
    settings.TEAM_TOKEN = "member-token"
    enqueue_scan()
    assert scan_pending()
    call_command("worker", "--batch", "--interval", "0")
    assert not scan_pending()
    scan = Scan.objects.get()
    assert (scan.state, scan.found) == ("done", 4)
    assert Environment.objects.count() == 4
    tasks = dict(DBTaskResult.objects.values_list("task_path", "status"))
    assert tasks["dashboard.tasks.scan"] == TaskResultStatus.SUCCESSFUL
    # The push ran too (default queue) and failed without raising: it is retried later.
    assert tasks["dashboard.team.tasks.push_snapshot"] == TaskResultStatus.SUCCESSFUL
    retry = DBTaskResult.objects.filter(
        task_path="dashboard.team.tasks.push_snapshot", status=TaskResultStatus.READY
    )
    assert retry.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_scan_left_running_by_a_killed_worker_stops_blocking_the_button() -> None:
    enqueue_scan()
    task = DBTaskResult.objects.get()
    task.status = TaskResultStatus.RUNNING
    task.started_at = timezone.now() - timedelta(hours=2)
    task.save()
    assert not scan_pending()  # too old to be alive
    run_startup_checks()
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED


@pytest.mark.django_db(transaction=True)
def test_the_worker_and_the_watcher_refuse_an_unmigrated_database() -> None:
    call_command("migrate", "dashboard", "zero", verbosity=0)
    try:
        with pytest.raises(CommandError, match="unapplied migrations"):
            call_command("worker", "--batch")
        with pytest.raises(CommandError, match="unapplied migrations"):
            call_command("watch")
    finally:
        call_command("migrate", verbosity=0)
