"""uv.lock's package tables read and checked: each `[[package]]` with its source and its
dependency entries, resolved to edges between packages (by name, and by version and
source where a resolution forked by markers locks several versions of one name)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from envcore.locks import LockedPackage, SourceKind
from envcore.locks._read import Fields, file_url, without_credentials
from envcore.text import url_parts

__all__ = [
    "SOURCE_KINDS",
    "Edge",
    "Node",
    "RawEdge",
    "RawPackage",
    "Resolver",
    "read_edge",
    "read_package",
]

#: uv.lock's `source` keys and the kind of source each is.
SOURCE_KINDS: dict[str, SourceKind] = {
    "registry": "index",
    "git": "vcs",
    "url": "url",
    "path": "path",
    "directory": "path",
    "editable": "editable",
    "virtual": "virtual",
}


@dataclass(frozen=True, slots=True)
class Edge:
    """A dependency: the node it leads to, the marker that must hold, the extras it asks."""

    target: int
    marker: str | None
    extras: frozenset[NormalizedName]


@dataclass(frozen=True, slots=True)
class Node:
    """One `[[package]]` with its edges resolved to other nodes' indexes."""

    package: LockedPackage
    dependencies: tuple[Edge, ...]
    extras: Mapping[NormalizedName, tuple[Edge, ...]]
    groups: Mapping[NormalizedName, tuple[Edge, ...]]


@dataclass(frozen=True, slots=True)
class RawEdge:
    """A dependency entry as written (`{ name, version?, source?, marker?, extra? }`)."""

    name: NormalizedName
    version: str | None
    source: str | None
    marker: str | None
    extras: frozenset[NormalizedName]
    where: str


@dataclass(slots=True)
class RawPackage:
    """A `[[package]]` as written, before its dependency entries are resolved."""

    name: NormalizedName
    version: str | None
    kind: SourceKind
    location: str | None
    source_key: str
    dependencies: list[RawEdge]
    extras: dict[NormalizedName, list[RawEdge]]
    groups: dict[NormalizedName, list[RawEdge]]


def read_package(
    check: Fields, table: Mapping[str, object], where: str, base_dir: Path
) -> RawPackage:
    name = check.name(table.get("name"), f"{where}.name")
    where = f"package {name!r}:"
    version = check.optional_string(table, "version", where)
    if version is not None:
        check.version(version, name)
    kind, location, key = read_source(check, table.get("source"), f"{where} source", base_dir)

    def edge_lists(field_name: str) -> dict[NormalizedName, list[RawEdge]]:
        lists = check.table(table.get(field_name, {}), f"{where} {field_name}")
        return {
            canonicalize_name(key): [
                read_edge(check, entry, f"{where} {field_name}.{key}[{index}]")
                for index, entry in enumerate(check.tables(entries, f"{where} {field_name}.{key}"))
            ]
            for key, entries in lists.items()
        }

    return RawPackage(
        name=name,
        version=version,
        kind=kind,
        location=location,
        source_key=key,
        dependencies=[
            read_edge(check, entry, f"{where} dependencies[{index}]")
            for index, entry in enumerate(
                check.tables(table.get("dependencies", []), f"{where} dependencies")
            )
        ],
        extras=edge_lists("optional-dependencies"),
        groups=edge_lists("dev-dependencies"),
    )


def read_source(
    check: Fields, value: object, where: str, base_dir: Path
) -> tuple[SourceKind, str | None, str]:
    """(kind, location, the source as dependency entries name it)."""
    if value is None:
        check.fail(where, "is missing")
    table = check.table(value, where)
    key = next((key for key in SOURCE_KINDS if key in table), None)
    if key is None:
        check.fail(where, "names no kind of source uv knows")
    kind, text = SOURCE_KINDS[key], check.string(table[key], f"{where}.{key}")
    identity = f"{key}:{text}"
    if key == "git":
        return kind, git_location(check, text, where), identity
    if key == "url":
        location = without_credentials(text)
        subdirectory = check.optional_string(table, "subdirectory", where)
        if subdirectory:
            location += f"#subdirectory={subdirectory}"
        return kind, location, identity
    if key == "registry":
        # Data only (never given to an installer); a flat index may be a local directory.
        is_url = url_parts(text) is not None  # urllib would refuse some (`http://[`)
        location = without_credentials(text) if is_url else file_url(base_dir, text)
        return kind, location, identity
    return kind, file_url(base_dir, text), identity


def git_location(check: Fields, text: str, where: str) -> str:
    """`https://host/repo?rev=main#COMMIT` (uv's form) -> `git+https://host/repo@COMMIT`,
    with `#subdirectory=` when the query names one: pip's and PEP 610's form."""
    parts = urllib.parse.urlsplit(without_credentials(text))
    commit = parts.fragment
    if not commit:
        check.fail(where, "names a git source without its locked commit")
    query = urllib.parse.parse_qs(parts.query)
    url = urllib.parse.urlunsplit(parts._replace(query="", fragment=""))
    scheme = "" if parts.scheme.startswith("git") else "git+"
    location = f"{scheme}{url}@{commit}"
    subdirectory = query.get("subdirectory")
    if subdirectory:
        location += f"#subdirectory={subdirectory[0]}"
    return location


def read_edge(check: Fields, table: Mapping[str, object], where: str) -> RawEdge:
    extras = table.get("extra", [])
    source = table.get("source")
    source_key = None
    if source is not None:
        source_table = check.table(source, f"{where}.source")
        for key in SOURCE_KINDS:
            if key in source_table:
                source_key = f"{key}:{check.string(source_table[key], f'{where}.source.{key}')}"
                break
    marker_text = table.get("marker")
    return RawEdge(
        name=check.name(table.get("name"), f"{where}.name"),
        version=check.optional_string(table, "version", where),
        source=source_key,
        marker=None if marker_text is None else check.marker(marker_text, f"{where}.marker"),
        extras=frozenset(canonicalize_name(e) for e in check.strings(extras, f"{where}.extra")),
        where=where,
    )


class Resolver:
    """Dependency entries to node indexes: by name, and by version and source where the
    lock holds several versions of one name (a resolution forked by markers)."""

    def __init__(self, check: Fields, raw: Sequence[RawPackage]) -> None:
        self.check = check
        self.raw = raw
        self.by_name: dict[str, list[int]] = {}
        for index, item in enumerate(raw):
            self.by_name.setdefault(item.name, []).append(index)

    def edges(self, entries: Iterable[RawEdge]) -> tuple[Edge, ...]:
        return tuple(Edge(self.target(e), e.marker, e.extras) for e in entries)

    def target(self, entry: RawEdge) -> int:
        candidates = self.by_name.get(entry.name)
        if not candidates:
            self.check.fail(entry.where, f"names {entry.name}, which the lock does not list")
        if len(candidates) > 1 and entry.version is not None:
            candidates = [i for i in candidates if self.raw[i].version == entry.version]
        if len(candidates) > 1 and entry.source is not None:
            candidates = [i for i in candidates if self.raw[i].source_key == entry.source]
        if not candidates:
            self.check.fail(entry.where, f"names a version of {entry.name} the lock does not list")
        return candidates[0]
