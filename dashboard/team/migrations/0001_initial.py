"""Initial team schema: members, tokens, machines, snapshots, environments, drift history."""

# ruff: noqa: RUF012
from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Member",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ("name",),
            },
        ),
        migrations.CreateModel(
            name="PushState",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("last_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("last_success_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.CharField(blank=True, max_length=500)),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="TeamProject",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("identity", models.CharField(max_length=512, unique=True)),
                ("name", models.CharField(max_length=200)),
            ],
            options={
                "ordering": ("name", "identity"),
            },
        ),
        migrations.CreateModel(
            name="Machine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("host", models.CharField(max_length=253, unique=True)),
                ("user", models.CharField(blank=True, max_length=64)),
                ("tool_version", models.CharField(blank=True, max_length=64)),
                ("snapshot_at", models.DateTimeField(blank=True, null=True)),
                ("received_at", models.DateTimeField(blank=True, null=True)),
                (
                    "member",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="machines",
                        to="team.member",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="MemberToken",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("label", models.CharField(blank=True, max_length=100)),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("prefix", models.CharField(max_length=24)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "member",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tokens",
                        to="team.member",
                    ),
                ),
            ],
            options={
                "ordering": ("member__name", "-created_at"),
            },
        ),
        migrations.CreateModel(
            name="Snapshot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("snapshot_id", models.CharField(max_length=32)),
                ("content_hash", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField()),
                ("received_at", models.DateTimeField(auto_now_add=True)),
                ("environment_count", models.PositiveIntegerField(default=0)),
                (
                    "machine",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="snapshots",
                        to="team.machine",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="TeamEnvironment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("path", models.TextField()),
                ("name", models.CharField(max_length=255)),
                ("kind", models.CharField(max_length=32)),
                ("python_version", models.CharField(blank=True, max_length=32)),
                ("status", models.CharField(max_length=16)),
                ("broken_reason", models.TextField(blank=True)),
                ("requirements_hash", models.CharField(blank=True, max_length=64)),
                ("drift_counts", models.JSONField(default=dict)),
                ("packages", models.JSONField(default=list)),
                ("required", models.JSONField(default=dict)),
                ("drift_items", models.JSONField(default=dict)),
                ("reported_at", models.DateTimeField()),
                (
                    "machine",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="environments",
                        to="team.machine",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="environments",
                        to="team.teamproject",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="ProjectReport",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reported_at", models.DateTimeField()),
                ("environments", models.PositiveIntegerField()),
                ("drifted", models.PositiveIntegerField()),
                ("broken", models.PositiveIntegerField()),
                (
                    "machine",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reports",
                        to="team.machine",
                    ),
                ),
                (
                    "snapshot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reports",
                        to="team.snapshot",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reports",
                        to="team.teamproject",
                    ),
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="snapshot",
            constraint=models.UniqueConstraint(
                fields=("machine", "snapshot_id"), name="team_snapshot_id"
            ),
        ),
        migrations.AddConstraint(
            model_name="snapshot",
            constraint=models.UniqueConstraint(
                fields=("machine", "content_hash"), name="team_snapshot_content"
            ),
        ),
        migrations.AddIndex(
            model_name="teamenvironment",
            index=models.Index(fields=["project", "machine"], name="team_env_project_machine"),
        ),
        migrations.AddIndex(
            model_name="teamenvironment",
            index=models.Index(fields=["status"], name="team_env_status"),
        ),
        migrations.AddIndex(
            model_name="projectreport",
            index=models.Index(fields=["project", "reported_at"], name="team_report_project_time"),
        ),
    ]
