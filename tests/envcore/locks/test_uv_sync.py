"""Fixing from a lock: `python -m envcore sync ENV -r uv.lock` (and the plan the dashboard's
Fix drift shows) brings a drifted env to exactly the locked versions and sources, from the
user's configured index, never from the index a lock file names."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envcore.errors import RequirementsError
from envcore.ops import Context, IndexOptions, plan_sync
from envcore.ops.context import Log
from tests.envcore.locks.conftest import LocalIndex, drift_json, make_env, uv
from tests.envtools import pip, pip_list_json


@pytest.fixture
def project(uv_project: Path, local_index: LocalIndex, tmp_path: Path) -> Path:
    """A copy of the uv project whose locks (uv.lock and its pylock.toml export) name an
    index nothing listens on (port 9): a sync that used it could not install anything."""
    copy = Path(
        shutil.copytree(uv_project, tmp_path / "demo", ignore=shutil.ignore_patterns(".venv"))
    )
    uv(
        "export",
        "--quiet",
        "--format",
        "pylock.toml",
        "-o",
        "pylock.toml",
        cwd=copy,
        index=local_index,
    )
    host = local_index.url.split("/")[2]
    for lock in (copy / "uv.lock", copy / "pylock.toml"):
        lock.write_text(lock.read_text().replace(host, "127.0.0.1:9"))
    return copy


def drifted_env(path: Path, project: Path, index: LocalIndex) -> Path:
    """alpha at another version, beta missing, devtool older, a stray, the project itself
    installed but not editable, libpkg editable as locked."""
    env = make_env(path, index, ["alpha==1.0", "devtool==1.0", "stray==1.0"])
    pip("install", "-q", "--no-deps", "--no-index", "-e", str(project / "libs" / "libpkg"), env=env)
    pip("install", "-q", "--no-deps", "--no-index", str(project), env=env)
    return env


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_sync_from_a_lock_installs_exactly_the_locked_packages(
    installer: str, project: Path, local_index: LocalIndex, tmp_path: Path
) -> None:
    env = drifted_env(tmp_path / "env", project, local_index)
    lock = project / "uv.lock"
    code, _ = drift_json(env, lock)
    assert code == 1
    result = subprocess.run(
        [sys.executable, "-m", "envcore", "sync", env, "-r", lock, "--installer", installer],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PIP_INDEX_URL": local_index.url},  # the user's configured index
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "127.0.0.1:9" not in result.stdout + result.stderr
    rows = {row["name"]: row for row in pip_list_json(env)}
    assert {name: row["version"] for name, row in rows.items()} == {
        "alpha": "2.0",
        "beta": "2.0",
        "demo": "0.1",
        "devtool": "1.1",
        "libpkg": "0.2",
    }
    assert rows["demo"]["editable_project_location"] == str(project)
    code, data = drift_json(env, lock)
    assert code == 0 and data["summary"] == "in-sync" and data["untracked"] == []


@pytest.mark.parametrize("lock_name", ["uv.lock", "pylock.toml"])
def test_the_plan_from_a_lock_names_every_change(
    lock_name: str, project: Path, local_index: LocalIndex, tmp_path: Path
) -> None:
    """Exactly the changes, as the page's Fix drift shows them: libpkg, editable from the
    locked directory already, is left alone (uv's dry run would reinstall it)."""
    env = drifted_env(tmp_path / "env", project, local_index)
    context = Context(installer="uv", index=IndexOptions(index_url=local_index.url))
    plan = plan_sync(env, project / lock_name, context=context)
    # A pylock records no version for a directory: the directory is its version.
    demo_version = "0.1" if lock_name == "uv.lock" else None
    changes = {c.name: (c.action, c.after, c.requirement, c.editable) for c in plan.changes}
    assert changes == {
        "alpha": ("upgrade", "2.0", "alpha==2.0", False),
        "beta": ("install", "2.0", "beta==2.0", False),
        "demo": ("upgrade", demo_version, f"demo @ {project.as_uri()}", True),
        "devtool": ("upgrade", "1.1", "devtool==1.1", False),
        "stray": ("remove", None, None, False),
    }
    assert not any("127.0.0.1:9" in arg for arg in plan.dry_run_argv)


def test_a_lock_naming_a_directory_outside_the_roots_is_refused_before_any_run(
    project: Path, local_index: LocalIndex, tmp_path: Path
) -> None:
    """Syncing builds the directories a lock names (their backends run): one outside the
    scan roots is refused in one line, before the installer is started."""
    outside = Path(shutil.copytree(project / "libs" / "libpkg", tmp_path / "outside" / "libpkg"))
    lock = project / "uv.lock"
    text = lock.read_text()
    assert 'editable = "libs/libpkg"' in text
    lock.write_text(text.replace('editable = "libs/libpkg"', 'editable = "../outside/libpkg"'))
    env = drifted_env(tmp_path / "envs" / "env", project, local_index)
    commands: list[tuple[str, ...]] = []
    context = Context(
        installer="uv",
        index=IndexOptions(index_url=local_index.url),
        roots=[project, tmp_path / "envs"],
        log=Log(on_command=commands.append),
    )
    with pytest.raises(RequirementsError) as caught:
        plan_sync(env, lock, context=context)
    assert str(caught.value) == (
        f"cannot sync: {lock} locks libpkg at {outside}, which is outside the scan roots: "
        "the installer would build or read it there (fix the file, or add a scan root)"
    )
    assert commands == []  # nothing was run
