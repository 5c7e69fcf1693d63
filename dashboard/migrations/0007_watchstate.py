"""What the watcher says about itself (dashboard.watcher, dashboard.watchstatus)."""

# ruff: noqa: RUF012

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0006_revision"),
    ]

    operations = [
        migrations.CreateModel(
            name="WatchState",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("machine", models.CharField(max_length=255, unique=True)),
                ("pid", models.PositiveIntegerField(default=0)),
                ("started_at", models.DateTimeField()),
                ("heartbeat_at", models.DateTimeField()),
                (
                    "mode",
                    models.CharField(
                        choices=[
                            ("watching", "Watching"),
                            ("polling", "Polling"),
                            ("mixed", "Mixed"),
                            ("off", "Off"),
                        ],
                        default="watching",
                        max_length=16,
                    ),
                ),
                ("reason", models.CharField(blank=True, max_length=1024)),
                ("backend", models.CharField(blank=True, max_length=32)),
                ("environments", models.PositiveIntegerField(default=0)),
                ("watched", models.PositiveIntegerField(default=0)),
                ("polled", models.PositiveIntegerField(default=0)),
                ("poll_interval", models.FloatField(default=2.0)),
                ("rescan_interval", models.PositiveIntegerField(default=0)),
                ("last_event_at", models.DateTimeField(blank=True, null=True)),
                ("last_rescan_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
    ]
