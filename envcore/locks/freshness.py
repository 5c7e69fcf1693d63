"""Lock out of date: a lock file that no longer satisfies the ranges its project declares.

A lock is held to the file it was made from (pyproject.toml's `[project]` dependencies,
optional dependencies and dependency groups, or `[tool.poetry]`; a Pipfile's categories): every
declared requirement that applies to the environment must be in the lock at a version
inside its range, as `uv lock --check` or `poetry check --lock` would demand before
installing. A lock older than its pyproject.toml would be a hint only, never the test: a git
checkout gives both files the time of the checkout, and an edit to a comment changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from envcore.errors import RequirementsError
from envcore.locks import LockFile, lock_tool
from envcore.requirements import ParsedRequirements, RequirementEntry, load_requirements
from envcore.requirements._roots import within_roots
from envcore.versions import satisfies

__all__ = ["declared_ranges", "lock_outdated"]

_RUN_LOCK = {
    "uv": "run `uv lock`",
    "poetry": "run `poetry lock`",
    "pipenv": "run `pipenv lock`",
    "pylock": "export it again",
}


#: Pipfile tables that are not package categories.
_PIPFILE_SETTINGS = frozenset({"source", "requires", "pipenv", "scripts"})


def _declared_names(path: Path) -> tuple[list[str], list[str]]:
    """Every extra and group the declaring file has: a pyproject.toml's optional
    dependencies and dependency groups (PEP 735 and poetry's), a Pipfile's categories."""
    from envcore.locks._read import read_project_toml

    try:
        _text, data = read_project_toml(path)
    except RequirementsError:
        return [], []
    if path.name == "Pipfile":
        tables = [key for key, value in data.items() if isinstance(value, dict)]
        return [], [key for key in tables if key not in _PIPFILE_SETTINGS]
    project = data.get("project")
    optional = project.get("optional-dependencies") if isinstance(project, dict) else None
    extras = list(optional) if isinstance(optional, dict) else []
    table = data.get("dependency-groups")
    groups = list(table) if isinstance(table, dict) else []
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    poetry_groups = poetry.get("group") if isinstance(poetry, dict) else None
    if isinstance(poetry_groups, dict):
        groups += [name for name in poetry_groups if name not in groups]
    return extras, groups


def _known(lock: LockFile, extras: list[str], groups: list[str]) -> tuple[list[str], list[str]]:
    """The extras and groups the lock was asked to cover. uv and poetry lock every one of
    them; a pylock.toml is exported for some only (`uv export` takes the default groups), so
    a group it does not name cannot make it out of date."""
    if lock.tool != "pylock":
        return extras, groups
    known = set(lock.groups)
    return (
        [extra for extra in extras if f"extra:{extra}" in known or extra in known],
        [group for group in groups if group in known],
    )


def _problem(entry: RequirementEntry, versions: list[str] | None, declaring: str) -> str | None:
    """What is wrong with one declared requirement in the lock (None: nothing)."""
    asked = f"{declaring} asks for {entry.text}"
    if versions is None:
        return f"{asked}, the lock has no {entry.name}"
    if entry.url is not None or not entry.specifier:
        return None
    known = [version for version in versions if version]
    if not known or any(satisfies(entry.specifier_set, version) for version in known):
        return None
    return f"{asked}, the lock has {entry.name} {', '.join(known)}"


def declared_ranges(
    lock_path: Path,
    marker_environment: Mapping[str, str],
    *,
    roots: Sequence[Path | str] | None = None,
) -> ParsedRequirements | None:
    """The ranges a lock was made from: its pyproject.toml or Pipfile with every extra and
    group, for "the newest version the project allows" (the pins say what is installed,
    the ranges how far `uv lock --upgrade` or `poetry update` may take it). None when the
    lock has no declaring file (or it is outside `roots`); RequirementsError when that
    file cannot be read."""
    tool = lock_tool(lock_path)
    declaring = lock_path.parent / ("Pipfile" if tool == "pipenv" else "pyproject.toml")
    if tool is None or not declaring.is_file() or not within_roots(declaring, roots):
        return None
    extras, groups = _declared_names(declaring)
    return load_requirements(
        declaring, extras=extras, groups=groups, roots=roots, environment=marker_environment
    )


def lock_outdated(
    lock: LockFile,
    marker_environment: Mapping[str, str],
    *,
    roots: Sequence[Path | str] | None = None,
) -> str:
    """One line naming a declared requirement the lock does not satisfy and what to run;
    empty when the lock satisfies every one that applies to the environment, or when there
    is no declaring file to hold it to (or it is outside `roots`, or cannot be read)."""
    declaring = lock.path.parent / ("Pipfile" if lock.tool == "pipenv" else "pyproject.toml")
    if not declaring.is_file() or not within_roots(declaring, roots):
        return ""
    extras, groups = _known(lock, *_declared_names(declaring))
    try:
        declared = load_requirements(
            declaring, extras=extras, groups=groups, roots=roots, environment=marker_environment
        )
    except RequirementsError:
        return ""  # the project's own file is broken: its page says so; the lock is not judged
    versions: dict[str, list[str]] = {}
    for package in lock.packages:
        versions.setdefault(package.name, []).append(package.version or "")
    problems: list[str] = []
    for entry in declared.requirements:
        if entry.name is None or entry.name == lock.project_name:
            continue
        if entry.name == declared.project_name or not entry.applies_to(marker_environment):
            continue
        problem = _problem(entry, versions.get(entry.name), declaring.name)
        if problem is not None:
            problems.append(problem)
    if not problems:
        return ""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{lock.path.name} is out of date: {problems[0]}{more}; {_RUN_LOCK[lock.tool]}"
