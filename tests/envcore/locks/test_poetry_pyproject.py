"""poetry's own tables in pyproject.toml as a requirements source: `[tool.poetry.dependencies]`
(when `[project]` declares none, poetry-core's rule), its groups, legacy dev-dependencies
and extras, constraints translated to PEP 440 (test_poetry_constraints.py checks them
against poetry-core), an `||` kept as a union."""

from __future__ import annotations

from pathlib import Path

import pytest

from envcore.requirements import load_requirements
from envcore.requirements._poetry import UnionRequirementEntry
from envcore.versions import satisfies

OLD_STYLE = """
[tool.poetry]
name = "old"
version = "0.1"

[tool.poetry.dependencies]
python = "^3.8"
alpha = "^1.0"
beta = { version = "~2.1", extras = ["x"], markers = "sys_platform == 'linux'" }
gamma = "^1.0 || ^3.0"
opt = { version = "*", optional = true }
old-py = { version = "*", python = "<3.8" }
local = { path = "libs/local", develop = true }
vcs = { git = "https://example.invalid/vcs.git", tag = "v1" }
twice = [
    { version = "^1", python = "<3.10" },
    { version = "^2", python = ">=3.10" },
]

[tool.poetry.extras]
o = ["opt"]

[tool.poetry.group.dev.dependencies]
devtool = "^3"

[tool.poetry.dev-dependencies]
legacy = ">=1"
"""


@pytest.fixture
def pyproject(tmp_path: Path) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(OLD_STYLE)
    return path


def test_an_old_style_project_is_read_from_its_poetry_tables(pyproject: Path) -> None:
    parsed = load_requirements(pyproject)
    found = {
        (e.name, e.specifier, e.marker, e.extras, e.editable, e.url, e.line_number)
        for e in parsed.entries
    }
    local = (pyproject.parent / "libs" / "local").as_uri()
    assert found == {
        ("alpha", "<2.0,>=1.0", None, (), False, None, 8),
        ("beta", "<2.2,>=2.1", "sys_platform == 'linux'", ("x",), False, None, 9),
        ("gamma", ">=1.0,<2.0 || >=3.0,<4.0", None, (), False, None, 10),
        ("old-py", "", 'python_version < "3.8"', (), False, None, 12),
        ("local", "", None, (), True, local, 13),
        ("vcs", "", None, (), False, "git+https://example.invalid/vcs.git@v1", 14),
        ("twice", "<2,>=1", 'python_version < "3.10"', (), False, None, 15),
        ("twice", "<3,>=2", 'python_version >= "3.10"', (), False, None, 15),
    }
    assert parsed.project_name == "old" and parsed.errors == ()


def test_groups_and_extras_add_their_dependencies(pyproject: Path) -> None:
    parsed = load_requirements(pyproject, groups=["dev"], extras=["o"])
    names = [e.name for e in parsed.entries]
    assert {"opt", "devtool", "legacy"} <= set(names) and parsed.errors == ()


def test_a_union_allows_a_version_when_one_alternative_does(pyproject: Path) -> None:
    gamma = next(e for e in load_requirements(pyproject).entries if e.name == "gamma")
    assert isinstance(gamma, UnionRequirementEntry)
    assert [satisfies(gamma.specifier_set, v) for v in ("1.5", "2.0", "3.2", "4.0")] == [
        True,
        False,
        True,
        False,
    ]
    assert str(gamma.requirement) == "gamma<4.0,>=3.0"  # what a fix asks pip for


def test_project_dependencies_win_over_poetrys_own(tmp_path: Path) -> None:
    """poetry 2 with both: [project] makes the main group, [tool.poetry.dependencies] only
    adds sources to it; poetry's groups still count."""
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[project]\nname = "new"\nversion = "1"\ndependencies = ["alpha>=2"]\n'
        '[tool.poetry.dependencies]\nalpha = { source = "local" }\nbeta = "^1"\n'
        '[tool.poetry.group.dev.dependencies]\ndevtool = "^3"\n'
    )
    parsed = load_requirements(path, groups=["dev"])
    assert {(e.name, e.specifier) for e in parsed.entries} == {
        ("alpha", ">=2"),
        ("devtool", "<4,>=3"),
    }
    assert parsed.errors == ()


def test_a_constraint_poetry_refuses_is_an_issue_on_its_line(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.poetry.dependencies]\nalpha = "^1.0"\nbad = ">=x.y"\n')
    parsed = load_requirements(path)
    assert [e.name for e in parsed.entries] == ["alpha"]
    assert [str(i) for i in parsed.errors] == [
        f"{path}:3: bad: could not parse version constraint: >=x.y"
    ]


def test_a_group_brings_the_groups_it_includes_once(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[tool.poetry.group.test]\ninclude-groups = ["lint", "test"]\n'
        '[tool.poetry.group.test.dependencies]\npytestish = "^8"\n'
        '[tool.poetry.group.lint]\ninclude-groups = ["Test"]\n'
        '[tool.poetry.group.lint.dependencies]\nruffish = "*"\n'
    )
    parsed = load_requirements(path, groups=["test", "lint"])
    assert [e.name for e in parsed.entries] == ["pytestish", "ruffish"]
    assert parsed.errors == ()
