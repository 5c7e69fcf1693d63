"""Lock out of date: a lock `uv lock` made (offline, from the local index) held to the
pyproject.toml it was made from, after the ranges changed and before it was locked again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from envcore.environment import inspect_environment
from envcore.locks import read_lock
from envcore.locks.freshness import lock_outdated
from tests.envcore.locks.conftest import LocalIndex, uv
from tests.envcore.locks.test_pipenv_real import PIPFILE, pipenv
from tests.envcore.locks.test_poetry_real import POETRY_TABLES, poetry
from tests.wheelmaker import make_project


@pytest.fixture
def project(uv_project: Path, tmp_path: Path) -> Path:
    """The locked demo project's declarations and lock, copied to edit (not its env)."""
    copy = tmp_path / "demo"
    shutil.copytree(uv_project, copy, ignore=shutil.ignore_patterns(".venv"))
    return copy


@pytest.fixture
def markers(uv_project: Path) -> dict[str, str]:
    return inspect_environment(uv_project / ".venv").marker_environment()


def edit(pyproject: Path, old: str, new: str) -> None:
    text = pyproject.read_text()
    assert old in text
    pyproject.write_text(text.replace(old, new, 1))


def outdated(project: Path, markers: dict[str, str], lock: str = "uv.lock") -> str:
    return lock_outdated(read_lock(project / lock), markers, roots=[project])


def test_a_fresh_lock_is_not_out_of_date(project: Path, markers: dict[str, str]) -> None:
    assert outdated(project, markers) == ""


def test_a_range_the_locked_version_is_outside_of(project: Path, markers: dict[str, str]) -> None:
    edit(project / "pyproject.toml", '"alpha==2.0"', '"alpha>=3"')
    assert outdated(project, markers) == (
        "uv.lock is out of date: pyproject.toml asks for alpha>=3, the lock has alpha 2.0; "
        "run `uv lock`"
    )


def test_a_new_dependency_the_lock_lacks(project: Path, markers: dict[str, str]) -> None:
    edit(project / "pyproject.toml", '"beta", ', '"beta", "stray", "gamma>=2", ')
    assert outdated(project, markers) == (
        "uv.lock is out of date: pyproject.toml asks for stray, the lock has no stray "
        "(and 1 more); run `uv lock`"
    )


def test_a_group_and_an_extra_are_held_to_the_lock_too(
    project: Path, markers: dict[str, str]
) -> None:
    edit(project / "pyproject.toml", 'dev = ["devtool"]', 'dev = ["devtool<1.1"]')
    edit(project / "pyproject.toml", 'x = ["opt"]', 'x = ["opt", "stray"]')
    assert outdated(project, markers) == (
        "uv.lock is out of date: pyproject.toml asks for stray, the lock has no stray "
        "(and 1 more); run `uv lock`"
    )
    edit(project / "pyproject.toml", 'x = ["opt", "stray"]', 'x = ["opt"]')
    # uv lock took the newest devtool when any version would do.
    assert outdated(project, markers) == (
        "uv.lock is out of date: pyproject.toml asks for devtool<1.1, the lock has "
        "devtool 1.1; run `uv lock`"
    )


def test_a_requirement_for_another_platform_does_not_count(
    project: Path, markers: dict[str, str]
) -> None:
    edit(project / "pyproject.toml", '"beta", ', '"beta", "stray; sys_platform == \'win32\'", ')
    assert outdated(project, markers) == ""


def test_the_file_times_are_not_the_test(project: Path, markers: dict[str, str]) -> None:
    """A checkout can make the pyproject.toml newer than the lock: nothing changed."""
    lock = project / "uv.lock"
    pyproject = project / "pyproject.toml"
    stat = lock.stat()
    pyproject.touch()
    os.utime(lock, (stat.st_atime - 3600, stat.st_mtime - 3600))
    assert outdated(project, markers) == ""


def test_a_pylock_is_held_only_to_the_groups_it_was_exported_with(
    project: Path, markers: dict[str, str], local_index: LocalIndex
) -> None:
    uv(
        "export",
        "--quiet",
        "--format",
        "pylock.toml",
        "-o",
        "pylock.toml",
        cwd=project,
        index=local_index,
    )
    assert outdated(project, markers, "pylock.toml") == ""
    # A group the export did not include: not the pylock's business.
    edit(project / "pyproject.toml", 'lint = ["gamma"]', 'lint = ["gamma>=9"]')
    assert outdated(project, markers, "pylock.toml") == ""
    # The project's own dependencies are.
    edit(project / "pyproject.toml", '"alpha==2.0"', '"alpha>=3"')
    assert outdated(project, markers, "pylock.toml") == (
        "pylock.toml is out of date: pyproject.toml asks for alpha>=3, the lock has alpha 2.0; "
        "export it again"
    )


def test_a_declaring_file_outside_the_roots_is_not_read(
    project: Path, markers: dict[str, str]
) -> None:
    edit(project / "pyproject.toml", '"alpha==2.0"', '"alpha>=3"')
    lock = read_lock(project / "uv.lock")
    assert lock_outdated(lock, markers, roots=[project / "libs"]) == ""


def test_a_broken_declaring_file_leaves_the_lock_unjudged(
    project: Path, markers: dict[str, str]
) -> None:
    lock = read_lock(project / "uv.lock")
    (project / "pyproject.toml").write_text("[project\n")
    assert lock_outdated(lock, markers, roots=[project]) == ""


@pytest.fixture(scope="module")
def poetry_project(tmp_path_factory: pytest.TempPathFactory, local_index: LocalIndex) -> Path:
    """A poetry project ([project] ranges, [tool.poetry] groups) locked by `poetry lock`."""
    base = tmp_path_factory.mktemp("poetry-fresh")
    directory = base / "demo"
    make_project(directory, "demo", "0.1", dependencies=["beta", "alpha<2", "libpkg"])
    make_project(directory / "libs" / "libpkg", "libpkg", "0.2", dependencies=["alpha"])
    with (directory / "pyproject.toml").open("a") as handle:
        handle.write(POETRY_TABLES.format(url=local_index.url))
    poetry("lock", cwd=directory, home=base / "poetry-home")
    return directory


@pytest.fixture
def poetry_copy(poetry_project: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "demo"
    shutil.copytree(poetry_project, copy)
    return copy


def test_a_poetry_lock_is_held_to_pep_621_ranges_and_poetry_groups(
    poetry_copy: Path, markers: dict[str, str]
) -> None:
    assert outdated(poetry_copy, markers, "poetry.lock") == ""
    edit(poetry_copy / "pyproject.toml", '"alpha<2"', '"alpha>=2"')
    assert outdated(poetry_copy, markers, "poetry.lock") == (
        "poetry.lock is out of date: pyproject.toml asks for alpha>=2, the lock has alpha 1.0; "
        "run `poetry lock`"
    )
    edit(poetry_copy / "pyproject.toml", '"alpha>=2"', '"alpha<2"')
    edit(poetry_copy / "pyproject.toml", 'devtool = "^1.0"', 'devtool = "^2.0"')
    assert outdated(poetry_copy, markers, "poetry.lock") == (
        "poetry.lock is out of date: pyproject.toml asks for devtool<3.0,>=2.0, the lock has "
        "devtool 1.1; run `poetry lock`"
    )


def test_a_pipfile_lock_is_held_to_every_category_of_its_pipfile(
    tmp_path: Path, local_index: LocalIndex, markers: dict[str, str]
) -> None:
    directory = tmp_path / "demo"
    directory.mkdir()
    make_project(directory / "libs" / "libpkg", "libpkg", "0.2", dependencies=["alpha"])
    (directory / "Pipfile").write_text(PIPFILE.format(url=local_index.url))
    pipenv("lock", cwd=directory, home=tmp_path / "pipenv-home", index=local_index)
    assert outdated(directory, markers, "Pipfile.lock") == ""
    pipfile = directory / "Pipfile"
    edit(pipfile, 'devtool = "==1.1"', 'devtool = "==1.0"')
    assert outdated(directory, markers, "Pipfile.lock") == (
        "Pipfile.lock is out of date: Pipfile asks for devtool==1.0, the lock has devtool 1.1; "
        "run `pipenv lock`"
    )
