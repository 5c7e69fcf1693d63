"""Distributions remember where they came from (index, editable, vcs, url, local), so the team
snapshot can be built from what the scan stored."""

# ruff: noqa: RUF012

from __future__ import annotations

from typing import Any

from django.db import migrations, models


def rescan_everything(apps: Any, schema_editor: Any) -> None:
    """Rows stored before this field know no source: the next scan rewrites them all."""
    apps.get_model("dashboard", "Environment").objects.update(signature="")


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0004_distribution_unsafe_reason")]

    operations = [
        migrations.AddField(
            model_name="distribution",
            name="source",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.RunPython(rescan_everything, migrations.RunPython.noop),
    ]
