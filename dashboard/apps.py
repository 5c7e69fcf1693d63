from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_save


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "envdash"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dashboard.live import bump_on_save
        from dashboard.models import Scan

        # A scan's start and end: every environment it changed is stored by its end.
        post_save.connect(bump_on_save, sender=Scan, dispatch_uid="live-scan")
