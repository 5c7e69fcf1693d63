"""The jobs app's configuration; it joins the core app's scan through dashboard.signals."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save

from dashboard.signals import busy_environments, moved_aside, scan_finished


class JobsConfig(AppConfig):
    name = "dashboard.jobs"
    label = "jobs"
    verbose_name = "envdash jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dashboard.jobs.models import Job
        from dashboard.live import bump_on_save

        # Created, claimed, cancelled before its start (a job's end is an update: run.py).
        post_save.connect(bump_on_save, sender=Job, dispatch_uid="live-job")
        scan_finished.connect(_refresh_interpreters, dispatch_uid="jobs-refresh-interpreters")
        moved_aside.connect(_recreate_backups, dispatch_uid="jobs-recreate-backups")
        busy_environments.connect(_running_jobs, dispatch_uid="jobs-busy-environments")


def _refresh_interpreters(sender: object, **kwargs: Any) -> None:
    from dashboard.jobs.interpreters import refresh_interpreters

    refresh_interpreters()


def _recreate_backups(sender: object, *, machine: str, **kwargs: Any) -> list[str]:
    from dashboard.jobs.models import RecoveryRecord

    return list(RecoveryRecord.objects.filter(machine=machine).values_list("moved", flat=True))


def _running_jobs(sender: object, *, machine: str, **kwargs: Any) -> list[str]:
    from dashboard.jobs.models import Job

    running = Job.objects.filter(machine=machine, state=Job.State.RUNNING)
    return list(running.values_list("env_path", flat=True))
