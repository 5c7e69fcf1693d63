"""pyproject.toml as a requirements source: PEP 621 dependencies, the chosen
optional-dependencies (extras) and PEP 735 dependency groups."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envcore._files import read_bytes
from envcore.errors import RequirementsError
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


def _group_items(
    groups: Mapping[str, object], name: str, trail: tuple[str, ...], issues: list[str]
) -> list[str]:
    """PEP 735: a group's requirement strings, with include-group expanded (cycle-safe)."""
    normalized = {canonicalize_name(key): value for key, value in groups.items()}
    key = canonicalize_name(name)
    if key in trail:
        issues.append(f"dependency group {name!r} includes itself ({' -> '.join(trail)})")
        return []
    items = normalized.get(key)
    if not isinstance(items, list):
        issues.append(f"no dependency group named {name!r}")
        return []
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
            out.extend(_group_items(groups, item["include-group"], (*trail, key), issues))
        else:
            issues.append(f"dependency group {name!r} has an invalid item {item!r}")
    return out


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
    path = Path(path)
    if not within_roots(path, roots):
        return not_read(path)
    try:
        text = read_bytes(path).decode("utf-8-sig")
        data = tomllib.loads(text)
    except OSError as exc:
        raise RequirementsError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RequirementsError(f"{path} is not valid TOML: {exc}") from exc
    project = data.get("project")
    if not isinstance(project, dict):
        project = {}
    project_name = project.get("name") if isinstance(project.get("name"), str) else None
    own = canonicalize_name(project_name) if project_name else None
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
    dependency_groups = data.get("dependency-groups", {})
    dependency_groups = dependency_groups if isinstance(dependency_groups, dict) else {}
    for group in groups or ():
        requested.extend(_group_items(dependency_groups, group, (), issues))
    lines = _locate_lines(text, requested)
    entries: list[RequirementEntry] = []
    errors = [ParseIssue(f"{path}:1", issue) for issue in issues]
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
