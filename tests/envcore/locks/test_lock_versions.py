"""A lock's `version` must be a version: it is pasted into `name==VERSION` for the
installer, where a marker or a URL hidden in it would change what is installed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envcore.errors import RequirementsError
from envcore.locks import read_lock
from tests.envcore.locks.conftest import envcore, make_env

UV_LOCK = """version = 1
revision = 3
requires-python = ">=3.9"

[[package]]
name = "demo"
version = "0.1"
source = {{ virtual = "." }}
dependencies = [{{ name = "foo" }}]

[[package]]
name = "foo"
version = "{version}"
source = {{ registry = "https://pypi.org/simple" }}
"""
POETRY_LOCK = """[[package]]
name = "foo"
version = "{version}"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
files = []

[metadata]
lock-version = "2.1"
python-versions = "*"
content-hash = "0"
"""


def _pipfile_lock(version: str) -> str:
    return json.dumps(
        {
            "_meta": {"hash": {"sha256": "0"}, "pipfile-spec": 6, "requires": {}, "sources": []},
            "default": {"foo": {"version": version}},
            "develop": {},
        }
    )


#: (file, locked version as written, the version shown in the error; None: accepted)
CASES: list[tuple[str, str, str | None]] = [
    ("uv.lock", "1.0 ; python_version < '0'", "1.0 ; python_version < '0'"),
    ("uv.lock", "1.0 @ http://evil.example/x.whl", "1.0 @ http://evil.example/x.whl"),
    ("uv.lock", "1.0.post1", None),
    ("poetry.lock", "1.0 ; python_version < '0'", "1.0 ; python_version < '0'"),
    ("poetry.lock", "2.0rc1", None),
    ("Pipfile.lock", "==1.0 @ http://evil.example/x.whl", "1.0 @ http://evil.example/x.whl"),
    ("Pipfile.lock", "==1.0;python_version<'0'", "1.0;python_version<'0'"),
    ("Pipfile.lock", "===1.0 ; x", "1.0 ; x"),
    ("Pipfile.lock", "===1.0,<2", "1.0,<2"),
    ("Pipfile.lock", "===1.0-custom.build", None),
    ("Pipfile.lock", "==1!2.0+local", None),
]


def _write(directory: Path, name: str, version: str) -> Path:
    path = directory / name
    if name == "uv.lock":
        (directory / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0.1"\n')
        path.write_text(UV_LOCK.format(version=version.replace('"', '\\"')))
    elif name == "poetry.lock":
        path.write_text(POETRY_LOCK.format(version=version.replace('"', '\\"')))
    else:
        path.write_text(_pipfile_lock(version))
    return path


@pytest.mark.parametrize(("name", "version", "shown"), CASES)
def test_a_locked_version_that_is_no_version_is_refused(
    tmp_path: Path, name: str, version: str, shown: str | None
) -> None:
    path = _write(tmp_path, name, version)
    if shown is None:
        (package,) = [p for p in read_lock(path).packages if p.name == "foo"]
        assert package.version == version.lstrip("=")
        return
    with pytest.raises(RequirementsError) as caught:
        read_lock(path)
    assert str(caught.value) == f"{path}: version of 'foo' is {shown!r}, not a version"


@pytest.mark.parametrize("name", ["uv.lock", "Pipfile.lock"])
def test_drift_and_plan_refuse_it_in_one_line(tmp_path: Path, name: str) -> None:
    env = make_env(tmp_path / ".venv")
    pin = "==" if name == "Pipfile.lock" else ""  # a Pipfile.lock's version is a specifier
    path = _write(tmp_path, name, f"{pin}1.0 @ http://evil.example/x.whl")
    for command in ("drift", "plan"):
        result = envcore(command, env, "--lock" if command == "drift" else "-r", path)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert result.stderr == (
            f"envcore: error: {path}: version of 'foo' is "
            "'1.0 @ http://evil.example/x.whl', not a version\n"
        )
