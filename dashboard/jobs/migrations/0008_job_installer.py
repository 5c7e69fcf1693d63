"""Which installer a job ran with, and why: its page shows them and offers Retry with pip."""

# ruff: noqa: RUF012

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("jobs", "0007_job_leader_started")]

    operations = [
        migrations.AddField(
            model_name="job",
            name="installer",
            field=models.CharField(blank=True, default="", max_length=8),
        ),
        migrations.AddField(
            model_name="job",
            name="installer_reason",
            field=models.CharField(blank=True, default="", max_length=1024),
        ),
    ]
