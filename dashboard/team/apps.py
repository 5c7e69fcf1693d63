"""The team app's configuration (label "team", beside the local dashboard)."""

from __future__ import annotations

from django.apps import AppConfig


class TeamConfig(AppConfig):
    name = "dashboard.team"
    label = "team"
    verbose_name = "envdash team status"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dashboard.signals import changes_followed, scan_finished
        from dashboard.team.tasks import push_after_scan

        scan_finished.connect(push_after_scan, dispatch_uid="team-push-after-scan")
        # The watcher's rescans, batched: one push once the changes have settled.
        changes_followed.connect(push_after_scan, dispatch_uid="team-push-after-follow")
