"""What the lock tests share: a local index the real tools lock and install from (offline),
environments made and filled from it, and the real tools and envcore's CLI run as
processes with the suite's isolated pip/uv configuration (tests/conftest.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from envcore.ops import find_uv
from tests.envcore.indexserver import IndexState, serve_index
from tests.envtools import pip
from tests.wheelmaker import make_project, write_wheel

#: name -> [(version, requires)] on the lock tests' index: two versions to plant a
#: mismatch with, a chain (beta -> alpha), a Windows-only package with a dependency of its
#: own, a dev tool, a package for another group, an extra's package, and a stray.
PUBLISHED: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "alpha": [("1.0", ()), ("2.0", ())],
    "beta": [("1.0", ("alpha>=1.0",)), ("2.0", ("alpha>=2.0",))],
    "gamma": [("1.0", ()), ("1.5", ())],
    "devtool": [("1.0", ()), ("1.1", ())],
    "winonly": [("1.0", ("winonly-dep",))],
    "winonly-dep": [("1.0", ())],
    "opt": [("1.0", ())],
    "stray": [("1.0", ())],
}


@dataclass
class LocalIndex:
    """A running index (`url`, PEP 503/691) serving the wheels in `files`."""

    url: str
    files: Path
    state: IndexState

    def publish(self, name: str, version: str, requires: Iterable[str] = ()) -> Path:
        wheel = write_wheel(self.files, name, version, requires=requires)
        self.state.publish(wheel)
        return wheel

    def file_url(self, wheel: Path) -> str:
        """The URL the index serves one of its files at (a direct-URL source)."""
        return f"{self.url.rsplit('/simple', 1)[0]}/files/{wheel.name}"


@pytest.fixture(scope="module")
def local_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    files = tmp_path_factory.mktemp("lock-index")
    state = IndexState()
    with serve_index(state) as url:
        index = LocalIndex(url, files, state)
        for name, releases in PUBLISHED.items():
            for version, requires in releases:
                index.publish(name, version, requires)
        yield index


def this_python() -> dict[str, str]:
    """The marker environment of the suite's interpreter (the one the tests' envs use)."""
    from packaging.markers import default_environment

    return {key: str(value) for key, value in default_environment().items()}


def run(argv: Sequence[str | Path], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A real tool, checked, its output shown when it fails."""
    result = subprocess.run(
        [str(arg) for arg in argv], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout}\n{result.stderr}"
    return result


def uv(*args: str | Path, cwd: Path, index: LocalIndex) -> subprocess.CompletedProcess[str]:
    """`uv ARGS` in a project, from the local index only, with the suite's interpreter."""
    uv_binary = find_uv()
    assert uv_binary is not None
    return run(
        [uv_binary, *args, "--default-index", index.url, "--python", sys.executable], cwd=cwd
    )


def make_env(path: Path, index: LocalIndex | None = None, packages: Sequence[str] = ()) -> Path:
    """A venv without pip (`uv venv`, fast), `packages` installed exactly (no dependencies)
    from the local index by the suite's pip."""
    uv_binary = find_uv()
    assert uv_binary is not None
    run([uv_binary, "venv", "--quiet", "--no-project", "--python", sys.executable, path])
    if packages:
        assert index is not None, "packages come from the local index"
        pip("install", "--quiet", "--no-deps", f"--index-url={index.url}", *packages, env=path)
    return path


def envcore(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`python -m envcore ARGS` as a user runs it (not checked: exit codes are the point)."""
    return subprocess.run(
        [sys.executable, "-m", "envcore", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def drift_json(env: Path, source: Path) -> tuple[int, dict[str, object]]:
    """`python -m envcore drift ENV -r SOURCE --json`: (exit status, the report)."""
    result = envcore("drift", env, "-r", source, "--json")
    assert result.returncode in (0, 1), result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return result.returncode, data


def statuses(data: dict[str, object]) -> dict[str, str]:
    """name -> status of a drift report's JSON items."""
    items = data["items"]
    assert isinstance(items, list)
    return {str(item["name"]): str(item["status"]) for item in items}


#: The project's own declarations: a pin, a chain, a Windows-only dependency (with one of
#: its own), an editable path dependency, an extra, and two groups (dev is uv's default).
PYPROJECT_TAIL = """
[project.optional-dependencies]
x = ["opt"]

[dependency-groups]
dev = ["devtool"]
lint = ["gamma"]

[tool.uv.sources]
libpkg = { path = "libs/libpkg", editable = true }
"""


def make_uv_project(directory: Path, index: LocalIndex) -> Path:
    """A project locked by `uv lock` and synced by `uv sync` (its `.venv`)."""
    make_project(
        directory,
        "demo",
        "0.1",
        dependencies=["beta", "alpha==2.0", "winonly; sys_platform == 'win32'", "libpkg"],
    )
    make_project(directory / "libs" / "libpkg", "libpkg", "0.2", dependencies=["alpha"])
    with (directory / "pyproject.toml").open("a") as handle:
        handle.write(PYPROJECT_TAIL)
    uv("lock", cwd=directory, index=index)
    uv("sync", "--quiet", cwd=directory, index=index)
    return directory


@pytest.fixture(scope="module")
def uv_project(tmp_path_factory: pytest.TempPathFactory, local_index: LocalIndex) -> Path:
    return make_uv_project(tmp_path_factory.mktemp("uvproj") / "demo", local_index)
