"""A group or extra the project does not declare is refused for uv.lock and poetry.lock,
in the tool's own words, as `uv sync` and `poetry install` refuse it (both run here, on
real locks of a project with no dependencies, offline): never an in-sync report for a
selection nobody checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from envcore.ops.installers import find_uv
from tests.envcore.locks.conftest import envcore, make_env

PYPROJECT = """[project]
name = "proj"
version = "0.1"
dependencies = []

[project.optional-dependencies]
fast = []
"""
UV_GROUPS = "\n[dependency-groups]\ntest = []\n"
POETRY_GROUPS = "\n[tool.poetry]\npackage-mode = false\n\n[tool.poetry.group.test.dependencies]\n"


def _tool(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    home = cwd / ".home"
    environ = {
        **os.environ,
        "POETRY_CACHE_DIR": str(home / "cache"),
        "POETRY_CONFIG_DIR": str(home / "config"),
        "POETRY_DATA_DIR": str(home / "data"),
        "POETRY_VIRTUALENVS_CREATE": "false",
        "POETRY_NO_INTERACTION": "1",
        "POETRY_KEYRING_ENABLED": "false",
        "UV_OFFLINE": "1",
    }
    return subprocess.run(
        argv, cwd=cwd, env=environ, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module", params=["uv", "poetry"])
def locked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real lock made by the tool itself; returns the lock's path."""
    project = tmp_path_factory.mktemp(request.param)
    uv = str(find_uv())
    if request.param == "uv":
        (project / "pyproject.toml").write_text(PYPROJECT + UV_GROUPS)
        made = _tool([uv, "lock", "--offline", "--python", sys.executable], project)
        lock = project / "uv.lock"
    else:
        (project / "pyproject.toml").write_text(PYPROJECT + POETRY_GROUPS)
        made = _tool([sys.executable, "-m", "poetry", "lock"], project)
        lock = project / "poetry.lock"
    assert made.returncode == 0, made.stderr
    return lock


def _refusal(lock: Path, option: str, name: str) -> str:
    """What the tool itself says when asked for `name` (and that it refuses)."""
    if lock.name == "uv.lock":
        argv = [str(find_uv()), "sync", "--frozen", "--offline", "--dry-run", option, name]
        argv += ["--python", sys.executable]
    else:
        flag = "--with" if option == "--group" else "-E"
        argv = [sys.executable, "-m", "poetry", "install", "--dry-run", flag, name]
    result = _tool(argv, lock.parent)
    assert result.returncode != 0, result.stdout
    return result.stdout + result.stderr


@pytest.mark.parametrize(("option", "name"), [("--group", "tset"), ("--extra", "nosuch")])
def test_an_undeclared_group_or_extra_is_refused_as_the_tool_does(
    locked: Path, option: str, name: str
) -> None:
    env = make_env(locked.parent / f".venv{option}")
    result = envcore("drift", env, "--lock", locked, option, name)
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith(f"envcore: error: {locked}: ")
    assert result.stderr.count("\n") == 1
    said = result.stderr.removeprefix(f"envcore: error: {locked}: ").removesuffix("\n")
    said = said.removesuffix(" (uv sync refuses it)")
    assert said in " ".join(_refusal(locked, option, name).split())  # uv wraps its lines


def test_declared_ones_are_selected(locked: Path) -> None:
    env = make_env(locked.parent / ".venv-ok")
    result = envcore("drift", env, "--lock", locked, "--group", "Test", "--extra", "fast")
    assert result.returncode == 0, result.stdout + result.stderr
