"""Forget interpreters found through scanned environments' pyvenv.cfg: only trusted
places (PATH, pyenv, uv, conda, the user's own) may be offered and run."""

# ruff: noqa: RUF012

from __future__ import annotations

from typing import Any

from django.db import migrations


def forget_scanned(apps: Any, schema_editor: Any) -> None:
    apps.get_model("jobs", "Interpreter").objects.filter(source="environment").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0005_recovery_record"),
    ]

    operations = [
        migrations.RunPython(forget_scanned, migrations.RunPython.noop),
    ]
