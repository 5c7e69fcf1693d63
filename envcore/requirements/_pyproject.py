"""pyproject.toml as a requirements source: PEP 621 dependencies, the chosen
optional-dependencies (extras) and PEP 735 dependency groups; poetry's own tables
(`[tool.poetry.dependencies]`, its groups and extras) through `_poetry_project`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import cast

from packaging.dependency_groups import CyclicDependencyGroup, DependencyGroupResolver
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envcore.requirements._entry import (
    ParsedRequirements,
    ParseIssue,
    RequirementEntry,
    RequirementsOptions,
)
from envcore.requirements._roots import not_read, within_roots
from envcore.requirements._text import clip, one_line

__all__ = ["parse_pyproject"]


def _locate_lines(text: str, values: Iterable[str]) -> dict[str, int]:
    """Best-effort line numbers for TOML string values (tomllib keeps no positions)."""
    found: dict[str, int] = {}
    lines = text.splitlines()
    for value in values:
        for quoted in (f'"{value}"', f"'{value}'", value):
            for index, line in enumerate(lines):
                if quoted in line:
                    found[value] = index + 1
                    break
            if value in found:
                break
    return found


def _dependency_entry(
    requirement_text: str, path: Path, line_number: int
) -> RequirementEntry | ParseIssue:
    source = f"{path}:{line_number}"
    try:
        requirement = Requirement(requirement_text)
    except InvalidRequirement as exc:
        return ParseIssue(
            source, f"invalid requirement {clip(requirement_text)!r}: {one_line(exc)}"
        )
    return RequirementEntry(
        name=canonicalize_name(requirement.name),
        raw_name=requirement.name,
        specifier=str(requirement.specifier),
        marker=str(requirement.marker) if requirement.marker else None,
        extras=tuple(sorted(requirement.extras)),
        editable=False,
        url=requirement.url,
        constraint=False,
        hashes=(),
        source=source,
        path=path,
        line_number=line_number,
        text=requirement_text,
    )


#: What a requirement string stands in as while packaging resolves the groups.
_STAND_IN = "envdash-item-{}"


def _group_requirements(
    table: Mapping[str, object], names: Iterable[str], issues: list[str]
) -> list[str]:
    """PEP 735: the requirement strings of the named groups, include-group expanded by
    packaging's resolver (names normalised, cycles and unknown groups found).

    The resolver sees each item of the table as a stand-in name and returns those in
    order; they are swapped back for the text as written, so that each keeps its line in
    the file, and an invalid string or item is reported on its own (only when a chosen
    group reaches it) instead of failing the whole group.
    """
    texts: list[str] = []
    invalid: dict[int, str] = {}
    stand_ins: dict[str, object] = {}
    for group, items in table.items():
        if not isinstance(items, list):
            stand_ins[group] = items  # packaging says what is wrong with it
            continue
        converted: list[object] = []
        for item in items:
            if isinstance(item, str):
                converted.append(_STAND_IN.format(len(texts)))
                texts.append(item)
            elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
                converted.append({"include-group": item["include-group"]})
            else:
                invalid[len(texts)] = f"dependency group {group!r} has an invalid item {item!r}"
                converted.append(_STAND_IN.format(len(texts)))
                texts.append("")
        stand_ins[group] = converted
    try:
        resolver = DependencyGroupResolver(cast("Mapping[str, Sequence[str]]", stand_ins))
    except ExceptionGroup as group_error:
        issues.extend(one_line(exc) for exc in group_error.exceptions)
        return []
    out: list[str] = []
    for name in names:
        try:
            resolved = resolver.resolve(name)
        except ExceptionGroup as group_error:
            issues.extend(_group_issue(exc, name) for exc in group_error.exceptions)
            continue
        except RecursionError:  # packaging's resolver recurses once per include
            issues.append(f"dependency group {name!r} includes groups nested too deeply")
            continue
        for requirement in resolved:
            index = int(requirement.name.rpartition("-")[2])
            if index in invalid:
                issues.append(invalid[index])
            else:
                out.append(texts[index])
    return out


def _group_issue(exc: Exception, requested: str) -> str:
    """envdash's one-line message for what packaging's resolver found."""
    if isinstance(exc, CyclicDependencyGroup):
        if canonicalize_name(exc.include_group) == exc.group:
            return f"dependency group {exc.include_group!r} includes itself"
        return (
            f"dependency group {exc.include_group!r} includes itself "
            f"({exc.include_group} -> {exc.group} -> {exc.include_group})"
        )
    if isinstance(exc, LookupError):
        # packaging names the missing group normalised: show a request as it was written.
        found = re.search(r"'(.+)'", str(exc))
        missing = found.group(1) if found else canonicalize_name(requested)
        shown = requested if canonicalize_name(requested) == missing else missing
        return f"no dependency group named {shown!r}"
    return one_line(exc)


def _key_lines(text: str) -> dict[str, int]:
    """Best-effort line numbers of TOML keys (`name = ...`), first occurrence."""
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        key, sep, _ = line.partition("=")
        key = key.strip().strip("\"'")
        if sep and key and not key.startswith(("#", "[")):
            found.setdefault(key, number)
    return found


def _poetry_extra(poetry: Mapping[str, object], extra: str) -> bool:
    """Whether `[tool.poetry.extras]` declares this extra."""
    declared = poetry.get("extras")
    return isinstance(declared, dict) and any(
        canonicalize_name(name) == canonicalize_name(extra) for name in declared
    )


def parse_pyproject(
    path: Path | str,
    *,
    extras: Iterable[str] | None = None,
    groups: Iterable[str] | None = None,
    roots: Sequence[Path | str] | None = None,
) -> ParsedRequirements:
    """`[project] dependencies`, plus the named optional-dependencies and dependency groups.

    Without `extras`/`groups`, only the project's own dependencies are read (what
    `pip install .` installs). With `roots`, a file whose real path is outside them is not
    read (see `parse_requirements_file`). Raises RequirementsError when the file is
    unreadable or not TOML.
    """
    from envcore.locks._read import read_project_toml  # envcore.locks imports this package

    path = Path(path)
    if not within_roots(path, roots):
        return not_read(path)
    text, data = read_project_toml(path)
    project = data.get("project")
    if not isinstance(project, dict):
        project = {}
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    poetry = poetry if isinstance(poetry, dict) else {}
    project_name = project.get("name") if isinstance(project.get("name"), str) else None
    project_name = project_name or (poetry["name"] if isinstance(poetry.get("name"), str) else None)
    own = canonicalize_name(project_name) if project_name else None
    poetry_entries: list[RequirementEntry] = []
    poetry_errors: list[ParseIssue] = []
    if poetry:
        # poetry's own tables: its main dependencies when [project] declares none, its
        # groups and extras; what they name is not looked for in the PEP 621/735 tables.
        from envcore.requirements._poetry_project import poetry_requirements

        groups, extras = list(groups or ()), list(extras or ())
        poetry_entries, poetry_errors, found = poetry_requirements(
            data, path, groups=groups or (), extras=extras or (), lines=_key_lines(text)
        )
        groups = [group for group in groups or () if group not in found]
        extras = [extra for extra in extras or () if not _poetry_extra(poetry, extra)]
    requested: list[str] = []
    issues: list[str] = []
    dependencies = project.get("dependencies", [])
    if isinstance(dependencies, list):
        requested.extend(item for item in dependencies if isinstance(item, str))
    optional = project.get("optional-dependencies", {})
    optional = optional if isinstance(optional, dict) else {}
    by_extra = {canonicalize_name(key): value for key, value in optional.items()}
    pending = [canonicalize_name(extra) for extra in (extras or ())]
    done: set[str] = set()
    while pending:
        extra = pending.pop(0)
        if extra in done:
            continue
        done.add(extra)
        items = by_extra.get(extra)
        if not isinstance(items, list):
            issues.append(f"no optional-dependencies group named {extra!r}")
            continue
        for item in items:
            if not isinstance(item, str):
                continue
            # `myproject[a,b]` inside its own extras means "also these extras".
            try:
                self_ref = Requirement(item)
            except InvalidRequirement:
                requested.append(item)
                continue
            if own is not None and canonicalize_name(self_ref.name) == own:
                pending.extend(canonicalize_name(e) for e in self_ref.extras)
            else:
                requested.append(item)
    if groups:
        table = data.get("dependency-groups", {})
        table = table if isinstance(table, dict) else {}
        requested.extend(_group_requirements(table, groups, issues))
    lines = _locate_lines(text, requested)
    entries: list[RequirementEntry] = list(poetry_entries)
    errors = [ParseIssue(f"{path}:1", issue) for issue in issues] + poetry_errors
    # The same string from two places (a group included by two chosen groups, a pin in both
    # dependencies and a group) is one requirement to pip: compare it once.
    for item in dict.fromkeys(requested):
        made = _dependency_entry(item, path, lines.get(item, 1))
        if isinstance(made, ParseIssue):
            errors.append(made)
        else:
            entries.append(made)
    return ParsedRequirements(
        entries=tuple(entries),
        errors=tuple(errors),
        options=RequirementsOptions(),
        files=(path,),
        project_name=own,
    )
