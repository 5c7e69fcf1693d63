"""A uv project locked by the real `uv lock` (offline, from the tests' wheelhouse) beside a
requirements.txt, for the dashboard and browser tests of which file an environment is held
to."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from envcore.ops.installers import find_uv
from tests.envtools import make_venv


def pyproject(dependencies: Sequence[str]) -> str:
    listed = ", ".join(f'"{dependency}"' for dependency in dependencies)
    return (
        '[project]\nname = "shop"\nversion = "0.1"\nrequires-python = ">=3.9"\n'
        f"dependencies = [{listed}]\n"
    )


def uv_lock(project: Path, wheelhouse: Path) -> Path:
    """Run the real `uv lock` in `project`, offline against `wheelhouse`; the lock's path."""
    uv = find_uv()
    assert uv is not None, "uv is a dependency of envdash"
    subprocess.run(
        [str(uv), "lock", "--offline", "--no-index", "--find-links", str(wheelhouse), "--quiet"],
        cwd=project,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return project / "uv.lock"


def build_shop(root: Path, wheelhouse: Path, installed: Sequence[str]) -> tuple[Path, Path]:
    """`root/shop`: pyproject.toml asking alpha>=1.0 (uv locks alpha 2.0, the newest in the
    wheelhouse), requirements.txt pinning alpha==1.0, and a .venv with `installed`.
    Returns (project directory, environment)."""
    project = root / "shop"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text(pyproject(["alpha>=1.0"]))
    (project / "requirements.txt").write_text("alpha==1.0\n")
    uv_lock(project, wheelhouse)
    env = make_venv(project / ".venv", installed, wheelhouse=wheelhouse)
    return project, env
