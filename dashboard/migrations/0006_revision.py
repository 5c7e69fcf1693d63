"""The revision counter open pages poll to update themselves (dashboard.live)."""

# ruff: noqa: RUF012

from __future__ import annotations

from typing import Any

from django.db import migrations, models


def first_revision(apps: Any, schema_editor: Any) -> None:
    apps.get_model("dashboard", "Revision").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0005_distribution_source")]

    operations = [
        migrations.CreateModel(
            name="Revision",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(first_revision, migrations.RunPython.noop),
    ]
