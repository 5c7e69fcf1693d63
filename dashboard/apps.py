from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_save


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "envdash"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_tasks_db.compat import task_enqueued

        from dashboard.live import bump_on_save
        from dashboard.models import Scan
        from dashboard.wake import wake_on_commit

        # A scan's start and end: every environment it changed is stored by its end.
        post_save.connect(bump_on_save, sender=Scan, dispatch_uid="live-scan")
        # Idle workers poll rarely: a queued task wakes them (see dashboard.wake).
        task_enqueued.connect(wake_on_commit, dispatch_uid="wake-workers")
