"""The tool that made or keeps an environment (pdm, pipx, uv-tool...), which its kind alone
cannot tell; envcore's `Environment.manager`, filled by the next scan."""

# ruff: noqa: RUF012

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0009_source_choice"),
    ]

    operations = [
        migrations.AddField(
            model_name="environment",
            name="manager",
            field=models.CharField(blank=True, max_length=32),
        ),
    ]
