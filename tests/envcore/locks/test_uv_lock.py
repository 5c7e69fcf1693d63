"""uv.lock read as `uv sync` reads it, against locks `uv lock` made and envs `uv sync`
made from a local index (offline): what is selected, and drift on real environments."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from envcore.distributions import read_inventory
from envcore.drift import compute_drift
from envcore.environment import Environment, inspect_environment
from envcore.locks import read_lock
from envcore.locks._uv import UvLock
from envcore.requirements import load_requirements
from tests.envcore.locks.conftest import (
    LocalIndex,
    drift_json,
    envcore,
    make_env,
    run,
    statuses,
    uv,
)
from tests.envtools import pip
from tests.wheelmaker import make_project


@pytest.fixture
def project(uv_project: Path) -> Path:
    return uv_project


def environment(path: Path) -> Environment:
    return inspect_environment(path)


def drift_of(env_path: Path, lock: Path) -> dict[str, str]:
    env = environment(env_path)
    parsed = load_requirements(lock, environment=env.marker_environment())
    report = compute_drift(env, read_inventory(env), parsed)
    found: dict[str, str] = {item.name: item.status for item in report.items}
    return found | {name: "untracked" for name in report.untracked}


def test_the_selection_is_what_uv_sync_installs(project: Path) -> None:
    lock = read_lock(project / "uv.lock")
    assert isinstance(lock, UvLock)
    assert lock.project_name == "demo"
    assert lock.groups == ("dev", "lint", "extra:x")
    assert lock.default_groups == ("dev",)
    env = environment(project / ".venv")
    selection = lock.select(env.marker_environment())
    installed = {d.canonical_name: d.version for d in read_inventory(env).distributions}
    # uv sync's own result is the oracle: exactly the selected packages, at their versions.
    assert {p.name: p.version for p in selection.packages} == installed
    assert [(p.name, marker) for p, marker in selection.skipped] == [
        ("winonly", "sys_platform == 'win32'"),
        ("winonly-dep", "sys_platform == 'win32'"),
    ]
    version = env.python_version
    assert selection.description == (
        f"uv.lock: project demo with groups dev (uv sync's default); markers for CPython "
        f"{version} on {sys.platform}"
    )
    kinds: dict[str, tuple[str, str | None]] = {
        p.name: (p.source, p.location) for p in selection.packages
    }
    assert kinds["demo"] == ("editable", project.as_uri())
    assert kinds["libpkg"] == ("editable", (project / "libs" / "libpkg").as_uri())
    assert kinds["alpha"][0] == "index"


def test_groups_and_extras_asked_for_are_added_to_the_defaults(project: Path) -> None:
    """`uv sync --group lint --extra x` keeps dev, uv's default group."""
    lock = read_lock(project / "uv.lock")
    env = environment(project / ".venv").marker_environment()
    chosen = lock.select(env, groups=["lint", "extra:x"])
    names = {p.name for p in chosen.packages}
    assert {"gamma", "opt", "devtool"} <= names
    assert "groups dev, lint, extra:x (uv sync's default, plus those asked for)" in (
        chosen.description
    )
    by_name: dict[str, tuple[str, ...]] = {p.name: p.groups for p in lock.packages}
    assert by_name["devtool"] == ("dev",) and by_name["opt"] == ("extra:x",)
    assert by_name["alpha"] == ("main",)


def test_default_groups_come_from_the_projects_tool_uv_table(project: Path, tmp_path: Path) -> None:
    copy = tmp_path / "demo"
    copy.mkdir()
    shutil.copy(project / "uv.lock", copy)
    text = (project / "pyproject.toml").read_text()
    (copy / "pyproject.toml").write_text(text + '\n[tool.uv]\ndefault-groups = ["lint"]\n')
    lock = read_lock(copy / "uv.lock")
    assert lock.default_groups == ("lint",)
    selection = lock.select(environment(project / ".venv").marker_environment())
    assert "groups lint (tool.uv.default-groups)" in selection.description
    (copy / "pyproject.toml").write_text(text + '\n[tool.uv]\ndefault-groups = "all"\n')
    assert read_lock(copy / "uv.lock").default_groups == ("dev", "lint")


def test_an_env_uv_synced_is_in_sync(project: Path) -> None:
    assert drift_of(project / ".venv", project / "uv.lock") == {
        "alpha": "ok",
        "beta": "ok",
        "demo": "ok",
        "devtool": "ok",
        "libpkg": "ok",
        "winonly": "not-applicable",
        "winonly-dep": "not-applicable",
    }
    code, data = drift_json(project / ".venv", project / "uv.lock")
    assert code == 0 and data["summary"] == "in-sync"


def test_planted_drift_is_reported(project: Path, local_index: LocalIndex, tmp_path: Path) -> None:
    """A teammate's env: alpha at another version, beta missing, the dev tool at another
    version, a stray package, the project installed but not editable."""
    env = make_env(
        tmp_path / "env",
        local_index,
        ["alpha==1.0", "devtool==1.0", "stray==1.0"],
    )
    pip(
        "install",
        "--quiet",
        "--no-deps",
        "--no-index",
        "-e",
        str(project / "libs" / "libpkg"),
        env=env,
    )
    pip("install", "--quiet", "--no-deps", "--no-index", str(project), env=env)
    expected = {
        "alpha": "mismatch",
        "beta": "missing",
        "demo": "source-differs",
        "devtool": "mismatch",
        "libpkg": "ok",
        "winonly": "not-applicable",
        "winonly-dep": "not-applicable",
        "stray": "untracked",
    }
    assert drift_of(env, project / "uv.lock") == expected
    code, data = drift_json(env, project / "uv.lock")
    assert code == 1 and data["summary"] == "drifted"
    assert statuses(data) | {name: "untracked" for name in data["untracked"]} == expected  # type: ignore[attr-defined]


def test_url_path_and_git_sources(
    tmp_path: Path, local_index: LocalIndex, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A direct URL, a wheel file beside the project and a git checkout: each locked with
    its kind and location, and in sync in the env uv syncs from the lock."""
    direct = local_index.publish("direct-pkg", "0.9")
    wheels = tmp_path / "proj" / "wheels"
    wheels.mkdir(parents=True)
    local_wheel = shutil.copy(local_index.publish("local-pkg", "0.4"), wheels)
    repo = make_project(tmp_path / "repo", "gitpkg", "1.2")
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "first"]):
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args]
        subprocess.run(git, cwd=repo, check=True, capture_output=True)
    commit = run(["git", "rev-parse", "HEAD"], cwd=repo).stdout.strip()
    project = make_project(
        tmp_path / "proj",
        "kinds",
        "1.0",
        dependencies=[
            f"direct-pkg @ {local_index.file_url(direct)}",
            f"local-pkg @ {Path(local_wheel).as_uri()}",
            f"gitpkg @ git+{repo.as_uri()}",
        ],
    )
    with (project / "pyproject.toml").open("a") as handle:
        handle.write(
            '\n[tool.uv.sources]\nlocal-pkg = { path = "wheels/local_pkg-0.4-py3-none-any.whl" }\n'
        )
    uv("lock", cwd=project, index=local_index)
    uv("sync", "--quiet", cwd=project, index=local_index)
    lock = read_lock(project / "uv.lock")
    kinds: dict[str, tuple[str, str | None]] = {
        p.name: (p.source, p.location) for p in lock.packages
    }
    assert kinds["direct-pkg"] == ("url", local_index.file_url(direct))
    assert kinds["local-pkg"] == ("path", Path(local_wheel).as_uri())
    assert kinds["gitpkg"] == ("vcs", f"git+{repo.as_uri()}@{commit}")
    assert set(drift_of(project / ".venv", project / "uv.lock").values()) == {"ok"}


def test_a_lock_is_read_again_whenever_it_or_its_pyproject_changes(
    project: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "demo"
    copy.mkdir()
    shutil.copy(project / "uv.lock", copy)
    shutil.copy(project / "pyproject.toml", copy)
    fresh = read_lock(copy / "uv.lock")
    assert read_lock(copy / "uv.lock") is not fresh  # changed under a second ago: not kept
    time.sleep(1.1)
    kept = read_lock(copy / "uv.lock")
    assert read_lock(copy / "uv.lock") is kept
    text = (copy / "uv.lock").read_text()
    (copy / "uv.lock").write_text(text.replace('version = "2.0"', 'version = "3.0"'))  # same size
    again = read_lock(copy / "uv.lock")
    versions: dict[str, str | None] = {p.name: p.version for p in again.packages}
    assert again is not kept and versions["alpha"] == "3.0"
    time.sleep(1.1)
    kept = read_lock(copy / "uv.lock")
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.uv]\ndefault-groups = ["lint"]\n')
    assert read_lock(copy / "uv.lock").default_groups == ("lint",)


def test_workspaces_select_what_uv_sync_installs(tmp_path: Path, local_index: LocalIndex) -> None:
    """A virtual workspace root syncs every member and its own groups; a project root syncs
    itself and the members it depends on, not the others; a project that is no package
    (`package = false`) is not installed itself. uv sync's result is the oracle."""
    virtual = tmp_path / "virtual"
    virtual.mkdir()
    (virtual / "pyproject.toml").write_text(
        '[tool.uv.workspace]\nmembers = ["packages/*"]\n\n[dependency-groups]\ndev = ["devtool"]\n'
    )
    make_project(virtual / "packages" / "a", "pa", "1.0", dependencies=["alpha"])
    make_project(virtual / "packages" / "b", "pb", "1.0", dependencies=["gamma", "pa"])
    with (virtual / "packages" / "b" / "pyproject.toml").open("a") as handle:
        handle.write("[tool.uv.sources]\npa = { workspace = true }\n")
    rooted = make_project(tmp_path / "rooted", "root-proj", "1.0", dependencies=["m1"])
    make_project(rooted / "m" / "m1", "m1", "1.0", dependencies=["alpha"])
    make_project(rooted / "m" / "m2", "m2", "1.0", dependencies=["gamma"])
    with (rooted / "pyproject.toml").open("a") as handle:
        handle.write('[tool.uv.workspace]\nmembers = ["m/*"]\n\n[tool.uv.sources]\n')
        handle.write("m1 = { workspace = true }\n")
    unpackaged = make_project(tmp_path / "unpackaged", "scripts", "1.0", dependencies=["alpha"])
    with (unpackaged / "pyproject.toml").open("a") as handle:
        handle.write("[tool.uv]\npackage = false\n")  # a virtual root: not installed itself
    for project, described in (
        (virtual, "workspace pa, pb with groups dev (uv sync's default)"),
        (rooted, "project root-proj with no groups (uv sync's default)"),
        (unpackaged, "project scripts with no groups (uv sync's default)"),
    ):
        uv("lock", cwd=project, index=local_index)
        uv("sync", "--quiet", cwd=project, index=local_index)
        env = environment(project / ".venv")
        selection = read_lock(project / "uv.lock").select(env.marker_environment())
        installed = {d.canonical_name: d.version for d in read_inventory(env).distributions}
        assert {p.name: p.version for p in selection.packages} == installed
        assert described in selection.description
        assert set(drift_of(project / ".venv", project / "uv.lock").values()) == {"ok"}


def test_a_resolution_forked_by_markers_selects_the_environments_fork(
    tmp_path: Path, local_index: LocalIndex
) -> None:
    """alpha 1.0 for old Pythons, 2.0 for this one: one uv.lock holds both; the env's fork
    is selected and the other version is not reported beside it."""
    project = make_project(
        tmp_path / "forked",
        "forked",
        "1.0",
        dependencies=["alpha<2; python_version < '3.10'", "alpha>=2; python_version >= '3.10'"],
    )
    with (project / "pyproject.toml").open("a") as handle:
        handle.write('requires-python = ">=3.8"\n')
    uv("lock", cwd=project, index=local_index)
    uv("sync", "--quiet", cwd=project, index=local_index)
    lock = read_lock(project / "uv.lock")
    assert sorted(str(p.version) for p in lock.packages if p.name == "alpha") == ["1.0", "2.0"]
    selection = lock.select(environment(project / ".venv").marker_environment())
    assert [(p.name, p.version) for p in selection.packages] == [
        ("alpha", "2.0"),
        ("forked", "1.0"),
    ]
    assert selection.skipped == ()
    assert drift_of(project / ".venv", project / "uv.lock") == {"alpha": "ok", "forked": "ok"}


def _commit(repo: Path, message: str) -> str:
    for args in (["add", "."], ["commit", "-q", "-m", message]):
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args]
        subprocess.run(git, cwd=repo, check=True, capture_output=True)
    return run(["git", "rev-parse", "HEAD"], cwd=repo).stdout.strip()


def test_a_git_package_is_held_to_the_locked_version_and_commit(
    tmp_path: Path, local_index: LocalIndex
) -> None:
    """uv.lock pins gitpkg 1.0 at one commit: the env is drifted when it has another
    commit of the same version (source-differs) or another version (mismatch); a
    requirements file naming a branch is not held to a commit."""
    repo = make_project(tmp_path / "repo", "gitpkg", "1.0")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    locked = _commit(repo, "1.0")
    project = make_project(tmp_path / "proj", "demo", "0.1", dependencies=["gitpkg"])
    with (project / "pyproject.toml").open("a") as handle:
        handle.write(
            f'\n[tool.uv.sources]\ngitpkg = {{ git = "{repo.as_uri()}", branch = "main" }}\n'
        )
    uv("lock", cwd=project, index=local_index)
    uv("sync", "--quiet", cwd=project, index=local_index)
    env, lock = project / ".venv", project / "uv.lock"
    assert drift_of(env, lock)["gitpkg"] == "ok"
    (repo / "CHANGES").write_text("same version, another commit\n")
    other = _commit(repo, "1.0 again")
    pip(
        "install",
        "-q",
        "--no-deps",
        "--force-reinstall",
        f"gitpkg @ git+{repo.as_uri()}@{other}",
        env=env,
    )
    code, data = drift_json(env, lock)
    assert code == 1 and statuses(data)["gitpkg"] == "source-differs"
    items = data["items"]
    assert isinstance(items, list)
    [item] = [item for item in items if item["name"] == "gitpkg"]
    assert item["message"] == (
        f"requires commit {locked[:12]} of git+{repo.as_uri()}@{locked},"
        f" installed commit {other[:12]}"
    )
    make_project(repo, "gitpkg", "2.0")
    newer = _commit(repo, "2.0")
    pip("install", "--quiet", "--no-deps", f"gitpkg @ git+{repo.as_uri()}@{newer}", env=env)
    assert drift_of(env, lock)["gitpkg"] == "mismatch"
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"gitpkg @ git+{repo.as_uri()}@main\n")
    assert drift_of(env, requirements)["gitpkg"] == "ok"


def test_a_uv_lock_named_through_dotdot_finds_its_project(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`drift ENV --lock ../proj/uv.lock`: the project at `.` is found, `..` or not."""
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    relative = Path(os.path.relpath(project / "uv.lock"))
    assert ".." in relative.parts
    lock = read_lock(relative)
    assert lock.project_name == "demo"
    assert lock.select(environment(project / ".venv").marker_environment()).packages


def test_the_cli_adds_group_and_extra_to_uv_syncs_defaults(project: Path) -> None:
    """`drift --lock uv.lock --group lint --extra x` is held to what `uv sync --group lint
    --extra x` installs: dev's devtool stays ok, gamma and opt are missing."""
    env, lock = project / ".venv", project / "uv.lock"
    result = envcore("drift", env, "--lock", lock, "--group", "lint", "--extra", "x", "--json")
    assert result.returncode == 1, result.stderr
    found = statuses(json.loads(result.stdout))
    assert (found["devtool"], found["gamma"], found["opt"]) == ("ok", "missing", "missing")


def test_uv_conflict_markers_follow_the_extra_asked_for(
    tmp_path: Path, local_index: LocalIndex
) -> None:
    """`[tool.uv] conflicts`: uv forks the resolution per extra and writes the fork into
    edge markers (`extra == 'extra-4-demo-one'`); asking for the extra selects its fork,
    exactly what `uv sync --extra one` installs, and no other fork's version beside it."""
    project = make_project(tmp_path / "demo", "demo", "0.1", dependencies=["beta"])
    with (project / "pyproject.toml").open("a") as handle:
        handle.write(
            '\n[project.optional-dependencies]\none = ["alpha==1.0"]\ntwo = ["alpha==2.0"]\n'
            '\n[tool.uv]\nconflicts = [[{ extra = "one" }, { extra = "two" }]]\n'
        )
    uv("lock", cwd=project, index=local_index)
    assert "extra == 'extra-4-demo-one'" in (project / "uv.lock").read_text()
    lock = read_lock(project / "uv.lock")
    for extra in ("one", "two"):
        uv("sync", "--quiet", "--extra", extra, cwd=project, index=local_index)
        env = environment(project / ".venv")
        selection = lock.select(env.marker_environment(), groups=[f"extra:{extra}"])
        installed = {d.canonical_name: d.version for d in read_inventory(env).distributions}
        assert {p.name: p.version for p in selection.packages} == installed
        lock_path = project / "uv.lock"
        result = envcore("drift", project / ".venv", "--lock", lock_path, "--extra", extra)
        assert result.returncode == 0, result.stdout + result.stderr
