"""poetry.lock read and selected as `poetry install` does, from lock files written here in
poetry's own formats (2.1 with groups and markers, 2.0 re-resolved through its edges);
the same files made by the real `poetry lock` are in test_poetry_real.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from envcore.errors import RequirementsError
from envcore.locks import lock_requirements, read_lock

LINUX = {
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "python_full_version": "3.11.4",
    "python_version": "3.11",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_release": "",
    "platform_version": "",
    "implementation_version": "3.11.4",
}

PYPROJECT = """
[tool.poetry]
name = "proj"
version = "0.1.0"

[tool.poetry.dependencies]
python = ">=3.8"
alpha = "^1.0"
winonly = { version = "*", markers = "sys_platform == 'win32'" }
oldonly = { version = "*", python = "<3.9" }
fancy = { version = "*", optional = true }

[tool.poetry.extras]
nice = ["fancy"]

[tool.poetry.group.dev.dependencies]
devtool = "^3"

[tool.poetry.group.docs]
optional = true
[tool.poetry.group.docs.dependencies]
sphinxish = "*"
"""


def _package(name: str, version: str, groups: str, extra: str = "") -> str:
    return (
        f'[[package]]\nname = "{name}"\nversion = "{version}"\noptional = false\n'
        f'python-versions = "*"\n{groups}{extra}files = []\n\n'
    )


LOCK_21 = (
    _package("alpha", "1.2", 'groups = ["main"]\n')
    + _package("winonly", "1.0", 'groups = ["main"]\nmarkers = "sys_platform == \\"win32\\""\n')
    + _package("oldonly", "1.0", 'groups = ["main"]\nmarkers = "python_version < \\"3.9\\""\n')
    + _package("fancy", "2.0", 'groups = ["main"]\nmarkers = "extra == \\"nice\\""\n').replace(
        "optional = false", "optional = true"
    )
    + _package("devtool", "3.1", 'groups = ["dev"]\n')
    + _package("sphinxish", "5.0", 'groups = ["docs"]\n')
    # one package in two groups with a marker per group
    + _package(
        "both",
        "1.0",
        'groups = ["main", "dev"]\nmarkers = {main = "sys_platform == \\"win32\\""}\n',
    )
    + '[extras]\nnice = ["fancy"]\n\n[metadata]\nlock-version = "2.1"\n'
    'python-versions = ">=3.8"\ncontent-hash = "x"\n'
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "poetry.lock").write_text(LOCK_21)
    return tmp_path


def _names(lock_path: Path, groups: list[str] | None = None) -> tuple[list[str], list[str]]:
    lock = read_lock(lock_path)
    selection = lock.select(LINUX, groups=groups)
    return (
        sorted(p.name for p in selection.packages),
        sorted(p.name for p, _ in selection.skipped),
    )


def test_it_selects_main_and_the_non_optional_groups_with_the_project_itself(
    project: Path,
) -> None:
    selected, skipped = _names(project / "poetry.lock")
    # `both` is in dev without a marker there: installed for dev even though its main marker
    # is false on linux; the optional docs group and the unasked extra are not selected.
    assert selected == ["alpha", "both", "devtool", "proj"]
    assert skipped == ["oldonly", "winonly"]


def test_the_selection_line_names_the_groups_the_reason_and_the_interpreter(
    project: Path,
) -> None:
    selection = read_lock(project / "poetry.lock").select(LINUX)
    assert selection.description == (
        "poetry.lock: groups main, dev (poetry install's defaults: main and every"
        " non-optional group; optional: docs; the project proj itself, editable);"
        " markers for CPython 3.11.4 on linux"
    )


def test_groups_and_extras_asked_for_are_added_to_the_defaults(project: Path) -> None:
    """`poetry install --with docs -E nice`: main, dev, docs and the extra."""
    for asked in (["docs", "extra:nice"], ["main", "docs", "extra:nice"]):
        selected, skipped = _names(project / "poetry.lock", asked)
        assert selected == ["alpha", "both", "devtool", "fancy", "proj", "sphinxish"]
        assert skipped == ["oldonly", "winonly"]


def test_extras_alone_come_with_the_default_groups(project: Path) -> None:
    selected, _ = _names(project / "poetry.lock", ["extra:nice"])
    assert selected == ["alpha", "both", "devtool", "fancy", "proj"]


def test_the_project_is_an_editable_of_the_lock_directory_unless_package_mode_is_off(
    project: Path,
) -> None:
    lock = read_lock(project / "poetry.lock")
    parsed = lock_requirements(lock, lock.select(LINUX))
    own = next(e for e in parsed.entries if e.name == "proj")
    assert own.editable and own.url == project.as_uri()
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(
        text.replace('version = "0.1.0"', 'version = "0.1.0"\npackage-mode = false')
    )
    selected, _ = _names(project / "poetry.lock")
    assert "proj" not in selected


def test_a_lock_without_groups_is_walked_from_the_pyproject_through_its_edges(
    project: Path,
) -> None:
    """Lock-version 2.0 (poetry 1.x): no groups, no package markers; the markers are on
    the edges and in the pyproject's own dependencies (python = "<3.9" among them)."""
    old = "".join(
        _package(name, version, "")
        for name, version in [
            ("winonly", "1.0"),
            ("oldonly", "1.0"),
            ("devtool", "3.1"),
            ("sphinxish", "5.0"),
            ("helper", "1.0"),
            ("winhelper", "1.0"),
        ]
    )
    old += _package("alpha", "1.2", "") + (
        "[package.dependencies]\n"
        'helper = {version = ">=1", markers = "sys_platform == \'linux\'"}\n'
        'winhelper = {version = "*", python = "<3.9"}\n\n'
    )
    old += '[metadata]\nlock-version = "2.0"\npython-versions = ">=3.8"\ncontent-hash = "x"\n'
    (project / "poetry.lock").write_text(old)
    selected, skipped = _names(project / "poetry.lock")
    assert selected == ["alpha", "devtool", "helper", "proj"]
    assert skipped == ["oldonly", "winhelper", "winonly"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[package]]\nname = "a"\nversion = ', "is not valid TOML"),
        ('[metadata]\nlock-version = "3.0"\n', "lock-version 3.0 is not one poetry 2 reads"),
        ("[metadata]\n", "lock-version missing is not one poetry 2 reads"),
        ('package = "x"\n[metadata]\nlock-version = "2.1"\n', "[[package]] must be a list"),
        (
            '[[package]]\nname = "a"\nversion = 1\n[metadata]\nlock-version = "2.1"\n',
            "version of 'a' must be a string",
        ),
        (
            '[[package]]\nname = "a"\nversion = "1"\ngroups = "main"\n'
            '[metadata]\nlock-version = "2.1"\n',
            "groups of 'a' must be a list",
        ),
        (  # poetry install stops on it too (KeyError: 'groups'); it was selected by no group
            '[[package]]\nname = "a"\nversion = "1"\n[metadata]\nlock-version = "2.1"\n',
            "package 'a' has no groups, which lock-version 2.1 lists for every package",
        ),
        (
            '[[package]]\nname = "a"\nversion = "1"\n[package.source]\ntype = "ftp"\n'
            '[metadata]\nlock-version = "2.1"\n',
            "unknown source type 'ftp'",
        ),
    ],
)
def test_a_malformed_lock_is_one_line_naming_the_file(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "poetry.lock"
    path.write_text(content)
    with pytest.raises(RequirementsError) as raised:
        read_lock(path)
    text = str(raised.value)
    assert str(path) in text and message in text and "\n" not in text


def test_an_invalid_marker_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "poetry.lock"
    path.write_text(
        _package("a", "1", 'groups = ["main"]\nmarkers = "os_name ==="\n')
        + '[metadata]\nlock-version = "2.1"\n'
    )
    with pytest.raises(RequirementsError) as raised:
        read_lock(path).select(LINUX)
    assert str(path) in str(raised.value) and "invalid marker" in str(raised.value)


def test_sources_give_the_kind_and_location(tmp_path: Path) -> None:
    path = tmp_path / "poetry.lock"
    path.write_text(
        _package("g", "1.0", 'groups = ["main"]\n')
        + '[package.source]\ntype = "git"\nurl = "https://example.invalid/g.git"\n'
        'reference = "main"\nresolved_reference = "abc123"\n\n'
        + _package("d", "0.1", 'groups = ["main"]\ndevelop = true\n')
        + '[package.source]\ntype = "directory"\nurl = "libs/d"\n\n'
        + _package("f", "0.2", 'groups = ["main"]\n')
        + '[package.source]\ntype = "file"\nurl = "dist/f-0.2.tar.gz"\n\n'
        + _package("u", "0.3", 'groups = ["main"]\n')
        + '[package.source]\ntype = "url"\nurl = "https://example.invalid/u-0.3.whl"\n\n'
        + '[metadata]\nlock-version = "2.1"\n'
    )
    found = {p.name: (p.source, p.location) for p in read_lock(path).packages}
    assert found == {
        "g": ("vcs", "git+https://example.invalid/g.git@abc123"),
        "d": ("editable", (tmp_path / "libs" / "d").as_uri()),
        "f": ("path", (tmp_path / "dist" / "f-0.2.tar.gz").as_uri()),
        "u": ("url", "https://example.invalid/u-0.3.whl"),
    }


def test_a_50_mb_lock_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "poetry.lock"
    with path.open("wb") as handle:
        handle.write(b'[metadata]\nlock-version = "2.1"\n# ')
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(RequirementsError) as raised:
        read_lock(path)
    assert str(raised.value) == f"cannot read {path}: larger than 10 MiB"


def test_a_pyproject_that_is_a_link_elsewhere_is_not_read(tmp_path: Path) -> None:
    """A pyproject.toml beside the lock that links outside (the scan roots) is not
    followed: its name and groups never reach the selection, as if it were absent."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "pyproject.toml").write_text(
        '[tool.poetry]\nname = "other"\n[tool.poetry.group.secret]\noptional = true\n'
    )
    project = tmp_path / "proj"
    project.mkdir()
    (project / "poetry.lock").write_text(LOCK_21)
    (project / "pyproject.toml").symlink_to(outside / "pyproject.toml")
    lock = read_lock(project / "poetry.lock")
    assert lock.project_name is None and "secret" not in lock.groups
    assert set(lock.default_groups) == {"main", "dev", "docs", "extra:nice"}
    description = lock.select(LINUX).description
    assert "other" not in description
    assert "pyproject.toml beside the lock is a link, not followed" in description


def test_a_lock_that_is_a_link_does_not_read_the_pyproject_beside_the_link(
    tmp_path: Path,
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "poetry.lock").write_text(LOCK_21)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "pyproject.toml").write_text('[tool.poetry]\nname = "other"\n')
    (elsewhere / "poetry.lock").symlink_to(real / "poetry.lock")
    lock = read_lock(elsewhere / "poetry.lock")
    assert lock.project_name is None
    assert "the lock is a link to another directory" in lock.select(LINUX).description
