"""Which truth an environment is held to (a lock, a requirements file, ...) and why, and the
files a user may choose from per project (dashboard.sources)."""

# ruff: noqa: RUF012

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0008_distribution_requires"),
    ]

    operations = [
        migrations.AddField(
            model_name="environment",
            name="lock_outdated",
            field=models.CharField(blank=True, max_length=1024),
        ),
        migrations.AddField(
            model_name="environment",
            name="selection",
            field=models.CharField(blank=True, max_length=1024),
        ),
        migrations.AddField(
            model_name="environment",
            name="source_kind",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.AddField(
            model_name="environment",
            name="source_reason",
            field=models.CharField(blank=True, max_length=1024),
        ),
        migrations.AddField(
            model_name="project",
            name="source_candidates",
            field=models.JSONField(default=list),
        ),
    ]
