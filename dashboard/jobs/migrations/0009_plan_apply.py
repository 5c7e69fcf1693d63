"""The plan and apply job kinds (plan first, confirm, apply exactly that plan)."""

# ruff: noqa: RUF012

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0008_job_installer"),
    ]

    operations = [
        migrations.AlterField(
            model_name="job",
            name="kind",
            field=models.CharField(
                choices=[
                    ("create", "Create"),
                    ("install", "Install"),
                    ("upgrade", "Upgrade"),
                    ("upgrade-all", "Upgrade all"),
                    ("uninstall", "Uninstall"),
                    ("sync", "Sync"),
                    ("freeze", "Freeze"),
                    ("recreate", "Recreate"),
                    ("delete", "Delete"),
                    ("plan", "Plan"),
                    ("apply", "Apply"),
                ],
                max_length=16,
            ),
        ),
    ]
