"""Files envdash keeps its secrets in, and where a test run keeps its data."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dashboard.envvars import env_optional_int, secret_file

REPO = Path(__file__).resolve().parents[2]


def test_a_new_secret_is_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secret_key"
    first = secret_file(path, 32)
    assert len(first) >= 40
    assert path.stat().st_mode & 0o777 == 0o600
    assert secret_file(path, 32) == first
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]  # no draft left


def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    # serve and its workers start at once: every one must read the same, complete secret.
    code = (
        "import sys, time; from pathlib import Path; from dashboard.envvars import secret_file\n"
        "start = float(sys.argv[2])\n"
        "while time.time() < start: pass\n"
        "print(secret_file(Path(sys.argv[1]), 32))\n"
    )
    for attempt in range(5):
        path = tmp_path / str(attempt) / "secret_key"
        start = str(time.time() + 1.5)
        children = [
            subprocess.Popen(
                [sys.executable, "-c", code, str(path), start],
                cwd=REPO,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        seen = {child.communicate(timeout=60)[0].strip() for child in children}
        assert len(seen) == 1 and "" not in seen, seen
        assert seen == {path.read_text().strip()}


def test_a_plain_pytest_run_leaves_the_real_data_directory_alone(tmp_path: Path) -> None:
    # Without ENVDASH_DATA_DIR, the settings would put the secret key into the user's data
    # directory (~/.local/share/envdash) as pytest-django loads them.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVDASH_", "XDG_"))}
    env |= {"HOME": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--collect-only",
            "tests/envcore/test_boundary.py",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / ".local" / "share" / "envdash").exists()


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("ENVDASH_WATCH", "maybe", "ENVDASH_WATCH must be one of auto, off, poll, not 'maybe'"),
        ("ENVDASH_POLL_INTERVAL", "0", "ENVDASH_POLL_INTERVAL must be between 1 and 3600, not 0"),
        ("ENVDASH_WATCH_LIMIT", "many", "ENVDASH_WATCH_LIMIT must be a whole number, not 'many'"),
        (
            "ENVDASH_RESCAN_INTERVAL",
            "-1",
            "ENVDASH_RESCAN_INTERVAL must be between 0 and 604800, not -1",
        ),
    ],
)
def test_a_bad_watch_setting_stops_the_command_with_one_line(
    tmp_path: Path, variable: str, value: str, line: str
) -> None:
    env = {**os.environ, "ENVDASH_DATA_DIR": str(tmp_path), variable: value}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "watch"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 1
    assert done.stderr == f"envdash: {line}\n"


@pytest.mark.parametrize(("raw", "value"), [("", None), (" ", None), ("0", 0), ("12", 12)])
def test_an_optional_number_is_none_when_unset(raw: str, value: int | None) -> None:
    assert env_optional_int("X", low=0, high=99, environ={"X": raw}) == value
