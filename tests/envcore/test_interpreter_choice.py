"""Choosing an interpreter: by version (3.13 after 3.9, not as text), the newest one the
project's requires-python allows and that is not past its end of life for a new
environment, the nearest one to an environment's own version for a recreate."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from envcore.interpreters import (
    Interpreter,
    default_interpreter,
    end_of_life,
    is_end_of_life,
    nearest_interpreter,
    newest_first,
    project_requires_python,
)

TODAY = date(2026, 11, 29)


def _python(version: str, implementation: str = "CPython") -> Interpreter:
    return Interpreter(
        Path(f"/opt/{implementation}-{version}/bin/python3"), version, implementation, "PATH"
    )


def _versions(found: list[Interpreter]) -> list[str]:
    return [item.version for item in found]


INSTALLED = [_python(v) for v in ("3.9.18", "3.13.1", "3.10.14", "3.12.8", "3.11.7")]


def test_versions_sort_as_versions_not_as_text() -> None:
    assert sorted(["3.9.18", "3.13.1"]) == ["3.13.1", "3.9.18"]  # what text order did
    assert _versions(newest_first(INSTALLED)) == ["3.13.1", "3.12.8", "3.11.7", "3.10.14", "3.9.18"]
    tie = newest_first([_python("3.11.7", "PyPy"), _python("3.11.7"), _python("garbage")])
    assert [(i.implementation, i.version) for i in tie] == [
        ("CPython", "3.11.7"),
        ("PyPy", "3.11.7"),
        ("CPython", "garbage"),
    ]


@pytest.mark.parametrize(
    ("version", "today", "past"),
    [
        ("3.8.20", date(2024, 9, 30), False),
        ("3.8.20", date(2024, 10, 1), True),
        ("3.9.18", TODAY, True),
        ("3.10.14", date(2026, 9, 30), False),
        ("3.10.14", TODAY, True),
        ("3.11.7", TODAY, False),
        ("3.14.0", date(2030, 10, 1), True),
        ("3.7.17", date(2000, 1, 1), True),
        ("2.7.18", TODAY, True),
        ("3.15.0a1", date(2040, 1, 1), False),  # not scheduled yet
        ("nonsense", TODAY, False),
    ],
)
def test_end_of_life_follows_the_devguide_and_the_date(
    version: str, today: date, past: bool
) -> None:
    assert is_end_of_life(version, today) is past


def test_the_table_is_the_devguides() -> None:
    assert [end_of_life(f"3.{minor}") for minor in range(8, 15)] == [
        date(2024 + index, 10, 1) for index in range(7)
    ]


@pytest.mark.parametrize(
    ("requires_python", "today", "expected"),
    [
        (None, TODAY, "3.13.1"),
        (">=3.9", TODAY, "3.13.1"),
        ("<3.13", TODAY, "3.12.8"),
        (">=3.9,<3.12", TODAY, "3.11.7"),
        ("<3.11", TODAY, "3.10.14"),  # all allowed are past their end: the newest of them
        ("==3.9.*", TODAY, "3.9.18"),
        (">=3.14", TODAY, None),  # none allowed
        ("not a specifier", TODAY, "3.13.1"),  # unreadable: nothing known, all allowed
        ("<3.11", date(2026, 9, 1), "3.10.14"),
    ],
)
def test_the_default_is_the_newest_allowed_and_supported(
    requires_python: str | None, today: date, expected: str | None
) -> None:
    picked = default_interpreter(INSTALLED, requires_python=requires_python, today=today)
    assert (picked.version if picked else None) == expected


def test_the_default_skips_end_of_life_and_prereleases_while_others_are_allowed() -> None:
    found = [_python("3.9.18"), _python("3.15.0a2"), _python("3.11.7")]
    picked = default_interpreter(found, today=TODAY)
    assert picked is not None and picked.version == "3.11.7"
    old_only = [_python("3.9.18"), _python("3.8.20")]
    picked = default_interpreter(old_only, today=TODAY)
    assert picked is not None and picked.version == "3.9.18"
    assert default_interpreter([], today=TODAY) is None


@pytest.mark.parametrize(
    ("own", "installed", "expected"),
    [
        ("3.11.2", ["3.9.18", "3.11.7", "3.11.9", "3.13.1"], "3.11.9"),  # same minor, newest
        ("3.10.4", ["3.9.18", "3.12.8", "3.13.1"], "3.12.8"),  # the nearest newer
        ("3.14.0", ["3.9.18", "3.12.8", "3.13.1"], "3.13.1"),  # none newer: nearest older
        ("", ["3.9.18", "3.13.1"], "3.13.1"),  # version unknown: the newest
        ("3.12.1", [], None),
    ],
)
def test_a_recreate_takes_the_nearest_installed_version(
    own: str, installed: list[str], expected: str | None
) -> None:
    picked = nearest_interpreter([_python(v) for v in installed], own)
    assert (picked.version if picked else None) == expected


def test_requires_python_is_read_from_the_projects_pyproject(tmp_path: Path) -> None:
    assert project_requires_python(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nrequires-python = " >=3.10 "\n'
    )
    assert project_requires_python(tmp_path) == ">=3.10"
    (tmp_path / "pyproject.toml").write_text('[project\nrequires-python = ">=3.10"\n')
    assert project_requires_python(tmp_path) is None  # not TOML: nothing known
    (tmp_path / "pyproject.toml").write_text('[tool.x]\nrequires-python = ">=3.10"\n')
    assert project_requires_python(tmp_path) is None
