"""The running command's group leader start time gets its own column (it was kept in
`result` while the job ran)."""

# ruff: noqa: RUF012

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("jobs", "0006_interpreters_trusted_only")]

    operations = [
        migrations.AddField(
            model_name="job",
            name="leader_started",
            field=models.FloatField(blank=True, null=True),
        ),
    ]
