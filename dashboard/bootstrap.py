"""Create and fill the project's own virtual environment, then re-run the command inside it.

Standard library only: this runs before any dependency is installed.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Commands that need the development tools (pytest, ruff, mypy, Playwright).
DEV_COMMANDS = frozenset({"test", "lint"})
_STAMP_NAME = ".envdash-installed"
#: The whole output of the last set-up, inside the venv it set up.
_LOG_NAME = "envdash-setup.log"


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


class SetupFailed(Exception):
    """A set-up step failed; the message is the one line the user sees."""


class _Steps:
    """Set-up steps: one short line each on the terminal, their whole output in one log.

    The installers' own output (dozens of lines from pip and setuptools) would bury what
    matters: the login URL that follows, or which step failed.
    """

    def __init__(self, log: Path) -> None:
        self.log = log
        self._mode = "w"  # each set-up starts a new log

    def run(self, title: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        print(f"envdash: {title} …", flush=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open(self._mode, encoding="utf-8") as sink:
            self._mode = "a"
            sink.write(f"$ {shlex.join(argv)}\n")
            sink.flush()
            returncode = subprocess.run(
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                check=False,
            ).returncode
        if returncode:
            self.fail(title, f"exit status {returncode}")

    def fail(self, title: str, why: str, output: str = "") -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open(self._mode, encoding="utf-8") as sink:
            self._mode = "a"
            sink.write(output)
        # What went wrong, in the installers' words: pip's last "ERROR:" line (notes
        # follow it), apt-get's last "E:" line, else the last line.
        text = self.log.read_text(encoding="utf-8", errors="replace")
        lines = [line.strip() for line in text.splitlines()]
        errors = [line for line in lines if line.startswith(("ERROR:", "E:"))]
        last = (errors or [line for line in lines if line] or [""])[-1]
        raise SetupFailed(
            f"{title} failed ({why}){': ' + last[:300] if last else ''}. "
            f"The whole output is in {self.log}"
        )


def _install(env_dir: Path, dev: bool, steps: _Steps) -> None:
    python = _venv_python(env_dir)
    if not python.exists():
        title = f"creating {env_dir}"
        ours = (env_dir / _STAMP_NAME).exists() or (env_dir / _LOG_NAME).exists()
        if env_dir.is_dir() and any(env_dir.iterdir()) and not ours:
            # ENVDASH_VENV may name any directory: only one envdash set up (or an empty
            # one) is emptied and made again; anything else is someone's data.
            raise SetupFailed(
                f"{env_dir} is not empty and was not set up by envdash; "
                "remove it or set ENVDASH_VENV to another directory"
            )
        print(f"envdash: {title} …", flush=True)
        try:
            venv.EnvBuilder(with_pip=True, clear=ours).create(env_dir)
        except subprocess.CalledProcessError as exc:  # ensurepip; its output is captured
            output = exc.output.decode(errors="replace") if exc.output else ""
            steps.fail(title, f"exit status {exc.returncode}", output)
        except OSError as exc:
            raise SetupFailed(f"{title} failed: {exc}") from exc
    quiet = ["--disable-pip-version-check", "--no-input", "--progress-bar", "off"]
    pip = [str(python), "-m", "pip", "install", *quiet]
    steps.run("updating pip", [*pip, "--upgrade", "pip"])
    target = ".[dev]" if dev else "."
    steps.run("installing dependencies", [*pip, "-r", "requirements.txt", "-e", target])
    (env_dir / _STAMP_NAME).write_text(_wanted_stamp(dev))


#: Debian packages the tests drive for real: the browser, and fish (activation commands
#: are pasted into a real fish). Program -> package.
TEST_PROGRAMS = {"chromium": "chromium", "fish": "fish"}


def _ensure_test_programs(steps: _Steps) -> None:
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
        steps.run("updating the package lists (apt-get)", ["apt-get", "update"], env)
        title = f"installing {' and '.join(missing)} (apt-get)"
        steps.run(title, ["apt-get", "install", "-y", *missing], env)
        return
    sys.exit(
        f"envdash: the tests need {' and '.join(missing)} in /usr/bin "
        f"(Debian/Ubuntu: sudo apt-get install {' '.join(missing)})"
    )


def ensure_environment(argv: list[str]) -> None:
    """Make sure we run inside an up-to-date `.venv`; re-exec there if we are not in it."""
    if os.environ.get("ENVDASH_SKIP_BOOTSTRAP") == "1":
        return
    command = argv[1] if len(argv) > 1 else ""
    dev = command in DEV_COMMANDS
    env_dir = venv_dir()
    steps = _Steps(env_dir / _LOG_NAME)
    try:
        if not _is_satisfied(env_dir / _STAMP_NAME, dev):
            _install(env_dir, dev, steps)
        if command == "test":
            _ensure_test_programs(steps)
    except SetupFailed as exc:
        sys.exit(f"envdash: {exc}")
    inside = Path(sys.prefix).resolve() == env_dir.resolve()
    if not inside:
        python = str(_venv_python(env_dir))
        os.execv(python, [python, str(ROOT / "manage.py"), *argv[1:]])
