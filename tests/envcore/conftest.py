"""Real environments shared by the envcore tests (built once per run, offline)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.envtools import built_once, install, make_venv, pip
from tests.wheelmaker import make_project, write_wheel


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def populated_env(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """A venv with index, editable (plain and git), direct-URL installs and broken deps."""
    return built_once(tmp_path_factory, "populated", lambda base: _populate(base, wheelhouse))


def _populate(base: Path, wheelhouse: Path) -> Path:
    env = make_venv(base / "env", ["alpha==1.0", "Delta_Pkg.Two"], wheelhouse=wheelhouse)
    # A conflict (beta 2.0 wants alpha>=2.0) and a missing dependency (gamma wants beta).
    pip("install", "--no-index", "--no-deps", "-f", str(wheelhouse), "beta==2.0", env=env)
    pip("install", "--no-index", "--no-deps", "-f", str(wheelhouse), "gamma", env=env)
    plain = make_project(base / "plainproj", "plain-proj", "0.3", dependencies=["alpha"])
    gitproj = make_project(base / "repo" / "sub" / "gitproj", "git_proj", "1.2")
    _git("init", "-q", cwd=base / "repo")
    _git("remote", "add", "origin", "https://example.invalid/team/repo.git", cwd=base / "repo")
    _git("add", ".", cwd=base / "repo")
    _git("commit", "-q", "-m", "initial", cwd=base / "repo")
    install(env, [str(plain), str(gitproj)], editable=True)
    direct = write_wheel(base / "direct", "direct-pkg", "0.9", summary="from a file")
    pip("install", "--no-index", "--no-deps", str(direct), env=env)
    return env


@pytest.fixture(scope="session")
def env_with_pip(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """A venv made the ordinary way (pip and setuptools inside) with a little installed."""
    return built_once(
        tmp_path_factory,
        "withpip",
        lambda base: make_venv(base / "env", ["beta==1.0"], wheelhouse=wheelhouse, with_pip=True),
    )
