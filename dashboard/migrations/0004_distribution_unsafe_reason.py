"""Distributions remember why their metadata must never reach pip, for the pages."""

# ruff: noqa: RUF012

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0003_workers")]

    operations = [
        migrations.AddField(
            model_name="distribution",
            name="unsafe_reason",
            field=models.CharField(blank=True, max_length=128),
        ),
    ]
