"""The team app's configuration (label "team", beside the local dashboard)."""

from __future__ import annotations

from django.apps import AppConfig


class TeamConfig(AppConfig):
    name = "dashboard.team"
    label = "team"
    verbose_name = "envdash team status"
    default_auto_field = "django.db.models.BigAutoField"
