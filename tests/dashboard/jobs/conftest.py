"""Shared by the job tests: a real project environment, an offline wheelhouse, and real
workers (in-process batch runs, or `envdash worker` processes on the test database)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.models import Environment
from dashboard.scanning import scan_tree
from tests.envtools import make_venv, pip_list_json

__all__ = [
    "command_environment",
    "installed",
    "living_members",
    "wait_until",
    "work",
    "worker_processes",
]


@pytest.fixture
def project(
    tmp_path: Path, settings: SettingsWrapper, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> Environment:
    """A project env (alpha 1.0 installed, requirements ask alpha==1.1), offline index."""
    settings.SCAN_ROOTS = [tmp_path]
    settings.INSTALLER = "pip"
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "requirements.txt").write_text("# pinned\nalpha==1.1\n")
    make_venv(tmp_path / "app" / ".venv", ["alpha==1.0"], wheelhouse=wheelhouse, with_pip=True)
    scan_tree()
    return Environment.objects.get()


def work() -> None:
    call_command("worker", "--batch", "--interval", "0")


def installed(env: Environment) -> dict[str, str]:
    return {row["name"].lower(): row["version"] for row in pip_list_json(Path(env.path))}


def command_environment() -> dict[str, str]:
    """Environment variables for a real `envdash` command on the test database, with the
    test's scan roots and installer."""
    database = connection.settings_dict
    if database["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{database['NAME']}"
    else:
        url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ENVDASH_SKIP_BOOTSTRAP": "1",
        "ENVDASH_SCAN_ROOTS": os.pathsep.join(map(str, django_settings.SCAN_ROOTS)),
        "ENVDASH_INSTALLER": str(django_settings.INSTALLER),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def worker_processes(count: int, tmp_path: Path, *extra: str) -> list[subprocess.Popen[bytes]]:
    """Real `envdash worker` processes on the test database (as `serve` starts them);
    `extra` arguments (`--batch`) are passed on."""
    return [
        subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", "worker", "--interval", "0.1", *extra],
            env=command_environment(),
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"worker{index}.log").open("wb"),
        )
        for index in range(count)
    ]


def living_members(pgid: int) -> list[int]:
    """Live members of a process group (an orphan's zombie stays until init reaps it)."""
    members = []
    for process in psutil.process_iter(["status"]):
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(process.pid) == pgid and process.info["status"] != psutil.STATUS_ZOMBIE:
                members.append(process.pid)
    return members


def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
