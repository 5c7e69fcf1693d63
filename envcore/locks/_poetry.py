"""poetry.lock read as `poetry install` reads it (poetry 2, lock-version 1.x to 2.1).

Lock-version 2.1 records, per package, the groups it is in and its marker (one text, or a
table keyed by group where the groups differ): `poetry install` then selects without
resolving again, and so does this reader. Older locks carry no groups (1.x: a
`category`): poetry resolves them again from the pyproject.toml's dependencies through the
locked packages' dependency edges; the reader walks the same edges (`_walk`).

The selection is poetry's default: the main group plus every group the pyproject.toml
beside the lock does not mark `optional = true`, markers evaluated for the environment,
optional packages only when a requested extra (`extra:NAME` in `groups`) brings them in,
and the project itself, installed editable unless `package-mode = false`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement
from packaging.utils import NormalizedName, canonicalize_name

from envcore._pep508 import requirement
from envcore.errors import RequirementsError
from envcore.locks import LockedPackage, LockFile, LockSelection, SourceKind
from envcore.locks._read import Fields, file_url, read_toml, without_credentials
from envcore.locks._select import groups_phrase, marker_holds, selection_line, with_defaults
from envcore.requirements._poetry_project import MAIN, Edge, read_poetry_project
from envcore.requirements._text import clip

__all__ = ["PoetryLock", "read_poetry_lock"]

#: The lock versions poetry 2 reads (its `_READ_VERSION_RANGE`): a major it does not know
#: is a format this reader cannot vouch for either.
_MAJORS = (1, 2)


@dataclass(frozen=True)
class PoetryLock(LockFile):
    """A poetry.lock with what `select` needs beyond the common model."""

    #: Lock-version 2.1 and later: groups and markers per package (no re-resolution).
    groups_and_markers: bool = False
    #: Per package: its marker per group (None: no marker in that group).
    group_markers: Mapping[NormalizedName, Mapping[str, str | None]] = field(default_factory=dict)
    optional: frozenset[NormalizedName] = frozenset()
    #: For locks before 2.1: the dependency edges (name, marker, extras, optional) per
    #: package, the root's per group, and each package's extras (extra -> names).
    edges: Mapping[NormalizedName, tuple[Edge, ...]] = field(default_factory=dict)
    root_edges: Mapping[str, tuple[Edge, ...]] = field(default_factory=dict)
    package_extras: Mapping[NormalizedName, Mapping[str, frozenset[NormalizedName]]] = field(
        default_factory=dict
    )
    #: Why the default groups are what they are, for the selection line.
    defaults_reason: str = ""

    def _check_declared(self, asked: Sequence[str]) -> None:
        """poetry install refuses a group or extra the project does not have (groups
        first), and so does this, in poetry's words: a typo is never a selection nobody
        checked."""
        known = {canonicalize_name(group) for group in self.groups}
        missing = [
            group
            for group in asked
            if not group.startswith("extra:") and canonicalize_name(group) not in known
        ]
        if missing:
            raise RequirementsError(
                f"{self.path}: Group(s) not found: {', '.join(missing)} (via --with)"
            )
        for group in asked:
            if group.startswith("extra:") and canonicalize_name(group) not in known:
                raise RequirementsError(f"{self.path}: Extra [{group[6:]}] is not specified.")

    def select(
        self,
        marker_environment: Mapping[str, str],
        *,
        groups: Sequence[str] | None = None,
        tags: object = None,
    ) -> LockSelection:
        # `--group lint` is `poetry install --with lint`: the default groups and lint (an
        # extra, `extra:NAME`, is `-E NAME`: also on top of the defaults).
        self._check_declared(groups or ())
        requested = with_defaults(self.default_groups, groups or (), canonicalize_name)
        extras = tuple(
            canonicalize_name(g.removeprefix("extra:")) for g in requested if g.startswith("extra:")
        )
        chosen = {canonicalize_name(g) for g in requested if not g.startswith("extra:")}
        if self.groups_and_markers:
            packages, skipped = self._select_locked(marker_environment, chosen, extras)
        else:
            packages, skipped = self._walk(marker_environment, chosen, extras)
        added = [g for g in requested if g not in self.default_groups]
        command = "poetry install" + "".join(
            f" -E {g.removeprefix('extra:')}" if g.startswith("extra:") else f" --with {g}"
            for g in added
        )
        # Never "no groups": a poetry.lock always has default groups (main at least).
        picked = groups_phrase(requested, command if added else self.defaults_reason)
        description = selection_line(self.path, picked, marker_environment)
        return LockSelection(tuple(packages), tuple(skipped), requested, description)

    def _select_locked(
        self, environment: Mapping[str, str], chosen: set[NormalizedName], extras: Sequence[str]
    ) -> tuple[list[LockedPackage], list[tuple[LockedPackage, str]]]:
        """Lock-version 2.1: poetry's Transaction (groups ∩ chosen, a marker of one of
        those groups true; an optional package whose marker is false is not required)."""
        packages: list[LockedPackage] = []
        skipped: list[tuple[LockedPackage, str]] = []
        for package in self.packages:
            if package.name == self.project_name and package.source == "editable":
                packages.append(package)
                continue
            by_group = self.group_markers.get(package.name, {})
            common = [g for g in package.groups if canonicalize_name(g) in chosen]
            if not common:
                continue
            texts = [by_group.get(g) for g in common]
            if any(t is None or marker_holds(self.path, t, environment, extras) for t in texts):
                packages.append(package)
            elif package.name not in self.optional:
                unique = list(dict.fromkeys(t for t in texts if t is not None))
                shown = unique[0] if len(unique) == 1 else " or ".join(f"({t})" for t in unique)
                skipped.append((package, shown))
        return packages, skipped

    def _walk(
        self, environment: Mapping[str, str], chosen: set[NormalizedName], extras: Sequence[str]
    ) -> tuple[list[LockedPackage], list[tuple[LockedPackage, str]]]:
        """Before 2.1: what poetry's solver reaches from the root's chosen groups through
        the locked dependency edges whose markers hold (optional edges only for the extras
        asked for, of the root or of the package that declares them)."""
        by_name = {package.name: package for package in self.packages}
        reached: dict[NormalizedName, set[NormalizedName]] = {}
        false_marker: dict[NormalizedName, str] = {}
        pending: list[tuple[Edge, frozenset[NormalizedName]]] = []
        root_extras = frozenset(canonicalize_name(e) for e in extras)
        declared_by_root = self.package_extras.get(_ROOT, {})
        root_optional = set().union(*(declared_by_root.get(e, ()) for e in extras))
        for group, edges in self.root_edges.items():
            if canonicalize_name(group) in chosen:
                for edge in edges:
                    if not edge.optional or edge.name in root_optional:
                        pending.append((edge, root_extras))
        while pending:
            edge, asked = pending.pop()
            if edge.marker is not None and not marker_holds(
                self.path, edge.marker, environment, asked
            ):
                false_marker.setdefault(edge.name, edge.marker)
                continue
            # A package is walked again only for extras not walked yet.
            walked = reached.get(edge.name)
            if walked is not None and walked.issuperset(edge.extras):
                continue
            reached.setdefault(edge.name, set()).update(edge.extras)
            declared = self.package_extras.get(edge.name, {})
            wanted = set().union(*(declared.get(e, ()) for e in edge.extras))
            for child in self.edges.get(edge.name, ()):
                if not child.optional or child.name in wanted:
                    pending.append((child, frozenset(edge.extras)))
        packages = [p for p in self.packages if p.name in reached or p.name == self.project_name]
        skipped = [
            (by_name[name], text)
            for name, text in false_marker.items()
            if name not in reached and name in by_name and name not in self.optional
        ]
        return packages, skipped


#: The key of the root project's own extras in `PoetryLock.package_extras`.
_ROOT = canonicalize_name("<root>")


def _source(check: Fields, info: Mapping[str, object]) -> tuple[SourceKind, str | None]:
    """The kind of source and its location, from `[package.source]` and `develop`."""
    source = check.typed("[package.source]", info.get("source"), dict, {})
    kind = check.typed("source type", source.get("type"), str, "")
    url = without_credentials(check.typed("source url", source.get("url"), str, ""))
    lock_dir = check.path.parent
    if kind in ("", "legacy"):
        return "index", url or None
    if kind == "git":
        ref = source.get("resolved_reference") or source.get("reference")
        location = f"git+{url}" + (f"@{ref}" if isinstance(ref, str) and ref else "")
        subdirectory = source.get("subdirectory")
        if isinstance(subdirectory, str) and subdirectory:
            location += f"#subdirectory={subdirectory}"
        return "vcs", location
    if kind == "url":
        return "url", url
    if kind == "file":
        return "path", file_url(lock_dir, url)
    if kind == "directory":
        develop = check.typed("develop", info.get("develop"), bool, False)
        return ("editable" if develop else "path"), file_url(lock_dir, url)
    raise RequirementsError(f"{check.path}: unknown source type {kind!r}")


def _dependency_edges(check: Fields, value: object) -> tuple[Edge, ...]:
    """`[package.dependencies]`: a constraint text, a table, or a list of tables (one
    per marker) for each dependency."""
    table = check.typed("[package.dependencies]", value, dict, {})
    edges: list[Edge] = []
    for raw_name, spec in table.items():
        name = canonicalize_name(raw_name)
        for item in spec if isinstance(spec, list) else [spec]:
            if isinstance(item, str):
                edges.append(Edge(name, None))
                continue
            entry = check.typed(f"dependency {raw_name!r}", item, dict, {})
            edges.append(_edge(check, name, entry))
    return tuple(edges)


def _edge(check: Fields, name: NormalizedName, item: Mapping[str, object]) -> Edge:
    from envcore.requirements._poetry import python_marker  # the constraint translation

    markers = []
    text = check.typed(f"markers of {name!r}", item.get("markers"), str, "")
    if text:
        markers.append(text)
    python = check.typed(f"python of {name!r}", item.get("python"), str, "")
    if python:
        try:
            translated = python_marker(python)
        except ValueError as exc:
            raise RequirementsError(f"{check.path}: {name}: {exc}") from exc
        if translated:
            markers.append(translated)
    extras = check.typed(f"extras of {name!r}", item.get("extras"), list, [])
    joined = " and ".join(f"({m})" for m in markers) if len(markers) > 1 else None
    return Edge(
        name,
        joined or (markers[0] if markers else None),
        tuple(canonicalize_name(e) for e in extras if isinstance(e, str)),
        check.typed(f"optional of {name!r}", item.get("optional"), bool, False),
    )


def _package_extras(check: Fields, value: object) -> dict[str, frozenset[NormalizedName]]:
    """`[package.extras]` / `[extras]`: extra -> the names it brings in. Items are PEP 508
    (`"name (>=1)"`, `"name[x] ; marker"`) or, in `[extras]`, bare names."""
    table = check.typed("extras", value, dict, {})
    extras: dict[str, frozenset[NormalizedName]] = {}
    for extra, items in table.items():
        names = set()
        for index, item in enumerate(check.typed(f"extra {extra!r}", items, list, [])):
            text = check.typed(f"extra {extra!r} item {index + 1}", item, str, "")
            try:
                names.add(canonicalize_name(requirement(text).name))
            except InvalidRequirement as exc:
                raise RequirementsError(
                    f"{check.path}: extra {extra!r} names {clip(text)!r}, not a requirement"
                ) from exc
        extras[canonicalize_name(extra)] = frozenset(names)
    return extras


def read_poetry_lock(path: Path) -> PoetryLock:
    """Read and check a poetry.lock (and the pyproject.toml beside it, for the groups)."""
    path = Path(path)
    data = read_toml(path)
    check = Fields(path)
    metadata = check.typed("[metadata]", data.get("metadata"), dict, {})
    version = check.typed("lock-version", metadata.get("lock-version"), str, "")
    try:
        parts = tuple(int(part) for part in version.split("."))
    except ValueError:
        parts = ()
    if not parts or parts[0] not in _MAJORS:
        raise RequirementsError(
            f"{path}: lock-version {version or 'missing'} is not one poetry 2 reads (1.x or 2.x)"
        )
    groups_and_markers = parts >= (2, 1)
    project = read_poetry_project(path.parent / "pyproject.toml", path)
    packages: list[LockedPackage] = []
    group_markers: dict[NormalizedName, dict[str, str | None]] = {}
    optional: set[NormalizedName] = set()
    edges: dict[NormalizedName, tuple[Edge, ...]] = {}
    package_extras: dict[NormalizedName, Mapping[str, frozenset[NormalizedName]]] = {
        _ROOT: _package_extras(check, data.get("extras"))
    }
    all_groups: dict[str, None] = {MAIN: None}
    for index, item in enumerate(check.typed("[[package]]", data.get("package"), list, [])):
        info = check.typed(f"package #{index + 1}", item, dict, {})
        raw_name = check.typed(f"package #{index + 1} name", info.get("name"), str, "")
        if not raw_name:
            raise RequirementsError(f"{path}: package #{index + 1} has no name")
        name = canonicalize_name(raw_name)
        version_text = check.typed(f"version of {raw_name!r}", info.get("version"), str, "")
        if version_text:
            check.version(version_text, raw_name)
        kind, location = _source(check, info)
        groups = _groups(check, raw_name, info, groups_and_markers)
        all_groups.update(dict.fromkeys(groups))
        marker_value = info.get("markers")
        if isinstance(marker_value, dict):
            by_group = {g: marker_value.get(g) for g in groups}
            if not all(m is None or isinstance(m, str) for m in by_group.values()):
                raise RequirementsError(f"{path}: markers of {raw_name!r} must be strings")
            group_markers[name] = by_group
            own = None
        else:
            own = check.typed(f"markers of {raw_name!r}", marker_value, str, "") or None
            group_markers[name] = dict.fromkeys(groups, own)
        if check.typed(f"optional of {raw_name!r}", info.get("optional"), bool, False):
            optional.add(name)
        edges[name] = _dependency_edges(check, info.get("dependencies"))
        package_extras[name] = _package_extras(check, info.get("extras"))
        packages.append(
            LockedPackage(name, version_text or None, kind, location, own, tuple(groups))
        )
    if project.name is not None and project.package_mode:
        root = LockedPackage(
            project.name, None, "editable", file_url(path.parent, "."), None, (MAIN,)
        )
        packages.append(root)
    all_groups.update(dict.fromkeys(project.groups))
    # The lock's extras, selectable as `extra:NAME` (poetry install -E NAME).
    all_groups.update(dict.fromkeys(f"extra:{extra}" for extra in package_extras[_ROOT]))
    return PoetryLock(
        path=path,
        tool="poetry",
        packages=tuple(packages),
        groups=tuple(all_groups),
        default_groups=project.default_groups or tuple(all_groups),
        project_name=project.name,
        groups_and_markers=groups_and_markers,
        group_markers=group_markers,
        optional=frozenset(optional),
        edges=edges,
        root_edges=project.edges,
        package_extras=package_extras,
        defaults_reason=project.defaults_reason,
    )


def _groups(
    check: Fields, raw_name: str, info: Mapping[str, object], groups_and_markers: bool
) -> list[str]:
    """2.1: `groups = [...]`; 1.x: `category = "main" | "dev"`; 2.0: none (the walk)."""
    if groups_and_markers:
        if "groups" not in info:  # poetry install stops on it (a KeyError: 'groups')
            raise RequirementsError(
                f"{check.path}: package {raw_name!r} has no groups, which lock-version 2.1 "
                "lists for every package (poetry install cannot read this lock)"
            )
        groups = check.typed(f"groups of {raw_name!r}", info.get("groups"), list, [])
        if not all(isinstance(group, str) for group in groups):
            raise RequirementsError(f"{check.path}: groups of {raw_name!r} must be strings")
        return [str(group) for group in groups]
    category = check.typed(f"category of {raw_name!r}", info.get("category"), str, "")
    return [category] if category else []
