"""`manage.py test`: lint, type-check and run the whole test suite, on SQLite and PostgreSQL.

This is the README's test command and what `.ci/run` runs, so it must pass on a clean clone.
pytest runs in parallel workers (pytest-xdist; see tests/conftest.py for how they share and
split the work), and mypy runs beside the SQLite pass. The PostgreSQL pass runs the tests
whose result can depend on the database: all of tests/dashboard and tests/e2e except the
modules marked `any_database`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from argparse import ArgumentParser, ArgumentTypeError
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

PG_HOST, PG_PORT = "127.0.0.1", 5432
#: Most tests wait on child processes (pip, venv, serve, a browser): more workers than
#: cores keeps the cores busy. Measured in benchmarks/README.md ("Test suite").
WORKERS_PER_CORE = 2


def _workers(value: str) -> int:
    if not value.isdigit():
        raise ArgumentTypeError("give a number of workers (0: no parallel workers)")
    return int(value)


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
        parser.add_argument(
            "--workers",
            type=_workers,
            default=WORKERS_PER_CORE * (os.cpu_count() or 1),
            help="parallel pytest workers (default: %(default)s, two per core; 0: none)",
        )

    def _step(self, title: str, argv: list[str], env: dict[str, str] | None = None) -> bool:
        self.stdout.write(self.style.MIGRATE_HEADING(f"==> {title}"), ending="\n")
        self.stdout.flush()
        return subprocess.run(argv, cwd=settings.BASE_DIR, env=env, check=False).returncode == 0

    def handle(self, *args: Any, **options: Any) -> None:
        python = sys.executable
        extra: list[str] = options["pytest_args"]
        failed: list[str] = []
        mypy: subprocess.Popen[bytes] | None = None
        with tempfile.TemporaryFile() as mypy_output:
            if not options["no_lint"]:
                for title, argv in (
                    ("ruff check", [python, "-m", "ruff", "check", "."]),
                    ("ruff format --check", [python, "-m", "ruff", "format", "--check", "."]),
                ):
                    if not self._step(title, argv):
                        failed.append(title)
                # One core's worth of work beside the tests, which mostly wait on children.
                mypy = subprocess.Popen(
                    [python, "-m", "mypy", "dashboard", "envcore", "tests", "benchmarks"],
                    cwd=settings.BASE_DIR,
                    stdout=mypy_output,
                    stderr=subprocess.STDOUT,
                )
            self._tests(python, extra, options, failed)
            if mypy is not None:
                self.stdout.write(self.style.MIGRATE_HEADING("==> mypy"), ending="\n")
                self.stdout.flush()
                returncode = mypy.wait()
                mypy_output.seek(0)
                self.stdout.write(mypy_output.read().decode(errors="replace"), ending="")
                if returncode != 0:
                    failed.append("mypy")
        if failed:
            raise CommandError("failed: " + ", ".join(failed))
        self.stdout.write(self.style.SUCCESS("all checks passed"))

    def _tests(
        self, python: str, extra: list[str], options: dict[str, Any], failed: list[str]
    ) -> None:
        workers: int = options["workers"]
        parallel = ["-n", str(workers), "--dist", "loadgroup"] if workers else []
        with tempfile.TemporaryDirectory(prefix="envdash-test-") as data_dir:
            env = {**os.environ, "ENVDASH_DATA_DIR": data_dir, "DATABASE_URL": ""}
            pytest = [python, "-m", "pytest", *parallel, *extra]
            if not self._step("pytest (SQLite)", pytest, env):
                failed.append("pytest (SQLite)")

            in_ci = os.environ.get("CI", "").lower() == "true"
            if options["no_postgres"] and not in_ci:
                return
            url = os.environ.get("ENVDASH_TEST_DATABASE_URL", "")
            if not url and (_answers(PG_HOST, PG_PORT) or _start_postgres()):
                url = f"postgres://postgres@{PG_HOST}:{PG_PORT}/envdash"
            if not url:
                self.stderr.write("No PostgreSQL answers on 127.0.0.1:5432 and none could start.")
                failed.append("PostgreSQL unavailable")
                return
            pg_env = {**env, "DATABASE_URL": url}
            # envcore never touches a database, and the any_database modules (see
            # tests/conftest.py) give the same result on any: both ran above already.
            pg = [
                *pytest,
                "-m",
                "not any_database",
                "tests/dashboard",
                "tests/e2e",
            ]
            if not self._step("pytest (PostgreSQL)", pg, pg_env):
                failed.append("pytest (PostgreSQL)")
