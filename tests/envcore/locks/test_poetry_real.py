"""poetry.lock made by the real `poetry lock` from the local index (offline), read and
selected as `poetry install` does, and drift of real environments (filled by pip from the
same index) against it and against poetry's own pyproject tables, through envcore's API
and its CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envcore.distributions import read_inventory
from envcore.drift import compute_drift
from envcore.environment import inspect_environment
from envcore.errors import PinnedByLockError
from envcore.locks import read_lock
from envcore.locks.pins import refuse_pinned
from envcore.requirements import load_requirements
from tests.envcore.locks.conftest import (
    LocalIndex,
    drift_json,
    envcore,
    make_env,
    statuses,
    this_python,
)
from tests.envtools import pip
from tests.wheelmaker import make_project

POETRY_TABLES = """
[project.optional-dependencies]
x = ["opt"]

[tool.poetry.dependencies]
libpkg = {{ path = "libs/libpkg", develop = true }}

[tool.poetry.group.dev.dependencies]
devtool = "^1.0"

[tool.poetry.group.lint]
optional = true

[tool.poetry.group.lint.dependencies]
gamma = "*"

[[tool.poetry.source]]
name = "local"
url = "{url}"
priority = "primary"
"""


def poetry(*args: str, cwd: Path, home: Path, venv: Path | None = None) -> None:
    """The real poetry, its cache, config and data in `home`, no keyring, no questions;
    with `venv`, working on that environment (as when it is activated)."""
    activated = {"VIRTUAL_ENV": str(venv)} if venv is not None else {}
    environ = {
        **activated,
        **os.environ,
        "POETRY_CACHE_DIR": str(home / "cache"),
        "POETRY_CONFIG_DIR": str(home / "config"),
        "POETRY_DATA_DIR": str(home / "data"),
        "POETRY_VIRTUALENVS_CREATE": "false",
        "POETRY_NO_INTERACTION": "1",
        "POETRY_KEYRING_ENABLED": "false",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    result = subprocess.run(
        [sys.executable, "-m", "poetry", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"poetry {args}:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, local_index: LocalIndex) -> Path:
    """A poetry 2 project: [project] dependencies (a range, a chain, a Windows-only one,
    an editable path dependency through [tool.poetry.dependencies]), an extra, the dev
    group and an optional lint group; locked by `poetry lock`."""
    base = tmp_path_factory.mktemp("poetryproj")
    directory = base / "demo"
    make_project(
        directory,
        "demo",
        "0.1",
        dependencies=["beta", "alpha<2", "winonly; sys_platform == 'win32'", "libpkg"],
    )
    make_project(directory / "libs" / "libpkg", "libpkg", "0.2", dependencies=["alpha"])
    with (directory / "pyproject.toml").open("a") as handle:
        handle.write(POETRY_TABLES.format(url=local_index.url))
    poetry("lock", cwd=directory, home=base / "poetry-home")
    return directory


@pytest.fixture
def synced_env(tmp_path: Path, project: Path, local_index: LocalIndex) -> Path:
    """What `poetry install` puts in an env, installed by pip: the locked versions of main
    and dev, the editable path dependency and the project itself, editable."""
    env = make_env(tmp_path / "env", local_index, ["alpha==1.0", "beta==1.0", "devtool==1.1"])
    for directory in (project / "libs" / "libpkg", project):
        pip("install", "--quiet", "--no-deps", "--no-index", "-e", str(directory), env=env)
    return env


def drift_of(env_path: Path, source: Path, groups: list[str] | None = None) -> dict[str, str]:
    env = inspect_environment(env_path)
    parsed = load_requirements(source, groups=groups, environment=env.marker_environment())
    report = compute_drift(env, read_inventory(env), parsed)
    found: dict[str, str] = {item.name: item.status for item in report.items}
    return found | {name: "untracked" for name in report.untracked}


def test_the_lock_poetry_made_is_selected_as_poetry_install_selects(project: Path) -> None:
    lock = read_lock(project / "poetry.lock")
    assert lock.project_name == "demo"
    assert lock.default_groups == ("main", "dev")
    assert set(lock.groups) == {"main", "dev", "lint", "extra:x"}
    linux = inspect_environment(Path(sys.prefix)).marker_environment()
    selection = lock.select(linux)
    assert {p.name: (p.version, p.source) for p in selection.packages} == {
        "alpha": ("1.0", "index"),
        "beta": ("1.0", "index"),
        "devtool": ("1.1", "index"),
        "libpkg": ("0.2", "editable"),
        "demo": (None, "editable"),
    }
    assert sorted(p.name for p, _ in selection.skipped) == ["winonly", "winonly-dep"]
    assert selection.description.startswith(
        "poetry.lock: groups main, dev (poetry install's defaults: main and every"
        " non-optional group; optional: lint; the project demo itself, editable);"
    )
    with_extra = lock.select(linux, groups=["lint", "extra:x"])
    assert {"gamma", "opt"} <= {p.name for p in with_extra.packages}
    assert with_extra.description.startswith(
        "poetry.lock: groups main, dev, lint, extra:x (poetry install --with lint -E x);"
    )


def test_a_group_asked_for_is_added_to_the_default_groups(project: Path) -> None:
    """`groups=["lint"]` is `poetry install --with lint`: main, dev and lint, not lint alone
    (main's packages would be merely untracked, and a mismatch among them unseen)."""
    lock = read_lock(project / "poetry.lock")
    linux = inspect_environment(Path(sys.prefix)).marker_environment()
    selection = lock.select(linux, groups=["lint"])
    assert selection.groups == ("main", "dev", "lint")
    assert {p.name for p in selection.packages} == {
        "alpha",
        "beta",
        "devtool",
        "gamma",
        "libpkg",
        "demo",
    }


def test_an_env_as_poetry_installs_it_is_in_sync(synced_env: Path, project: Path) -> None:
    assert drift_of(synced_env, project / "poetry.lock") == {
        "alpha": "ok",
        "beta": "ok",
        "devtool": "ok",
        "libpkg": "ok",
        "demo": "ok",
        "winonly": "not-applicable",
        "winonly-dep": "not-applicable",
    }
    code, data = drift_json(synced_env, project / "poetry.lock")
    assert (code, data["summary"]) == (0, "in-sync")
    assert str(data["selection"]).startswith("poetry.lock: groups main, dev")


def test_planted_differences_are_drift(synced_env: Path, project: Path) -> None:
    pip("uninstall", "--quiet", "--yes", "devtool", env=synced_env)
    # the editable path dependency installed as a plain copy: not what poetry installs
    path = str(project / "libs" / "libpkg")
    pip("install", "--quiet", "--no-deps", "--no-index", "--force-reinstall", path, env=synced_env)
    found = drift_of(synced_env, project / "poetry.lock")
    assert found["libpkg"] == "source-differs"
    assert found["devtool"] == "missing"
    assert found["winonly"] == "not-applicable"
    code, data = drift_json(synced_env, project / "poetry.lock")
    assert code == 1 and data["summary"] == "drifted"
    assert statuses(data)["devtool"] == "missing"


def test_a_mismatch_and_an_extra_package(
    synced_env: Path, project: Path, local_index: LocalIndex
) -> None:
    pip(
        "install",
        "--quiet",
        "--no-deps",
        f"--index-url={local_index.url}",
        "alpha==2.0",
        "stray==1.0",
        env=synced_env,
    )
    found = drift_of(synced_env, project / "poetry.lock")
    assert found["alpha"] == "mismatch" and found["stray"] == "untracked"
    code, data = drift_json(synced_env, project / "poetry.lock")
    assert code == 1 and statuses(data)["alpha"] == "mismatch"
    assert data["untracked"] == ["stray"]


def test_the_optional_group_asked_for_is_held_to(synced_env: Path, project: Path) -> None:
    found = drift_of(synced_env, project / "poetry.lock", groups=["lint"])
    assert found["gamma"] == "missing"
    assert found["alpha"] == found["devtool"] == "ok"


def test_drift_with_a_group_matches_poetry_install_with_it(
    tmp_path: Path, project: Path, local_index: LocalIndex
) -> None:
    """What the real `poetry install --with lint` installs is in sync with `--group lint`;
    a main package changed afterwards is a mismatch, not an untracked package."""
    env = make_env(tmp_path / "env")
    poetry("install", "--with", "lint", cwd=project, home=tmp_path / "poetry-home", venv=env)
    lock = project / "poetry.lock"
    result = envcore("drift", env, "--lock", lock, "--group", "lint", "--json")
    data = json.loads(result.stdout)
    assert (result.returncode, data["summary"]) == (0, "in-sync"), result.stdout
    assert {statuses(data)[name] for name in ("alpha", "beta", "devtool", "gamma")} == {"ok"}
    assert data["untracked"] == []
    pip("install", "--quiet", "--no-deps", f"--index-url={local_index.url}", "alpha==2.0", env=env)
    result = envcore("drift", env, "--lock", lock, "--group", "lint", "--json")
    assert result.returncode == 1
    assert statuses(json.loads(result.stdout))["alpha"] == "mismatch"


OLD_STYLE = """
[tool.poetry]
name = "oldproj"
version = "0.1.0"
package-mode = false

[tool.poetry.dependencies]
python = ">=3.8"
alpha = "^1.0"
beta = "~1.0"

[tool.poetry.group.dev.dependencies]
devtool = "1.*"

[[tool.poetry.source]]
name = "local"
url = "{url}"
priority = "primary"
"""


def test_an_old_style_project_whose_env_breaks_a_caret_constraint_drifts(
    tmp_path: Path, local_index: LocalIndex
) -> None:
    directory = tmp_path / "old"
    directory.mkdir()
    (directory / "pyproject.toml").write_text(OLD_STYLE.format(url=local_index.url))
    poetry("lock", cwd=directory, home=tmp_path / "poetry-home")
    env = make_env(tmp_path / "env", local_index, ["alpha==2.0", "beta==1.0", "devtool==1.1"])
    # against the ranges: alpha 2.0 is outside ^1.0
    code, data = drift_json(env, directory / "pyproject.toml")
    assert code == 1 and statuses(data) == {"alpha": "mismatch", "beta": "unpinned"}
    assert data["untracked"] == ["devtool"]
    # against the lock poetry made from them: alpha must be 1.0 exactly
    assert drift_of(env, directory / "poetry.lock") == {
        "alpha": "mismatch",
        "beta": "ok",
        "devtool": "ok",
    }


def test_an_upgrade_of_a_package_poetry_lock_pins_names_poetry_update(project: Path) -> None:
    with pytest.raises(PinnedByLockError) as caught:
        refuse_pinned(project / "poetry.lock", this_python(), ["stray", "alpha"])
    assert str(caught.value) == (
        "alpha is pinned to 1.0 by poetry.lock: update the lock (poetry update alpha) and Sync"
    )
