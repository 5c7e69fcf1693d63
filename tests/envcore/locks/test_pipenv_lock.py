"""Pipfile.lock read and selected as `pipenv sync` does (default category; develop and
custom categories when asked for), from lock files written here; the same made by the
real `pipenv lock` are in test_pipenv_real.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envcore.errors import RequirementsError
from envcore.locks import read_lock
from envcore.requirements import load_requirements
from tests.envcore.locks.conftest import envcore, make_env
from tests.envcore.locks.test_poetry_lock import LINUX

LOCK = {
    "_meta": {
        "hash": {"sha256": "x"},
        "pipfile-spec": 6,
        "requires": {"python_version": "3.11"},
        "sources": [{"name": "local", "url": "http://127.0.0.1:1/simple", "verify_ssl": False}],
    },
    "default": {
        "alpha": {"hashes": [], "index": "local", "version": "==1.0"},
        "winonly": {"markers": "sys_platform == 'win32'", "version": "*"},
        "gitpkg": {"git": "https://example.invalid/g.git", "ref": "abc123"},
        "localpkg": {"editable": True, "path": "./libs/local"},
        "Remote_Pkg": {"file": "https://example.invalid/r-1.0.whl", "version": "==1.0"},
    },
    "develop": {"devtool": {"index": "local", "version": "==3.0"}},
    "docs": {"sphinxish": {"version": "==5.0"}},
}


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    path = tmp_path / "Pipfile.lock"
    path.write_text(json.dumps(LOCK))
    return path


def _names(path: Path, groups: list[str] | None = None) -> tuple[list[str], list[str]]:
    selection = read_lock(path).select(LINUX, groups=groups)
    return (
        sorted(p.name for p in selection.packages),
        sorted(p.name for p, _ in selection.skipped),
    )


def test_it_selects_the_default_category_as_pipenv_sync_does(lock_path: Path) -> None:
    assert _names(lock_path) == (["alpha", "gitpkg", "localpkg", "remote-pkg"], ["winonly"])
    selection = read_lock(lock_path).select(LINUX)
    assert selection.description == (
        "Pipfile.lock: default packages (pipenv sync's default; dev: pipenv sync --dev);"
        " markers for CPython 3.11.4 on linux"
    )


@pytest.mark.parametrize("dev", ["dev", "develop", "dev-packages"])
def test_the_dev_category_is_selected_by_any_of_its_names(lock_path: Path, dev: str) -> None:
    selected, _ = _names(lock_path, ["default", dev])
    assert "devtool" in selected and "sphinxish" not in selected


def test_a_custom_category_is_added_to_default_by_its_name(lock_path: Path) -> None:
    assert _names(lock_path, ["docs"]) == (
        ["alpha", "gitpkg", "localpkg", "remote-pkg", "sphinxish"],
        ["winonly"],
    )


@pytest.mark.parametrize("dev", ["dev", "develop", "dev-packages"])
def test_the_dev_category_alone_comes_with_default_as_pipenv_sync_dev(
    lock_path: Path, dev: str
) -> None:
    selected, _ = _names(lock_path, [dev])
    assert selected == ["alpha", "devtool", "gitpkg", "localpkg", "remote-pkg"]


def test_versions_and_sources(lock_path: Path) -> None:
    found = {p.name: (p.version, p.source, p.location) for p in read_lock(lock_path).packages}
    base = lock_path.parent
    assert found == {
        "alpha": ("1.0", "index", "http://127.0.0.1:1/simple"),
        "winonly": (None, "index", None),
        "gitpkg": (None, "vcs", "git+https://example.invalid/g.git@abc123"),
        "localpkg": (None, "editable", (base / "libs" / "local").as_uri()),
        "remote-pkg": ("1.0", "url", "https://example.invalid/r-1.0.whl"),
        "devtool": ("3.0", "index", "http://127.0.0.1:1/simple"),
        "sphinxish": ("5.0", "index", None),
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"_meta": {"pipfile-spec": 6}, "default": {"a": {"vers', "is not valid JSON"),
        ("[1, 2]", "is not a JSON object"),
        ('{"_meta": {"pipfile-spec": 99}}', "pipfile-spec 99 is not one pipenv writes"),
        ('{"_meta": {"pipfile-spec": "6"}}', "_meta.pipfile-spec must be a number"),
        ('{"default": []}', "category 'default' must be a table"),
        ('{"default": {"a": {"version": 1}}}', "version of 'a' must be a string"),
        ('{"default": {"a": {"version": ">=1"}}}', "not an exact pin"),
        ('{"default": {"a": {"markers": ["x"]}}}', "markers of 'a' must be a string"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
    ],
)
def test_a_malformed_lock_is_one_line_naming_the_file(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = tmp_path / "Pipfile.lock"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(RequirementsError) as raised:
        read_lock(path)
    text = str(raised.value)
    assert str(path) in text and message in text and "\n" not in text


def test_a_50_mb_lock_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "Pipfile.lock"
    with path.open("wb") as handle:
        handle.write(b'{"default": {"a": {"version": "==1"}}, "x": "')
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(RequirementsError) as raised:
        read_lock(path)
    assert str(raised.value) == f"cannot read {path}: larger than 10 MiB"


def test_the_cli_refuses_a_malformed_lock_in_one_line(tmp_path: Path) -> None:
    env = make_env(tmp_path / "env")
    for name, content in [
        ("Pipfile.lock", '{"_meta": {"pipfile-spec": 6}, "default": {"a": {"vers'),
        ("Pipfile.lock", '{"default": {"a": {"version": 1}}}'),
        ("poetry.lock", '[metadata]\nlock-version = "9.0"\n'),
        ("poetry.lock", '[[package]]\nname = "a"\nversion = '),
    ]:
        path = tmp_path / name
        path.write_text(content)
        result = envcore("drift", env, "-r", path, "--json")
        assert result.returncode == 2, (content, result.stdout)
        assert result.stderr.count("\n") == 1 and str(path) in result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_vcs_value_pipenv_kept_with_its_prefix_and_egg_is_one_pip_url(tmp_path: Path) -> None:
    """`pipenv install git+https://…#egg=req` stores the URL as typed, in the Pipfile and
    the lock: the lock reader gives the URL the Pipfile reader gives, not `git+git+…`."""
    url = "git+https://example.invalid/psf/requests.git#egg=req"
    lock = {**LOCK, "default": {"req": {"git": url, "ref": "abc"}}}
    path = tmp_path / "Pipfile.lock"
    path.write_text(json.dumps(lock))
    (tmp_path / "Pipfile").write_text(f'[packages]\nreq = {{git = "{url}", ref = "abc"}}\n')
    wanted = "git+https://example.invalid/psf/requests.git@abc"
    found = {str(p.name): (p.source, p.location) for p in read_lock(path).packages}
    assert found["req"] == ("vcs", wanted)
    assert [e.url for e in load_requirements(tmp_path / "Pipfile").entries] == [wanted]
