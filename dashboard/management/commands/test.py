"""`manage.py test`: lint, type-check and run the whole test suite, on SQLite and PostgreSQL.

This is the README's test command and what `.ci/run` runs, so it must pass on a clean clone.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

PG_HOST, PG_PORT = "127.0.0.1", 5432


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _start_postgres() -> bool:
    """Start the machine's PostgreSQL cluster (Debian layout), installing it if allowed."""
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    clusters = Path("/etc/postgresql")
    if not (clusters.is_dir() and any(clusters.iterdir())) and is_root and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=False, env=env)
    if not (clusters.is_dir() and shutil.which("pg_ctlcluster")):
        return False
    for version in sorted(p.name for p in clusters.iterdir()):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False
        )
    for _ in range(30):
        if _answers(PG_HOST, PG_PORT):
            return True
        time.sleep(1)
    return False


class Command(BaseCommand):
    help = "Run ruff, mypy and the whole test suite (SQLite, then PostgreSQL)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("pytest_args", nargs="*", help="extra arguments for pytest")
        parser.add_argument("--no-lint", action="store_true", help="skip ruff and mypy")
        parser.add_argument(
            "--no-postgres", action="store_true", help="skip the PostgreSQL pass (not in CI)"
        )

    def _step(self, title: str, argv: list[str], env: dict[str, str] | None = None) -> bool:
        self.stdout.write(self.style.MIGRATE_HEADING(f"==> {title}"), ending="\n")
        self.stdout.flush()
        return subprocess.run(argv, cwd=settings.BASE_DIR, env=env, check=False).returncode == 0

    def handle(self, *args: Any, **options: Any) -> None:
        python = sys.executable
        extra: list[str] = options["pytest_args"]
        failed: list[str] = []
        if not options["no_lint"]:
            for title, argv in (
                ("ruff check", [python, "-m", "ruff", "check", "."]),
                ("ruff format --check", [python, "-m", "ruff", "format", "--check", "."]),
                ("mypy", [python, "-m", "mypy", "dashboard", "envcore", "tests", "benchmarks"]),
            ):
                if not self._step(title, argv):
                    failed.append(title)

        with tempfile.TemporaryDirectory(prefix="envdash-test-") as data_dir:
            env = {**os.environ, "ENVDASH_DATA_DIR": data_dir, "DATABASE_URL": ""}
            pytest = [python, "-m", "pytest", *extra]
            if not self._step("pytest (SQLite)", pytest, env):
                failed.append("pytest (SQLite)")

            in_ci = os.environ.get("CI", "").lower() == "true"
            if not options["no_postgres"] or in_ci:
                url = os.environ.get("ENVDASH_TEST_DATABASE_URL", "")
                if not url and (_answers(PG_HOST, PG_PORT) or _start_postgres()):
                    url = f"postgres://postgres@{PG_HOST}:{PG_PORT}/envdash"
                if url:
                    pg_env = {**env, "DATABASE_URL": url}
                    # envcore never touches a database: its tests ran above already.
                    pg = [python, "-m", "pytest", "tests/dashboard", "tests/e2e", *extra]
                    if not self._step("pytest (PostgreSQL)", pg, pg_env):
                        failed.append("pytest (PostgreSQL)")
                else:
                    self.stderr.write(
                        "No PostgreSQL answers on 127.0.0.1:5432 and none could start."
                    )
                    failed.append("PostgreSQL unavailable")

        if failed:
            raise CommandError("failed: " + ", ".join(failed))
        self.stdout.write(self.style.SUCCESS("all checks passed"))
