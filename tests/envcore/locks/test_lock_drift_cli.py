"""`python -m envcore drift ENV [--lock FILE | -r FILE]` (and `plan ENV`) as a user runs it,
on a project `uv lock` locked and `uv sync` installed (offline, from the local index): the
lock is chosen and named with its reason, a planted mismatch and a stale lock are drifted,
and a plan follows the lock but refuses a stale one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from envcore.snapshot import build_snapshot, validate_snapshot
from tests.envcore.locks.conftest import LocalIndex, envcore, make_env, make_uv_project
from tests.envcore.locks.test_pipenv_real import PIPFILE, pipenv
from tests.envtools import pip
from tests.wheelmaker import make_project


def test_without_an_option_the_lock_is_chosen_and_named(uv_project: Path) -> None:
    result = envcore("drift", uv_project / ".venv")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    version = ".".join(map(str, sys.version_info[:3]))
    assert lines[-3:] == [
        f"source: {uv_project / 'uv.lock'} (the project's lock file, more exact than "
        "pyproject.toml's ranges)",
        f"selection: project demo with groups dev (uv sync's default); markers for CPython "
        f"{version} on {sys.platform}",
        "in-sync (5 ok, 2 not-applicable)",
    ]


def test_the_json_says_which_file_why_and_what_was_selected(uv_project: Path) -> None:
    result = envcore("drift", uv_project / ".venv", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["summary"] == "in-sync"
    assert data["source"] == str(uv_project / "uv.lock")
    assert data["source_kind"] == "lock"
    assert data["source_reason"] == (
        "uv.lock: the project's lock file, more exact than pyproject.toml's ranges"
    )
    assert data["selection"].startswith("uv.lock: project demo with groups dev")
    assert data["lock_outdated"] == ""


def test_lock_and_r_name_the_file_given(uv_project: Path) -> None:
    given = envcore("drift", uv_project / ".venv", "--lock", uv_project / "uv.lock", "--json")
    assert json.loads(given.stdout)["source_reason"] == "given with --lock"
    ranges = envcore("drift", uv_project / ".venv", "-r", uv_project / "pyproject.toml")
    assert f"source: {uv_project / 'pyproject.toml'} (given with -r)" in ranges.stdout
    # The ranges alone: beta is not pinned, and [tool.uv.sources] (libpkg editable) is uv's.
    assert ranges.stdout.splitlines()[-1] == (
        "drifted (1 ok, 1 not-applicable, 1 unpinned, 1 source-differs, 1 untracked)"
    )


@pytest.fixture
def own_project(tmp_path: Path, local_index: LocalIndex) -> Path:
    """A demo project of this test's own, to plant changes in."""
    return make_uv_project(tmp_path / "demo", local_index)


def test_a_planted_mismatch_and_a_stale_lock_are_drifted(
    own_project: Path, local_index: LocalIndex
) -> None:
    env = own_project / ".venv"
    pyproject = own_project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"alpha==2.0"', '"alpha>=3"'))
    stale = envcore("drift", env, "--json")
    assert stale.returncode == 1, stale.stderr
    data = json.loads(stale.stdout)
    # The env is exactly what the lock says; the lock is not what the project asks for.
    assert {item["status"] for item in data["items"]} == {"ok", "not-applicable"}
    assert data["summary"] == "drifted"
    assert data["lock_outdated"] == (
        "uv.lock is out of date: pyproject.toml asks for alpha>=3, the lock has alpha 2.0; "
        "run `uv lock`"
    )
    text = envcore("drift", env)
    assert text.returncode == 1
    assert f"lock out of date: {data['lock_outdated']}" in text.stdout.splitlines()
    assert text.stdout.splitlines()[-1] == "drifted (5 ok, 2 not-applicable)"

    pip("install", "--quiet", "--no-deps", f"--index-url={local_index.url}", "alpha==1.0", env=env)
    mismatch = envcore("drift", env, "--json")
    assert mismatch.returncode == 1
    items = {item["name"]: item for item in json.loads(mismatch.stdout)["items"]}
    assert (items["alpha"]["status"], items["alpha"]["message"]) == (
        "mismatch",
        "installed 1.0, requires ==2.0",
    )


def test_no_source_at_all_is_a_usage_error_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "setup.py").write_text("")
    env = make_env(tmp_path / "app" / ".venv")
    result = envcore("drift", env)
    assert result.returncode == 2
    assert result.stderr == (
        "envcore: error: no lock file, requirements file, Pipfile or pyproject.toml found in "
        f"{tmp_path / 'app'}; pass -r FILE or --lock FILE\n"
    )


def test_plan_follows_the_chosen_lock_and_refuses_a_stale_one(
    own_project: Path, local_index: LocalIndex
) -> None:
    """`plan ENV` without -r plans from uv.lock (alpha back to the locked 2.0), and refuses
    a lock out of date, as `uv sync --locked` would."""
    env = own_project / ".venv"
    pip("install", "--quiet", "--no-deps", f"--index-url={local_index.url}", "alpha==1.0", env=env)
    planned = subprocess.run(
        [sys.executable, "-m", "envcore", "plan", str(env), "--json", "--installer", "pip"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PIP_INDEX_URL": local_index.url},  # the user's configured index
    )
    assert planned.returncode == 1, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["source"] == str(own_project / "uv.lock")
    assert [(c["name"], c["from"], c["to"]) for c in plan["actions"]] == [("alpha", "1.0", "2.0")]
    pyproject = own_project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"alpha==2.0"', '"alpha>=3"'))
    refused = envcore("plan", env)
    assert refused.returncode == 2
    assert refused.stderr == (
        "envcore: error: cannot sync: uv.lock is out of date: pyproject.toml asks for alpha>=3, "
        "the lock has alpha 2.0; run `uv lock`\n"
    )


def test_a_team_snapshot_carries_the_lock_as_source_and_its_drift(
    own_project: Path, local_index: LocalIndex
) -> None:
    """No special case: the project's source is uv.lock, the env's drift is against the lock
    (beta: any version in pyproject.toml, 2.0 in the lock), and the document is valid."""
    env = own_project / ".venv"
    pip("install", "--quiet", "--no-deps", f"--index-url={local_index.url}", "beta==1.0", env=env)
    document = build_snapshot(
        [env],
        host="h",
        user="u",
        tool_version="1",
        now=datetime.now(UTC),
        roots=[own_project],
    )
    validate_snapshot(document)
    (section,) = document["environments"]
    assert section["project"]["requirements_source"] == "uv.lock"
    assert {"name": "beta", "specifier": "==2.0"} in section["project"]["requirements"]
    drift = section["drift"]
    assert drift["summary"] == "drifted"
    items = {item["name"]: (item["status"], item["required"]) for item in drift["items"]}
    assert items["beta"] == ("mismatch", "==2.0")
    assert items["winonly"] == ("not-applicable", "==1.0")


def test_a_pipenv_project_is_held_to_its_pipfile_lock(
    tmp_path: Path, local_index: LocalIndex
) -> None:
    """The issue's pipenv project had "no requirements file or pyproject.toml found": its
    Pipfile.lock is chosen, and a version the lock does not pin is a mismatch."""
    project = tmp_path / "demo"
    project.mkdir()
    make_project(project / "libs" / "libpkg", "libpkg", "0.2", dependencies=["alpha"])
    (project / "Pipfile").write_text(PIPFILE.format(url=local_index.url))
    pipenv("lock", cwd=project, home=tmp_path / "pipenv-home", index=local_index)
    env = project / ".venv"  # made by pipenv itself (PIPENV_VENV_IN_PROJECT)
    packages = ["alpha==1.0", "beta==2.0"]
    pip("install", "--quiet", "--no-deps", f"--index-url={local_index.url}", *packages, env=env)
    pip(
        "install",
        "--quiet",
        "--no-deps",
        "--no-index",
        "-e",
        str(project / "libs" / "libpkg"),
        env=env,
    )
    result = envcore("drift", env)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-3] == (
        f"source: {project / 'Pipfile.lock'} (the project's lock file, more exact than "
        "Pipfile's ranges)"
    )
    beta = next(line for line in lines if line.startswith("beta "))
    assert beta.split()[:3] == ["beta", "mismatch", "2.0"]
    assert lines[-1].startswith("drifted (")
