"""list / freeze / check must say exactly what pip itself says about the same environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envcore.distributions import read_inventory
from envcore.environment import inspect_environment
from envcore.pipcompat import check, freeze, list_json, skipped_note
from tests.envcore.synthetic import dist_info
from tests.envtools import make_venv, pip, pip_list_json

ENVS = ["populated_env", "env_with_pip"]


def envcore_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envcore", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("fixture", ENVS)
def test_list_matches_pip_list_json(fixture: str, request: pytest.FixtureRequest) -> None:
    env: Path = request.getfixturevalue(fixture)
    ours = list_json(read_inventory(inspect_environment(env)))
    assert ours == pip_list_json(env)


@pytest.mark.parametrize("fixture", ENVS)
def test_freeze_is_byte_identical_to_pip_freeze(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    env: Path = request.getfixturevalue(fixture)
    result = envcore_cli("freeze", str(env))
    assert result.returncode == 0, result.stderr
    assert result.stdout == pip("freeze", env=env).stdout


def test_freeze_covers_editable_git_and_direct_url_forms(populated_env: Path) -> None:
    lines = freeze(read_inventory(inspect_environment(populated_env))).lines
    assert any(line.startswith("-e git+https://example.invalid/team/repo.git@") for line in lines)
    git_line = next(line for line in lines if line.startswith("-e git+"))
    assert git_line.endswith("#egg=git_proj&subdirectory=sub/gitproj")
    assert "# Editable install with no version control (plain-proj==0.3)" in lines
    assert any(line.startswith("direct-pkg @ file://") for line in lines)
    assert "Delta_Pkg.Two==3.0" in lines


@pytest.mark.parametrize("fixture", ENVS)
def test_check_matches_pip_check(fixture: str, request: pytest.FixtureRequest) -> None:
    env: Path = request.getfixturevalue(fixture)
    theirs = pip("check", env=env, check=False)
    ours = envcore_cli("check", str(env))
    assert ours.returncode == theirs.returncode
    assert sorted(ours.stdout.splitlines()) == sorted(theirs.stdout.splitlines())


def test_check_reports_missing_and_conflicting(populated_env: Path) -> None:
    problems = check(read_inventory(inspect_environment(populated_env)))
    as_text = {str(problem) for problem in problems}
    assert "gamma 0.5 requires beta, which is not installed." not in as_text  # beta is there
    assert "beta 2.0 has requirement alpha>=2.0, but you have alpha 1.0." in as_text
    assert {p.kind for p in problems} == {"conflict"}


def test_marker_false_for_the_env_is_not_missing(populated_env: Path) -> None:
    # gamma requires `ancient; python_version < "3.8"`: never missing on 3.11.
    problems = check(read_inventory(inspect_environment(populated_env)))
    assert not any(p.dependency == "ancient" for p in problems)


def test_list_json_cli_and_not_required(populated_env: Path) -> None:
    result = envcore_cli("list", str(populated_env), "--json")
    rows = json.loads(result.stdout)
    editable = {row["name"]: row.get("editable_project_location") for row in rows}
    assert editable["plain-proj"] is not None and editable["plain-proj"].endswith("plainproj")
    assert editable["alpha"] is None
    top = envcore_cli("list", str(populated_env), "--json", "--not-required")
    top_names = {row["name"] for row in json.loads(top.stdout)}
    theirs = {
        row["name"]
        for row in json.loads(
            pip("list", "--not-required", "--format=json", env=populated_env).stdout
        )
    }
    assert top_names == theirs
    assert "alpha" not in top_names  # beta and plain-proj require it


def test_required_by(populated_env: Path) -> None:
    inventory = read_inventory(inspect_environment(populated_env))
    assert inventory.required_by["alpha"] == ("beta", "plain-proj")
    assert inventory.by_name["direct-pkg"].source == "local"
    assert inventory.by_name["plain-proj"].source == "editable"
    assert inventory.by_name["alpha"].source == "index"
    assert inventory.by_name["alpha"].installer == "pip"


_WHEEL_TAGS = {
    "pure": b"Tag: py3-none-any\n",
    "pure-minor": f"Tag: py{sys.version_info[0]}{sys.version_info[1]}-none-any\n".encode(),
    "compressed": b"Tag: py2.py3-none-any\n",
    "crlf": b"Tag: py3-none-any\r\n",
    "python2-only": b"Tag: py2-none-any\n",
    "old-cpython": b"Tag: cp27-cp27mu-manylinux1_x86_64\n",
    "other-os": b"Tag: cp311-cp311-win_amd64\nTag: cp311-cp311-macosx_11_0_arm64\n",
    "abi3": b"Tag: cp38-abi3-manylinux_2_17_x86_64\nTag: cp38-abi3-manylinux_2_17_aarch64\n",
    "no-tags": b"",
}


def test_unsupported_wheels_match_pip_check(tmp_path: Path) -> None:
    """pip check's "is not supported on this platform", from each wheel's WHEEL tags."""
    env = make_venv(tmp_path / "env")
    site = next((env / "lib").glob("python*/site-packages"))
    for label, tags in _WHEEL_TAGS.items():
        directory = dist_info(site, f"tagged-{label}", "1.0")
        (directory / "WHEEL").write_bytes(
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n" + tags
        )
    theirs = pip("check", env=env, check=False)
    ours = envcore_cli("check", str(env))
    assert "tagged-python2-only 1.0 is not supported on this platform" in theirs.stdout
    assert ours.returncode == theirs.returncode
    assert sorted(ours.stdout.splitlines()) == sorted(theirs.stdout.splitlines())
    unsupported = {p.name for p in check(read_inventory(inspect_environment(env)))}
    assert {"tagged-python2-only", "tagged-old-cpython", "tagged-other-os"} <= unsupported
    assert "tagged-no-tags" in unsupported  # an empty tag set supports nothing, as for pip
    assert not unsupported & {"tagged-pure", "tagged-crlf", "tagged-compressed"}


def _planted(site: Path, name: str, metadata: str, direct_url: str | None = None) -> None:
    directory = site / f"{name}-1.0.dist-info"
    directory.mkdir()
    (directory / "METADATA").write_text(f"Metadata-Version: 2.1\n{metadata}\n\nBody.\n")
    if direct_url is not None:
        (directory / "direct_url.json").write_text(direct_url)


UNSAFE = [
    ("folded", "Name: folded\nVersion: 1.0\n -e ../evilproj", None, "invalid version"),
    ("dash", "Name: dash\nVersion: -e", None, "invalid version"),
    ("spaced", "Name: spaced\nVersion: 1 --pre", None, "invalid version"),
    ("optname", "Name: optname\n --index-url=http://127.0.0.1:9\nVersion: 1", None, "invalid name"),
    ("badname", "Name: --find-links=/tmp\nVersion: 1.0", None, "invalid name"),
    (
        "url",
        "Name: url\nVersion: 1.0",
        '{"url": "--index-url=http://127.0.0.1:9/", "archive_info": {}}',
        "invalid URL",
    ),
    (
        "urlspace",
        "Name: urlspace\nVersion: 1.0",
        '{"url": "file:///tmp/x.whl --pre", "archive_info": {}}',
        "invalid URL",
    ),
    (
        "vcs",
        "Name: vcs\nVersion: 1.0",
        '{"url": "--upload-pack=touch://x", "vcs_info": {"vcs": "git", "commit_id": "abc"}}',
        "invalid URL",
    ),
    (
        "edit",
        "Name: edit\nVersion: 1.0",
        '{"url": "file:///tmp/no%20--index-url%3Dhttp://x", "dir_info": {"editable": true}}',
        "editable location",
    ),
    (
        "editmissing",
        "Name: editmissing\nVersion: 1.0",
        '{"url": "file:///no/such/dir", "dir_info": {"editable": true}}',
        "editable location",
    ),
]


def test_freeze_skips_and_reports_metadata_that_would_reach_pip_as_options(
    tmp_path: Path,
) -> None:
    env = make_venv(tmp_path / "env")
    site = inspect_environment(env).site_packages[0]
    for name, metadata, direct_url, _ in UNSAFE:
        _planted(site, name, metadata, direct_url)
    _planted(site, "fine", "Name: fine\nVersion: not.pep440")
    inventory = read_inventory(inspect_environment(env))
    frozen = freeze(inventory)
    assert frozen.lines == ("fine===not.pep440",)
    notes = {note.split(":")[0]: note for note in frozen.skipped}
    assert len(notes) == len(UNSAFE)
    for dist in inventory.distributions:
        planted = f"{os.sep}{dist.metadata_dir.rsplit(os.sep, 1)[-1]}"
        reason = next((r for n, _, _, r in UNSAFE if planted == f"{os.sep}{n}-1.0.dist-info"), "")
        assert reason in skipped_note(dist) and "\n" not in skipped_note(dist)
    result = envcore_cli("freeze", str(env))
    assert result.stdout == "fine===not.pep440\n"
    assert "skipped folded: invalid version in its metadata" in result.stderr.splitlines()
