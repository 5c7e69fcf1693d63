"""Create and fill the project's own virtual environment, then re-run the command inside it.

Standard library only: this runs before any dependency is installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Commands that need the development tools (pytest, ruff, mypy, Playwright).
DEV_COMMANDS = frozenset({"test", "lint"})
_STAMP_NAME = ".envdash-installed"


def venv_dir() -> Path:
    return Path(os.environ.get("ENVDASH_VENV") or ROOT / ".venv").absolute()


def _venv_python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _wanted_stamp(dev: bool) -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml", "setup.py"):
        digest.update((ROOT / name).read_bytes())
    return f"{digest.hexdigest()} {'dev' if dev else 'runtime'}"


def _is_satisfied(stamp_file: Path, dev: bool) -> bool:
    try:
        have_hash, have_kind = stamp_file.read_text().split()
    except (OSError, ValueError):
        return False
    want_hash = _wanted_stamp(dev).split()[0]
    return have_hash == want_hash and (have_kind == "dev" or not dev)


def _run(argv: list[str]) -> None:
    print("envdash setup:", " ".join(argv), flush=True)
    subprocess.run(argv, check=True, cwd=ROOT)


def _install(env_dir: Path, dev: bool) -> None:
    python = _venv_python(env_dir)
    if not python.exists():
        print(f"envdash setup: creating {env_dir}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=env_dir.exists()).create(env_dir)
    target = ".[dev]" if dev else "."
    _run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    _run([str(python), "-m", "pip", "install", "--quiet", "-r", "requirements.txt", "-e", target])
    (env_dir / _STAMP_NAME).write_text(_wanted_stamp(dev))


#: Debian packages the tests drive for real: the browser, and fish (activation commands
#: are pasted into a real fish). Program -> package.
TEST_PROGRAMS = {"chromium": "chromium", "fish": "fish"}


def _ensure_test_programs() -> None:
    """Install the missing ones when we are allowed to (root with apt-get), else say how."""
    missing = [
        package
        for program, package in TEST_PROGRAMS.items()
        if not (shutil.which(program) or Path("/usr/bin", program).exists())
    ]
    if not missing:
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)
        return
    sys.exit(
        f"envdash setup: the tests need {' and '.join(missing)} in /usr/bin "
        f"(Debian/Ubuntu: sudo apt-get install {' '.join(missing)})"
    )


def ensure_environment(argv: list[str]) -> None:
    """Make sure we run inside an up-to-date `.venv`; re-exec there if we are not in it."""
    if os.environ.get("ENVDASH_SKIP_BOOTSTRAP") == "1":
        return
    command = argv[1] if len(argv) > 1 else ""
    dev = command in DEV_COMMANDS
    env_dir = venv_dir()
    try:
        if not _is_satisfied(env_dir / _STAMP_NAME, dev):
            _install(env_dir, dev)
        if command == "test":
            _ensure_test_programs()
    except subprocess.CalledProcessError as exc:
        sys.exit(f"envdash setup failed: {' '.join(map(str, exc.cmd))} exited {exc.returncode}")
    inside = Path(sys.prefix).resolve() == env_dir.resolve()
    if not inside:
        python = str(_venv_python(env_dir))
        os.execv(python, [python, str(ROOT / "manage.py"), *argv[1:]])
