"""Malformed and hostile uv.lock and pylock.toml files: each is one line naming the file
(the CLI exits 2, no traceback), and a secret in a lock is never shown."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from envcore.errors import RequirementsError
from envcore.locks import read_lock
from tests.envcore.locks.conftest import envcore, make_env

UV_HEAD = "version = 1\nrevision = 3\nrequires-python = '>=3.9'\n"
UV_PROJECT = """
[[package]]
name = "demo"
version = "0.1"
source = { editable = "." }
dependencies = [{ name = "alpha" }]

[[package]]
name = "alpha"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
"""
PYLOCK = """lock-version = "1.0"
created-by = "test"

[[packages]]
name = "alpha"
version = "1.0"
directory = { path = "." }
"""

#: (file name, content, what the one-line error says)
CASES: list[tuple[str, str | bytes, str]] = [
    ("uv.lock", UV_HEAD + UV_PROJECT[: len(UV_PROJECT) // 2], "is not valid TOML"),
    ("uv.lock", "version = 1\npackage = 3\n", "package is int, not an array of tables"),
    ("uv.lock", "version = [1]\n", "version is not a number"),
    ("uv.lock", "version = 2\n", "uv.lock version 2 is not one envdash reads"),
    ("uv.lock", "revision = 3\n", "has no `version`"),
    ("uv.lock", UV_HEAD + UV_PROJECT.replace('"0.1"', "[0, 1]"), "version is an array"),
    ("uv.lock", UV_HEAD + UV_PROJECT.replace('name = "alpha"\nv', "name = 3\nv"), "is int"),
    ("uv.lock", UV_HEAD + UV_PROJECT.replace('{ name = "alpha" }', '"alpha"'), "is a string"),
    ("uv.lock", UV_HEAD + UV_PROJECT.replace("registry", "ftp"), "names no kind of source"),
    ("uv.lock", UV_HEAD + UV_PROJECT.replace('"alpha" }', '"beta" }'), "names beta, which"),
    (
        "uv.lock",
        UV_HEAD + UV_PROJECT.replace('"alpha" }', '"alpha", marker = "os_name ==" }'),
        "is not a valid environment marker",
    ),
    ("uv.lock", UV_HEAD, "names no project"),
    ("uv.lock", "version = 1\nrequires-python = 'three'\n", "requires-python is not a valid"),
    ("uv.lock", b"version = 1\n\xff\xfe\n", "is not UTF-8 text"),
    # urllib's ValueError for a URL it refuses, as one line naming the file
    (
        "uv.lock",
        UV_HEAD
        + UV_PROJECT.replace(
            'registry = "https://pypi.org/simple"', f'git = "http://[bad/g?rev=v1#{"1" * 40}"'
        ),
        ": Invalid IPv6 URL",
    ),
    ("pylock.toml", PYLOCK[:30], "is not valid TOML"),
    ("pylock.toml", 'lock-version = "2.0"\ncreated-by = "x"\npackages = []\n', "lock-version 2.0"),
    ("pylock.toml", 'lock-version = "1.0"\ncreated-by = "x"\npackages = 3\n', "'packages'"),
    ("pylock.toml", PYLOCK.replace('"1.0"\nd', '["1"]\nd'), "'packages[0].version'"),
    ("pylock.toml", PYLOCK + 'marker = "python_version <"\n', "'packages[0].marker'"),
    ("pylock.dev.toml", PYLOCK.replace("directory", "sdist"), "'packages[0]"),
]


def _write(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize(("name", "content", "says"), CASES)
def test_a_malformed_lock_is_one_line_naming_the_file(
    tmp_path: Path, name: str, content: str | bytes, says: str
) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(RequirementsError) as caught:
        read_lock(path)
    message = str(caught.value)
    assert str(path) in message and says in message, message
    assert "\n" not in message and len(message) < 400


def test_a_lock_for_other_pythons_is_a_one_line_error_when_selected(tmp_path: Path) -> None:
    path = _write(tmp_path, "uv.lock", UV_HEAD.replace(">=3.9", ">=3.99") + UV_PROJECT)
    lock = read_lock(path)  # the file itself is fine
    with pytest.raises(RequirementsError) as caught:
        lock.select({"python_full_version": "3.11.7", "sys_platform": "linux"})
    assert str(caught.value) == (
        f"{path}: requires-python >=3.99 excludes this environment's Python 3.11.7 "
        "(uv sync would refuse it)"
    )


def test_the_cli_never_calls_a_malformed_lock_in_sync(tmp_path: Path) -> None:
    """`drift -r LOCK` and `drift ENV` picking the project's lock by itself: the command
    refuses (exit 2) with the one line naming the file; never a traceback, never a report."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0.1"\n')
    env = make_env(project / ".venv")
    for name, content, says in [*CASES[:4], *CASES[-7:]]:  # the IPv6 URL and pylocks
        path = _write(project, name, content)
        runs: list[list[str | Path]] = [["-r", path], []]
        for args in runs:
            result = envcore("drift", env, *args, "--json")
            assert result.returncode == 2, (name, says, args, result.stdout, result.stderr)
            assert result.stderr.startswith(f"envcore: error: {path}")
            assert result.stderr.count("\n") == 1 and says in result.stderr
            assert result.stdout == ""
        path.unlink()


@pytest.mark.parametrize("name", ["uv.lock", "pylock.toml"])
def test_a_50_mb_lock_is_refused_unread(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with path.open("wb") as handle:
        handle.write(b"version = 1\n")
        handle.truncate(50 * 1024 * 1024)  # sparse: the size is what is refused
    with pytest.raises(RequirementsError) as caught:
        read_lock(path)
    assert str(caught.value) == f"cannot read {path}: larger than 10 MiB"


def test_a_fifo_named_like_a_lock_is_refused_without_waiting(tmp_path: Path) -> None:
    path = tmp_path / "uv.lock"
    os.mkfifo(path)
    with pytest.raises(RequirementsError, match="not a regular file"):
        read_lock(path)


SECRET_LOCK = (
    UV_HEAD
    + UV_PROJECT.replace(
        "https://pypi.org/simple", "https://alice:s3cret-token@private.example.invalid/simple"
    )
    + """
[[package]]
name = "direct"
version = "1.0"
source = { url = "https://tok3n@files.example.invalid/direct-1.0-py3-none-any.whl" }
"""
).replace('[{ name = "alpha" }]', '[{ name = "alpha" }, { name = "direct" }]')


def test_credentials_in_a_lock_are_never_shown(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    lock_path = _write(project, "uv.lock", SECRET_LOCK)
    lock = read_lock(lock_path)
    locations: dict[str, str | None] = {p.name: p.location for p in lock.packages}
    assert locations["alpha"] == "https://private.example.invalid/simple"
    assert locations["direct"] == "https://files.example.invalid/direct-1.0-py3-none-any.whl"
    env = make_env(tmp_path / "env")
    runs: list[list[str | Path]] = [["drift", env, "-r", lock_path, "--json"]]
    runs.append(["drift", env, "-r", lock_path])
    for args in runs:
        result = envcore(*args)
        assert result.returncode == 1, result.stderr
        assert "s3cret" not in result.stdout + result.stderr
        assert "tok3n" not in result.stdout + result.stderr
    broken = _write(
        project, "uv.lock", SECRET_LOCK.replace('version = "1.0"\nsource', "version = 1\nsource")
    )
    with pytest.raises(RequirementsError) as caught:
        read_lock(broken)
    assert "s3cret" not in str(caught.value) and "tok3n" not in str(caught.value)


BAD_URL = "http://[bad/x-1.0-py3-none-any.whl"
POETRY_URL_LOCK = (
    '[[package]]\nname = "alpha"\nversion = "1.0"\noptional = false\npython-versions = "*"\n'
    f'groups = ["main"]\nfiles = []\n[package.source]\ntype = "url"\nurl = "{BAD_URL}"\n\n'
    '[metadata]\nlock-version = "2.1"\npython-versions = ">=3.8"\ncontent-hash = "x"\n'
)
PIPENV_LOCK = {
    "_meta": {"pipfile-spec": 6, "sources": [{"name": "bad", "url": "http://[bad/simple"}]},
    "default": {
        "alpha": {"index": "bad", "version": "==1.0"},
        "remote": {"file": BAD_URL, "version": "==1.0"},
    },
    "develop": {},
}
PYLOCK_WHEEL = (
    'index = "http://[bad/simple"\n[[packages.wheels]]\nname = "alpha-1.0-py3-none-any.whl"\n'
    f'url = "{BAD_URL}"\nhashes = {{ sha256 = "{"0" * 64}" }}'
)
#: (file name, content): a URL urllib refuses (`Invalid IPv6 URL`) where each lock has one;
#: it is data to compare with, so each lock still reads, keeping the URL as written.
BAD_URL_LOCKS: list[tuple[str, str]] = [
    ("uv.lock", UV_HEAD + UV_PROJECT.replace("https://pypi.org/simple", "http://[bad/simple")),
    (
        "uv.lock",
        UV_HEAD + UV_PROJECT.replace('registry = "https://pypi.org/simple"', f'url = "{BAD_URL}"'),
    ),
    (
        "uv.lock",
        UV_HEAD
        + UV_PROJECT.replace(
            'registry = "https://pypi.org/simple"', 'url = "http://u:p@[bad/x.whl"'
        ),
    ),
    ("poetry.lock", POETRY_URL_LOCK),
    ("Pipfile.lock", json.dumps(PIPENV_LOCK)),
    ("pylock.toml", PYLOCK.replace('directory = { path = "." }', PYLOCK_WHEEL)),
    (
        "pylock.toml",
        PYLOCK.replace(
            'directory = { path = "." }',
            f'archive = {{ url = "{BAD_URL}", hashes = {{ sha256 = "{"0" * 64}" }} }}',
        ),
    ),
]


@pytest.mark.parametrize(("name", "content"), BAD_URL_LOCKS)
def test_a_malformed_url_in_a_lock_is_data_not_a_crash(
    tmp_path: Path, name: str, content: str
) -> None:
    path = _write(tmp_path, name, content)
    locations = {p.name: p.location for p in read_lock(path).packages}
    assert any(location and "[bad/" in location for location in locations.values()), locations
    assert not any(location and "u:p" in location for location in locations.values())
    env = make_env(tmp_path / "env")
    result = envcore("drift", env, "-r", path, "--json")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"] == "drifted"
    assert {item["name"]: item["status"] for item in report["items"]}["alpha"] == "missing"
