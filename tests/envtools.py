"""Real environments for the tests: made with `venv`, filled offline by the real pip."""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar, cast

import pytest

#: pip and uv must never reach a network or the machine's own pip configuration in tests.
ISOLATED_ENV = {
    "PIP_CONFIG_FILE": os.devnull,
    "PIP_NO_INPUT": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "UV_NO_CONFIG": "1",
    "UV_PYTHON_DOWNLOADS": "never",
}


def isolate_environment(environ: dict[str, str] | os._Environ[str], uv_cache: Path) -> None:
    """Drop the developer's PIP_*/UV_* settings and set the isolated ones."""
    for key in list(environ):
        if key.startswith(("PIP_", "UV_")) or key in {"VIRTUAL_ENV", "PYTHONPATH"}:
            del environ[key]
    environ.update(ISOLATED_ENV)
    environ["UV_CACHE_DIR"] = str(uv_cache)


def env_python(env: Path) -> Path:
    return env / "bin" / "python"


def pip(
    *args: str, env: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the test suite's own pip (the oracle), optionally against another environment."""
    argv = [sys.executable, "-m", "pip"]
    if env is not None:
        argv += ["--python", str(env_python(env))]
    return subprocess.run([*argv, *args], capture_output=True, text=True, check=check, timeout=300)


def make_venv(
    path: Path,
    packages: Sequence[str] = (),
    *,
    wheelhouse: Path | None = None,
    with_pip: bool = False,
    system_site_packages: bool = False,
) -> Path:
    """Create a real venv with the stdlib `venv` and install `packages` offline."""
    argv = [sys.executable, "-m", "venv"]
    if not with_pip:
        argv.append("--without-pip")
    if system_site_packages:
        argv.append("--system-site-packages")
    subprocess.run([*argv, str(path)], check=True, timeout=120)
    if packages:
        install(path, packages, wheelhouse=wheelhouse)
    return path


def install(
    env: Path, packages: Iterable[str], *, wheelhouse: Path | None = None, editable: bool = False
) -> None:
    args = ["install", "--no-index", "--quiet"]
    if wheelhouse is not None:
        args += ["--find-links", str(wheelhouse)]
    for package in packages:
        args += ["-e", package] if editable else [package]
    pip(*args, env=env)


def pip_list_json(env: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = json.loads(pip("list", "--format=json", env=env).stdout)
    return rows


def plant_lookalikes(root: Path) -> dict[str, Path]:
    """What a hostile clone can hold: backup-looking names beside a plain directory and
    beside a real environment, and a trash-looking one.
    Returns the two directories that must survive: `important` and the real `env`."""
    important = root / "x" / "important"
    important.mkdir(parents=True)
    (important / "data.txt").write_text("keep me")
    (root / "x" / ".important.envdash-backup-20240101T000000-1").mkdir()
    env = make_venv(root / "y" / ".venv")
    (env / "marker").write_text("the real one")
    make_venv(root / "y" / "..venv.envdash-backup-20240101T000000-2")
    (root / "z" / ".w.envdash-trash-20240101T000000-3" / "lib").mkdir(parents=True)
    return {"important": important, "env": env}


def listing(root: Path) -> list[str]:
    """Every path under `root`, relative, sorted (environments' bin/ left out)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if "bin" not in p.parts)


T = TypeVar("T")


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], T]) -> T:
    """`build(directory)` once per test run: parallel workers share what the first of them
    built (under a file lock) instead of each building its own. For session fixtures
    whose environments the tests only read."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return build(factory.mktemp(name))
    shared = factory.getbasetemp().parent / f"built-{name}"  # the run's, beside gw0, gw1...
    shared.mkdir(exist_ok=True)
    with (shared / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = shared / "result.pickle"
        if result.exists():
            return cast(T, pickle.loads(result.read_bytes()))  # noqa: S301 - our own file
        value = build(Path(tempfile.mkdtemp(prefix=name, dir=shared)))
        result.write_bytes(pickle.dumps(value))
        return value
