"""A hostile or broken file in one environment never fails a whole scan: that environment
is recorded with its problem in one line, and every other one as usual."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.scanning import scan_tree
from envcore.distributions import Inventory
from envcore.tree import requirements_of as real_requirements_of
from tests.dashboard.conftest import row
from tests.envcore.synthetic import dist_info
from tests.envtools import make_venv

UV_LOCK = """version = 1
revision = 3
requires-python = ">=3.8"

[[package]]
name = "uvv"
version = "0.1"
source = { virtual = "." }
dependencies = [{ name = "foo", marker = "python_full_version ~= 'abc'" }]

[package.metadata]
requires-dist = [{ name = "foo" }]

[[package]]
name = "foo"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
"""


def _site(env: Path) -> Path:
    return next((env / "lib").glob("python*/site-packages"))


def test_unevaluable_markers_in_metadata_and_a_lock_do_not_fail_the_scan(
    db: None, settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    weird = make_venv(tmp_path / "proj" / ".venv")
    dist_info(_site(weird), "weird", "1.0", "a ; python_full_version ~= 'abc'")
    locked = make_venv(tmp_path / "uvv" / ".venv")
    (tmp_path / "uvv" / "pyproject.toml").write_text(
        '[project]\nname = "uvv"\nversion = "0.1"\ndependencies = ["foo"]\n'
    )
    (tmp_path / "uvv" / "uv.lock").write_text(UV_LOCK)
    other = make_venv(tmp_path / "other" / ".venv")
    scan = scan_tree()
    assert (scan.state, scan.found, scan.error) == ("done", 3, "")
    assert row(weird).problems == [
        "weird 1.0: dependencies not read, a Requires-Dist marker cannot be evaluated: "
        f"python_full_version ~= \"abc\" (Undefined <Op('~=')> on '{_full_version(weird)}' "
        "and 'abc'.)"
    ]
    assert row(weird).status == "drifted"
    assert row(locked).status == "drifted"
    (error,) = row(locked).requirement_errors
    assert error.startswith(f"{tmp_path}/uvv/uv.lock: marker cannot be evaluated: ")
    assert row(other).status == "no-requirements"


def test_deeply_nested_files_do_not_fail_the_scan(
    db: None, settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    deep = "[" * 100_000 + "]" * 100_000
    project = make_venv(tmp_path / "deeppy" / ".venv")
    (tmp_path / "deeppy" / "pyproject.toml").write_text(f'[project]\nname = "d"\nx = {deep}\n')
    locked = make_venv(tmp_path / "deeplock" / ".venv")
    (tmp_path / "deeplock" / "pyproject.toml").write_text('[project]\nname = "l"\n')
    (tmp_path / "deeplock" / "uv.lock").write_text(f"version = 1\nx = {deep}\n")
    planted = make_venv(tmp_path / "deepurl" / ".venv")
    metadata = dist_info(_site(planted), "planted", "1.0")
    (metadata / "direct_url.json").write_text('{"url": "file:///x", "dir_info": ' + deep + "}")
    scan = scan_tree()
    assert (scan.state, scan.found, scan.error) == ("done", 3, "")
    assert row(project).status == "no-requirements"
    assert row(locked).requirement_errors == [
        f"{tmp_path}/deeplock/uv.lock is not valid TOML: nested too deeply"
    ]
    assert row(planted).package_count == 0


def _full_version(env: Path) -> str:
    return (env / "pyvenv.cfg").read_text().partition("version = ")[2].split()[0]


@pytest.fixture
def fails_for(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Environments (by path) for which recording raises an error nothing expects: fault
    injection into envdash's own recording, for what no file on disk can still cause."""
    failing: set[str] = set()

    def requirements_of(inventory: Inventory) -> object:
        if str(inventory.environment.path) in failing:
            raise RuntimeError("something nobody expected\nsecond line")
        return real_requirements_of(inventory)

    monkeypatch.setattr("dashboard.scanrecord.requirements_of", requirements_of)
    return failing


def test_an_environment_that_fails_is_listed_broken_and_the_others_recorded(
    db: None, settings: SettingsWrapper, tmp_path: Path, fails_for: set[str], user: Client
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    bad = make_venv(tmp_path / "bad" / ".venv")
    good = make_venv(tmp_path / "good" / ".venv")
    fails_for.add(str(bad))
    scan = scan_tree()
    assert (scan.state, scan.found) == ("done", 2)
    assert scan.warnings == [f"{bad}: RuntimeError: something nobody expected second line"]
    listed = row(bad)
    assert (listed.name, listed.status, listed.health) == ("bad/.venv", "broken", "broken")
    assert listed.broken_reason == (
        "envdash could not read it: RuntimeError: something nobody expected second line"
    )
    assert row(good).status == "no-requirements"
    page = user.get(f"/environments/{listed.pk}/").content.decode()
    assert "envdash could not read it: RuntimeError: something nobody expected" in page
    # Fixed: the next scan records it in full (nothing kept it as unchanged).
    fails_for.clear()
    scan_tree()
    assert (row(bad).status, row(bad).broken_reason) == ("no-requirements", "")
    # Failing again later: still listed (not gone), broken with the reason.
    fails_for.add(str(bad))
    scan = scan_tree(force=True)
    assert (scan.state, scan.found) == ("done", 2)
    again = row(bad)
    assert (again.pk, again.gone_at, again.status) == (listed.pk, None, "broken")
