"""Pipfile.lock made by the real `pipenv lock` from the local index (offline), read and
selected as `pipenv sync` does, and drift of real environments (filled by pip from the same
index) against it and against the Pipfile itself, through envcore's API and its CLI."""

from __future__ import annotations

import json
import os
import shutil
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

PIPFILE = """
[[source]]
url = "{url}"
verify_ssl = false
name = "local"

[packages]
beta = "*"
alpha = "<2"
winonly = {{version = "*", markers = "sys_platform == 'win32'"}}
libpkg = {{path = "./libs/libpkg", editable = true}}

[dev-packages]
devtool = "==1.1"
"""


def pipenv(*args: str, cwd: Path, home: Path, index: LocalIndex) -> None:
    """The real pipenv: its venv in the project, its caches in `home`, every index request
    (PyPI's too) sent to the local index, no questions, the suite's interpreter."""
    environ = {
        **os.environ,
        "PIPENV_VENV_IN_PROJECT": "1",
        "PIPENV_IGNORE_VIRTUALENVS": "1",
        "PIPENV_NOSPIN": "1",
        "PIPENV_YES": "1",
        "PIPENV_DONT_LOAD_ENV": "1",
        "PIPENV_CACHE_DIR": str(home / "cache"),
        "PIPENV_PYPI_MIRROR": index.url,
        "PIPENV_PYTHON": sys.executable,
        "WORKON_HOME": str(home / "venvs"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pipenv", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"pipenv {args}:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, local_index: LocalIndex) -> Path:
    base = tmp_path_factory.mktemp("pipenvproj")
    directory = base / "demo"
    directory.mkdir()
    make_project(directory / "libs" / "libpkg", "libpkg", "0.2", dependencies=["alpha"])
    (directory / "Pipfile").write_text(PIPFILE.format(url=local_index.url))
    pipenv("lock", cwd=directory, home=base / "pipenv-home", index=local_index)
    return directory


@pytest.fixture
def synced_env(tmp_path: Path, project: Path, local_index: LocalIndex) -> Path:
    """What `pipenv sync` puts in an env, installed by pip: the default packages."""
    env = make_env(tmp_path / "env", local_index, ["alpha==1.0", "beta==1.0"])
    libpkg = str(project / "libs" / "libpkg")
    pip("install", "--quiet", "--no-deps", "--no-index", "-e", libpkg, env=env)
    return env


def drift_of(env_path: Path, source: Path, groups: list[str] | None = None) -> dict[str, str]:
    env = inspect_environment(env_path)
    parsed = load_requirements(source, groups=groups, environment=env.marker_environment())
    report = compute_drift(env, read_inventory(env), parsed)
    found: dict[str, str] = {item.name: item.status for item in report.items}
    return found | {name: "untracked" for name in report.untracked}


def test_the_lock_pipenv_made_is_selected_as_pipenv_sync_selects(project: Path) -> None:
    lock = read_lock(project / "Pipfile.lock")
    assert lock.groups == ("default", "develop")
    linux = inspect_environment(Path(sys.prefix)).marker_environment()
    selection = lock.select(linux)
    assert {p.name: (p.version, p.source) for p in selection.packages} == {
        "alpha": ("1.0", "index"),
        "beta": ("1.0", "index"),
        "libpkg": (None, "editable"),
    }
    assert [(p.name, marker) for p, marker in selection.skipped] == [
        ("winonly", "sys_platform == 'win32'")
    ]
    assert selection.description.startswith(
        "Pipfile.lock: default packages (pipenv sync's default; dev: pipenv sync --dev);"
    )
    with_dev = lock.select(linux, groups=["default", "dev"])
    assert ("devtool", "1.1") in {(p.name, p.version) for p in with_dev.packages}


def test_a_group_asked_for_is_added_to_default(project: Path) -> None:
    """`groups=["dev"]` is `pipenv sync --dev`: default and develop, not develop alone."""
    lock = read_lock(project / "Pipfile.lock")
    linux = inspect_environment(Path(sys.prefix)).marker_environment()
    selection = lock.select(linux, groups=["dev"])
    assert selection.groups == ("default", "develop")
    assert {p.name for p in selection.packages} == {"alpha", "beta", "libpkg", "devtool"}
    assert selection.description.startswith(
        "Pipfile.lock: default, develop packages (default and develop, as pipenv sync --dev"
    )


def test_an_env_as_pipenv_syncs_it_is_in_sync(synced_env: Path, project: Path) -> None:
    assert drift_of(synced_env, project / "Pipfile.lock") == {
        "alpha": "ok",
        "beta": "ok",
        "libpkg": "ok",
        "winonly": "not-applicable",
    }
    code, data = drift_json(synced_env, project / "Pipfile.lock")
    assert (code, data["summary"]) == (0, "in-sync")
    # the Pipfile's own ranges hold too (not pinned: "unpinned", which is not drift)
    code, data = drift_json(synced_env, project / "Pipfile")
    assert (code, data["summary"]) == (0, "in-sync")
    assert statuses(data) == {
        "alpha": "unpinned",
        "beta": "unpinned",
        "libpkg": "ok",
        "winonly": "not-applicable",
    }


def test_the_dev_group_asked_for_is_held_to(
    synced_env: Path, project: Path, local_index: LocalIndex
) -> None:
    lock = project / "Pipfile.lock"
    assert drift_of(synced_env, lock, groups=["default", "dev"])["devtool"] == "missing"
    pip(
        "install",
        "--quiet",
        "--no-deps",
        f"--index-url={local_index.url}",
        "devtool==1.0",
        env=synced_env,
    )
    assert drift_of(synced_env, lock, groups=["default", "dev"])["devtool"] == "mismatch"
    assert drift_of(synced_env, lock)["devtool"] == "untracked"  # not in pipenv sync's


def test_planted_differences_are_drift(
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
    pip("uninstall", "--quiet", "--yes", "beta", env=synced_env)
    assert drift_of(synced_env, project / "Pipfile.lock") == {
        "alpha": "mismatch",
        "beta": "missing",
        "libpkg": "ok",
        "winonly": "not-applicable",
        "stray": "untracked",
    }
    code, data = drift_json(synced_env, project / "Pipfile.lock")
    assert code == 1 and data["summary"] == "drifted"
    # the Pipfile says alpha<2: the Pipfile as the source drifts too
    code, data = drift_json(synced_env, project / "Pipfile")
    assert code == 1 and statuses(data)["alpha"] == "mismatch"


def test_the_editable_path_package_installed_as_a_copy_differs(
    synced_env: Path, project: Path
) -> None:
    path = str(project / "libs" / "libpkg")
    pip("install", "--quiet", "--no-deps", "--no-index", "--force-reinstall", path, env=synced_env)
    assert drift_of(synced_env, project / "Pipfile.lock")["libpkg"] == "source-differs"


def test_drift_with_the_dev_group_matches_pipenv_sync_dev(
    tmp_path: Path, project: Path, local_index: LocalIndex
) -> None:
    """What the real `pipenv sync --dev` installs is in sync with `--group dev`, against the
    lock and against the Pipfile; a default package changed afterwards is a mismatch, not
    an untracked package."""
    copy = tmp_path / "demo"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".venv"))
    pipenv("sync", "--dev", cwd=copy, home=tmp_path / "pipenv-home", index=local_index)
    env = copy / ".venv"
    expected = {
        copy / "Pipfile.lock": {"alpha": "ok", "beta": "ok", "devtool": "ok"},
        copy / "Pipfile": {"alpha": "unpinned", "beta": "unpinned", "devtool": "ok"},
    }
    for source, wanted in expected.items():
        result = envcore("drift", env, "-r", source, "--group", "dev", "--json")
        data = json.loads(result.stdout)
        assert (result.returncode, data["summary"]) == (0, "in-sync"), result.stdout
        assert {name: statuses(data)[name] for name in wanted} == wanted
    pip("install", "--quiet", "--no-deps", f"--index-url={local_index.url}", "alpha==2.0", env=env)
    for source in expected:
        result = envcore("drift", env, "-r", source, "--group", "dev", "--json")
        assert result.returncode == 1
        assert statuses(json.loads(result.stdout))["alpha"] == "mismatch"


def test_an_upgrade_of_a_package_pipfile_lock_pins_names_pipenv_update(project: Path) -> None:
    with pytest.raises(PinnedByLockError) as caught:
        refuse_pinned(project / "Pipfile.lock", this_python(), ["stray", "alpha"])
    assert str(caught.value) == (
        "alpha is pinned to 1.0 by Pipfile.lock: update the lock (pipenv update alpha) and Sync"
    )
