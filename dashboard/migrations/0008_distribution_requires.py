"""Distributions keep what they require (markers evaluated for their environment), so the
environment page draws the dependency tree from rows (envcore.tree), never from disk."""

# ruff: noqa: RUF012

from __future__ import annotations

from typing import Any

from django.db import migrations, models


def rescan_everything(apps: Any, schema_editor: Any) -> None:
    """Rows stored before this field require nothing: the next scan rewrites them all."""
    apps.get_model("dashboard", "Environment").objects.update(signature="")


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0007_watchstate")]

    operations = [
        migrations.AddField(
            model_name="distribution",
            name="requires",
            field=models.JSONField(default=list),
        ),
        migrations.RunPython(rescan_everything, migrations.RunPython.noop),
    ]
