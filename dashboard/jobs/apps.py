from __future__ import annotations

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "dashboard.jobs"
    label = "jobs"
    verbose_name = "envdash jobs"
    default_auto_field = "django.db.models.BigAutoField"
