"""Markers packaging parses but cannot evaluate (`python_full_version ~= 'abc'`): in an
installed distribution's Requires-Dist they are what pip check says (the oracle); in a
requirements file, Pipfile or lock they are one line naming the file, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from envcore.distributions import read_inventory
from envcore.environment import inspect_environment
from envcore.pipcompat import check
from envcore.tree import requirements_of
from tests.envcore.synthetic import PY, dist_info
from tests.envtools import make_venv, pip

#: Each raises in packaging's Marker.evaluate, each a different way: `~=` beside no
#: version, a marker variable that is no version beside `~=`, `extra` compared with `~=`,
#: a name looked up that no environment has.
UNEVALUABLE = [
    "python_full_version ~= 'abc'",
    "python_version > 'x' and python_version ~= '3'",
    "platform_release ~= '1'",
    "extra ~= 'x'",
    "'1.0' ~= 'x'",
]


def envcore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envcore", *args], capture_output=True, text=True, timeout=120
    )


def _site(env: Path) -> Path:
    return env / "lib" / f"python{PY}" / "site-packages"


@pytest.fixture(scope="module")
def weird_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real venv where `weird` has a Requires-Dist marker that cannot be evaluated and
    `user` requires weird."""
    env = make_venv(tmp_path_factory.mktemp("weird") / "env")
    dist_info(_site(env), "weird", "1.0", "a ; python_full_version ~= 'abc'", "b")
    dist_info(_site(env), "user", "1.0", "weird>=2")
    dist_info(_site(env), "plain", "1.0", "user")
    return env


def test_check_says_what_pip_check_says(weird_env: Path) -> None:
    theirs = pip("check", env=weird_env, check=False)
    ours = envcore("check", str(weird_env))
    # pip: "user 1.0 requires weird, which is not installed." on stdout, exit 1, and on
    # stderr "WARNING: Error parsing dependencies of weird: Undefined <Op('~=')> ...".
    assert "Error parsing dependencies of weird" in theirs.stderr
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout)
    assert ours.stderr.strip() == (
        "envcore: warning: weird 1.0: dependencies not read, a Requires-Dist marker cannot be "
        "evaluated: python_full_version ~= \"abc\" (Undefined <Op('~=')> on "
        f"'{sys.version.split()[0]}' and 'abc'.)"
    )


def test_tree_and_drift_go_on_without_its_dependencies(weird_env: Path) -> None:
    inventory = read_inventory(inspect_environment(weird_env))
    assert requirements_of(inventory)["weird"] == ()
    assert [dep.name for dep in requirements_of(inventory)["plain"]] == ["user"]
    assert [p.kind for p in check(inventory)] == ["unreadable", "missing"]
    tree = envcore("tree", str(weird_env), "--json")
    assert tree.returncode == 0, tree.stderr
    assert "dependencies not read" in tree.stderr
    (plain,) = json.loads(tree.stdout)
    (user,) = plain["children"]
    (weird,) = user["children"]
    assert (weird["name"], weird["children"]) == ("weird", [])
    (weird_env.parent / "requirements.txt").write_text("plain==1.0\n")
    drift = envcore("drift", str(weird_env), "-r", str(weird_env.parent / "requirements.txt"))
    assert "Traceback" not in drift.stderr
    assert "weird 1.0: dependencies not read" in drift.stdout + drift.stderr


@pytest.mark.parametrize("text", UNEVALUABLE)
def test_every_unevaluable_form_in_metadata_is_one_warning(tmp_path: Path, text: str) -> None:
    env = make_venv(tmp_path / "env")
    dist_info(_site(env), "weird", "1.0", f"a ; {text}")
    inventory = read_inventory(inspect_environment(env))
    assert requirements_of(inventory)["weird"] == ()
    (problem,) = check(inventory)
    assert str(problem).startswith("weird 1.0: dependencies not read, a Requires-Dist marker")


@pytest.mark.parametrize("text", UNEVALUABLE)
def test_a_requirements_file_names_the_file_and_line(tmp_path: Path, text: str) -> None:
    env = make_venv(tmp_path / ".venv")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"six==1.0\nfoo==1.0 ; {text}\n")
    drift = envcore("drift", str(env), "-r", str(requirements))
    assert "Traceback" not in drift.stderr
    assert drift.returncode != 0
    assert f"{requirements}:2: marker cannot be evaluated: " in drift.stdout + drift.stderr
    report = json.loads(envcore("drift", str(env), "-r", str(requirements), "--json").stdout)
    assert report["summary"] == "drifted"
    assert [issue["source"] for issue in report["parse_errors"]] == [f"{requirements}:2"]
    assert [item["name"] for item in report["items"]] == ["six"]
    plan = envcore("plan", str(env), "-r", str(requirements))
    assert "Traceback" not in plan.stderr
    assert plan.stderr.startswith(f"envcore: error: {requirements}:2: marker cannot be")
    assert plan.stderr.count("\n") == 1


UV_LOCK = """version = 1
revision = 3
requires-python = ">=3.8"

[[package]]
name = "proj"
version = "0.1"
source = {{ virtual = "." }}
dependencies = [{{ name = "foo", marker = "{marker}" }}]

[package.metadata]
requires-dist = [{{ name = "foo" }}]

[[package]]
name = "foo"
version = "1.0"
source = {{ registry = "https://pypi.org/simple" }}
"""
PIPFILE_LOCK = {
    "_meta": {"hash": {"sha256": "0"}, "pipfile-spec": 6, "requires": {}, "sources": []},
    "default": {"foo": {"version": "==1.0", "markers": "MARKER"}},
    "develop": {},
}
PYLOCK_PACKAGE = """lock-version = "1.0"
created-by = "test"
[[packages]]
name = "foo"
version = "1.0"
marker = "{marker}"
wheels = [{{ name = "foo-1.0-py3-none-any.whl", url = "https://example.invalid/foo-1.0-py3-none-any.whl", hashes = {{ sha256 = "00" }} }}]
"""  # noqa: E501
PYLOCK_ENVIRONMENTS = (
    'lock-version = "1.0"\ncreated-by = "test"\nenvironments = ["{marker}"]\npackages = []\n'
)


def _write(project: Path, kind: str, text: str) -> tuple[list[str], str]:
    """The file of `kind` with the marker in it: (drift's arguments, the file's name)."""
    if kind == "uv.lock":
        (project / "pyproject.toml").write_text(
            '[project]\nname = "proj"\nversion = "0.1"\ndependencies = ["foo"]\n'
        )
        (project / "uv.lock").write_text(UV_LOCK.format(marker=text))
        return ["--lock", str(project / "uv.lock")], str(project / "uv.lock")
    if kind == "Pipfile.lock":
        data = json.dumps(PIPFILE_LOCK).replace("MARKER", text.replace('"', '\\"'))
        (project / "Pipfile.lock").write_text(data)
        return ["--lock", str(project / "Pipfile.lock")], str(project / "Pipfile.lock")
    if kind == "pylock":
        (project / "pylock.toml").write_text(PYLOCK_PACKAGE.format(marker=text))
        return ["--lock", str(project / "pylock.toml")], str(project / "pylock.toml")
    if kind == "pylock environments":
        (project / "pylock.toml").write_text(PYLOCK_ENVIRONMENTS.format(marker=text))
        return ["--lock", str(project / "pylock.toml")], str(project / "pylock.toml")
    (project / "Pipfile").write_text(
        f'[packages]\nsix = "==1.0"\nfoo = {{version = "==1.0", markers = {json.dumps(text)}}}\n'
    )
    return ["-r", str(project / "Pipfile")], f"{project / 'Pipfile'}:3"


@pytest.mark.parametrize(
    "kind", ["uv.lock", "Pipfile.lock", "pylock", "pylock environments", "pipfile"]
)
@pytest.mark.parametrize("text", [UNEVALUABLE[0], UNEVALUABLE[-1]])
def test_a_lock_or_pipfile_is_one_line_naming_it(tmp_path: Path, kind: str, text: str) -> None:
    env = make_venv(tmp_path / ".venv")
    args, named = _write(tmp_path, kind, text)
    drift = envcore("drift", str(env), *args)
    assert "Traceback" not in drift.stderr
    assert drift.returncode != 0
    lines = [line for line in (drift.stdout + drift.stderr).splitlines() if named in line]
    assert len(lines) == 1
    assert f"{named}: marker cannot be evaluated: " in lines[0]
