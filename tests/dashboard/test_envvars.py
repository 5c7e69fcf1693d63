"""Files envdash keeps its secrets in, and where a test run keeps its data."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from dashboard.envvars import secret_file

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
