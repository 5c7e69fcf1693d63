"""What poetry reads from a project's pyproject.toml: its name, its groups (which are
optional), its dependencies per group (`[tool.poetry.dependencies]` or, when `[project]`
declares them, the PEP 621 ones, as poetry-core decides), for the poetry.lock reader and
for `parse_pyproject`."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from envcore.errors import RequirementsError
from envcore.requirements._entry import ParseIssue, RequirementEntry
from envcore.requirements._poetry import poetry_dependency, poetry_entries

__all__ = ["MAIN", "Edge", "PoetryProject", "poetry_requirements", "read_poetry_project"]

#: poetry's group of the project's own dependencies (`[tool.poetry.dependencies]`).
MAIN = "main"


@dataclass(frozen=True, slots=True)
class Edge:
    """One dependency as a lock (or the pyproject.toml) declares it."""

    name: NormalizedName
    marker: str | None
    extras: tuple[NormalizedName, ...] = ()
    optional: bool = False


@dataclass(frozen=True)
class PoetryProject:
    name: NormalizedName | None = None
    #: `package-mode = false`: poetry does not install the project itself.
    package_mode: bool = True
    #: Every group declared (main first) and those `poetry install` installs by default.
    groups: tuple[str, ...] = ()
    default_groups: tuple[str, ...] = ()
    defaults_reason: str = "no pyproject.toml beside the lock: every group it names"
    #: The root's dependencies per group (for locks before 2.1, which poetry re-resolves).
    edges: Mapping[str, tuple[Edge, ...]] = field(default_factory=dict)


def _table(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _uses_project_dependencies(project: Mapping[str, object]) -> bool:
    """poetry-core: `[project]` dependencies or optional-dependencies make the main group;
    `[tool.poetry.dependencies]` then only adds sources and develop flags to them."""
    return bool(project.get("dependencies")) or bool(project.get("optional-dependencies"))


def _poetry_groups(tool: Mapping[str, object]) -> dict[str, dict[str, object]]:
    """`[tool.poetry.group.NAME]` tables, plus legacy `dev-dependencies` as group dev."""
    groups = {name: _table(config) for name, config in _table(tool.get("group")).items()}
    if isinstance(tool.get("dev-dependencies"), dict):
        dev = groups.setdefault("dev", {})
        merged = {**_table(tool["dev-dependencies"]), **_table(dev.get("dependencies"))}
        groups["dev"] = {**dev, "dependencies": merged}
    return groups


def _with_included(groups: Mapping[str, Mapping[str, object]], name: str) -> list[str]:
    """A poetry group and those its `include-groups` name, transitively, each once (a
    cycle ends where it closes). Names compare normalised, as poetry-core compares them."""
    by_name = {canonicalize_name(group): group for group in groups}
    found: list[str] = []
    pending = [name]
    while pending:
        group = by_name.get(canonicalize_name(pending.pop(0)))
        if group is None or group in found:
            continue
        found.append(group)
        included = groups[group].get("include-groups")
        pending += [g for g in included if isinstance(g, str)] if isinstance(included, list) else []
    return found


def _pep508_edges(items: object, *, optional: bool = False) -> list[Edge]:
    edges = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, str):
            continue
        try:
            requirement = Requirement(item)
        except InvalidRequirement:
            continue
        marker = str(requirement.marker) if requirement.marker else None
        extras = tuple(canonicalize_name(e) for e in sorted(requirement.extras))
        edges.append(Edge(canonicalize_name(requirement.name), marker, extras, optional))
    return edges


def _poetry_edges(table: Mapping[str, object], root: Path) -> list[Edge]:
    edges = []
    for raw_name, value in table.items():
        if raw_name.lower() == "python":
            continue
        for spec in value if isinstance(value, list) else [value]:
            made = poetry_dependency(raw_name, spec, root)
            extras = tuple(canonicalize_name(e) for e in made.extras)
            edges.append(Edge(canonicalize_name(raw_name), made.marker, extras, made.optional))
    return edges


def _beside(pyproject: Path, lock: Path) -> str | None:
    """Why the pyproject.toml next to a lock is not read (None: it is read). Only a file in
    the lock's own directory, symlinks resolved, is: the lock was checked against the scan
    roots where it was chosen, so this file is inside them too; a link (to a project
    elsewhere) or a lock reached through a link from another directory is not followed."""
    if pyproject.is_symlink():
        return "the pyproject.toml beside the lock is a link, not followed"
    if not pyproject.is_file():
        return None
    if os.path.realpath(pyproject.parent) != os.path.dirname(os.path.realpath(lock)):
        return "the lock is a link to another directory: the pyproject.toml here is not read"
    return None


def read_poetry_project(pyproject: Path, lock: Path) -> PoetryProject:
    """The project beside a poetry.lock; a lock alone gives every group as the default, and
    so does a pyproject.toml not read (see `_beside`), with the reason."""
    from envcore.locks._read import read_project_toml

    refused = _beside(pyproject, lock)
    if refused is not None:
        return PoetryProject(defaults_reason=f"{refused}: every group the lock names")
    if not pyproject.is_file():
        return PoetryProject()
    _text, data = read_project_toml(pyproject, follow_symlinks=False)
    project = _table(data.get("project"))
    tool = _table(_table(data.get("tool")).get("poetry"))
    raw_name = project.get("name") or tool.get("name")
    name = canonicalize_name(raw_name) if isinstance(raw_name, str) else None
    package_mode = tool.get("package-mode", True)
    if not isinstance(package_mode, bool):
        raise RequirementsError(f"{pyproject}: package-mode must be true or false")
    edges: dict[str, list[Edge]] = {MAIN: []}
    if _uses_project_dependencies(project):
        edges[MAIN] += _pep508_edges(project.get("dependencies"))
        for items in _table(project.get("optional-dependencies")).values():
            edges[MAIN] += _pep508_edges(items, optional=True)
    else:
        edges[MAIN] += _poetry_edges(_table(tool.get("dependencies")), pyproject.parent)
    optional_groups: set[str] = set()
    poetry_groups = _poetry_groups(tool)
    for group, items in _table(data.get("dependency-groups")).items():
        edges.setdefault(group, []).extend(_pep508_edges(items))
    for group, config in poetry_groups.items():
        for member in _with_included(poetry_groups, group):
            edges.setdefault(group, []).extend(
                _poetry_edges(_table(poetry_groups[member].get("dependencies")), pyproject.parent)
            )
        if config.get("optional") is True:
            optional_groups.add(canonicalize_name(group))
    groups = tuple(edges)
    defaults = tuple(g for g in groups if canonicalize_name(g) not in optional_groups)
    left_out = [g for g in groups if g not in defaults]
    reason = "poetry install's defaults: main and every non-optional group"
    if left_out:
        reason += f"; optional: {', '.join(left_out)}"
    if name is not None and package_mode:
        reason += f"; the project {name} itself, editable"
    return PoetryProject(
        name=name,
        package_mode=package_mode,
        groups=groups,
        default_groups=defaults,
        defaults_reason=reason,
        edges={group: tuple(items) for group, items in edges.items()},
    )


def poetry_requirements(
    data: Mapping[str, object],
    path: Path,
    *,
    groups: Iterable[str],
    extras: Iterable[str],
    lines: Mapping[str, int],
) -> tuple[list[RequirementEntry], list[ParseIssue], set[str]]:
    """parse_pyproject's part for poetry: the main dependencies when `[project]` declares
    none (poetry-core's rule), the requested `[tool.poetry.group.NAME]` groups (legacy
    `dev-dependencies` is group dev). Returns the entries, the issues and the groups found
    (so that parse_pyproject reports only those found in neither place)."""
    project = _table(data.get("project"))
    tool = _table(_table(data.get("tool")).get("poetry"))
    requested_extras = {canonicalize_name(e) for e in extras}
    declared = {
        canonicalize_name(extra): frozenset(canonicalize_name(n) for n in names)
        for extra, names in _table(tool.get("extras")).items()
        if isinstance(names, list) and all(isinstance(n, str) for n in names)
    }
    chosen = {extra: declared[extra] for extra in requested_extras if extra in declared}
    entries: list[RequirementEntry] = []
    issues: list[ParseIssue] = []
    if not _uses_project_dependencies(project):
        made, found = poetry_entries(
            _table(tool.get("dependencies")), path, extras=chosen, locate=lines
        )
        entries += made
        issues += found
    poetry_groups = _poetry_groups(tool)
    found_groups: set[str] = set()
    members: list[str] = []
    for group in groups:
        expanded = _with_included(poetry_groups, group)
        if expanded:
            found_groups.add(group)
            members += [member for member in expanded if member not in members]
    for member in members:
        made, found = poetry_entries(
            _table(poetry_groups[member].get("dependencies")), path, extras=chosen, locate=lines
        )
        entries += made
        issues += found
    return entries, issues, found_groups
