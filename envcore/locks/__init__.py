"""Lock files read as their tools read them: uv.lock, pylock.toml (PEP 751), poetry.lock and
Pipfile.lock.

A reader turns one file into a `LockFile`: every locked package with its exact version, the
kind of source it comes from and the groups it belongs to. `LockFile.select` then picks what
the lock's own tool would install into one environment (markers evaluated for that
environment's interpreter, the tool's default groups unless others are asked for) and says
which selection it made. `lock_requirements` turns a selection into the `ParsedRequirements`
that drift compares with, so a lock needs no special case after it has been read: every
package that applies is an exact pin (`==version`, plus its URL or editable path when it
does not come from an index), every package whose marker is false is a `not-applicable`
entry.

Nothing is fetched, built or executed, and nothing a lock file names is followed: a URL or
path in a lock is data to compare an install's recorded origin with.

Readers: `_uv` (uv.lock), `_pylock` (pylock.toml and pylock.*.toml, through
`packaging.pylock`), `_poetry` (poetry.lock), `_pipenv` (Pipfile.lock).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from packaging.utils import NormalizedName

if TYPE_CHECKING:
    from packaging.tags import Tag

from envcore.errors import RequirementsError
from envcore.requirements._entry import (
    ParsedRequirements,
    ParseIssue,
    RequirementEntry,
    RequirementsOptions,
)
from envcore.requirements._roots import not_read, within_roots

__all__ = [
    "LOCK_TOOLS",
    "LockFile",
    "LockSelection",
    "LockedPackage",
    "SourceKind",
    "asked_groups",
    "is_lock_file",
    "load_lock",
    "lock_requirements",
    "lock_tool",
    "locked_version",
    "read_lock",
]

#: Where a locked package comes from; drift's `source-differs` compares this kind (and the
#: location, for everything but an index) with what the install recorded (PEP 610).
SourceKind = Literal["index", "url", "path", "vcs", "editable", "virtual"]

LockTool = Literal["uv", "pylock", "poetry", "pipenv"]
LOCK_TOOLS: tuple[LockTool, ...] = ("uv", "pylock", "poetry", "pipenv")


def lock_tool(path: Path | str) -> LockTool | None:
    """Which tool's lock a file is, by its name alone (None: not a lock file).

    `pylock.toml` and `pylock.NAME.toml` (PEP 751 names; NAME has no dot) are pylocks.
    """
    name = Path(path).name
    if name == "uv.lock":
        return "uv"
    if name == "poetry.lock":
        return "poetry"
    if name == "Pipfile.lock":
        return "pipenv"
    if name == "pylock.toml" or (
        name.startswith("pylock.") and name.endswith(".toml") and name.count(".") == 2
    ):
        return "pylock"
    return None


def is_lock_file(path: Path | str) -> bool:
    return lock_tool(path) is not None


@dataclass(frozen=True, slots=True)
class LockedPackage:
    """One package as the lock pins it."""

    name: NormalizedName
    #: The exact version; None only where the lock records none (a `virtual` root, a
    #: directory whose version is read at build time).
    version: str | None
    source: SourceKind
    #: The URL (`url`, `vcs` with its commit as `@rev`) or `file:` URL (`path`, `editable`)
    #: the package comes from; the index URL, when the lock records one, for `index`.
    location: str | None
    #: The package's own marker as the lock writes it (None: no marker of its own; for uv,
    #: whose markers are on the dependency edges, None).
    marker: str | None
    #: The groups (dependency groups, poetry groups, Pipfile sections) and extras it is in,
    #: as the tool names them (`main`/`default`, `dev`, `develop`, `extra:NAME`...).
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class LockSelection:
    """What the lock's tool would install into one environment, and why."""

    packages: tuple[LockedPackage, ...]
    #: Packages left out, each with a marker that is false for the environment; they become
    #: drift's `not-applicable` entries. Packages of groups not selected are not listed.
    skipped: tuple[tuple[LockedPackage, str], ...]
    #: The groups (and extras) selected.
    groups: tuple[str, ...]
    #: One line for pages and the CLI: "uv.lock: groups main, dev (uv sync's defaults);
    #: markers for CPython 3.11 on linux".
    description: str


@dataclass(frozen=True)
class LockFile:
    """A lock file read and validated; `select` is the tool's own selection."""

    path: Path
    tool: LockTool
    packages: tuple[LockedPackage, ...]
    #: Every group (and extra) the lock knows, and those its tool installs by default.
    groups: tuple[str, ...]
    default_groups: tuple[str, ...]
    #: The project the lock belongs to (never "untracked" in its own environment).
    project_name: NormalizedName | None = None
    #: Warnings found while reading (one line each, with the file name).
    warnings: tuple[str, ...] = field(default=())

    def select(
        self,
        marker_environment: Mapping[str, str],
        *,
        groups: Sequence[str] | None = None,
        tags: object = None,
    ) -> LockSelection:
        """What to install for an environment (`Environment.marker_environment()`), with
        `groups` (and `extra:NAME` extras) asked for beside the tool's defaults where the
        tool adds them (`uv sync --group`). Each reader overrides this."""
        raise NotImplementedError


def read_lock(path: Path | str) -> LockFile:
    """Read and validate one lock file; RequirementsError (one line, naming the file) when it
    cannot be read: not a lock, unreadable, larger than the text limit, not TOML/JSON, an
    unknown lock version, a field of the wrong type. Kept while unchanged (see _cache)."""
    path = Path(path)
    tool = lock_tool(path)
    reader: Callable[[Path], LockFile]
    if tool == "uv":
        from envcore.locks._uv import read_uv_lock

        reader = read_uv_lock
    elif tool == "pylock":
        from envcore.locks._pylock import read_pylock

        reader = read_pylock
    elif tool == "poetry":
        from envcore.locks._poetry import read_poetry_lock

        reader = read_poetry_lock
    elif tool == "pipenv":
        from envcore.locks._pipenv import read_pipfile_lock

        reader = read_pipfile_lock
    else:
        raise RequirementsError(f"{path} is not a lock file envdash reads")
    from envcore.locks._cache import read_cached

    try:
        return read_cached(path, reader)
    except ValueError as exc:
        # A reader's last line of defence: a value urllib or packaging refuses (a URL such
        # as `http://[x/`) is the file's fault, one line naming it, never a traceback that
        # stops a whole dashboard scan.
        raise RequirementsError(f"{path}: {' '.join(str(exc).split())}") from exc


def _entry(lock: LockFile, package: LockedPackage, marker: str | None) -> RequirementEntry:
    """A locked package as an exact requirement: drift and sync need no special case."""
    url = package.location if package.source != "index" else None
    # A URL requirement carries its version only for comparison: `requirement` then reads
    # `name @ url`, as pip is given it.
    specifier = f"=={package.version}" if package.version is not None and url is None else ""
    return RequirementEntry(
        name=package.name,
        raw_name=package.name,
        specifier=specifier,
        marker=marker,
        extras=(),
        editable=package.source == "editable",
        url=url,
        constraint=False,
        hashes=(),
        source=f"{lock.path.name} ({package.name})",
        path=lock.path,
        line_number=0,
        text=f"{package.name}=={package.version}" if package.version else package.name,
    )


def locked_version(entry: RequirementEntry) -> str | None:
    """The version a lock records for an entry `lock_requirements` made (a URL entry's
    version is no specifier: the URL decides what is installed); None for other entries."""
    if not is_lock_file(entry.path) or entry.line_number != 0:
        return None
    _name, separator, version = entry.text.partition("==")
    return version if separator else None


def lock_requirements(lock: LockFile, selection: LockSelection) -> ParsedRequirements:
    """The selection as what drift and sync read: an exact pin per package that applies, a
    `not-applicable` entry (its false marker) per package skipped for this environment."""
    entries = [_entry(lock, package, None) for package in selection.packages]
    entries += [_entry(lock, package, marker) for package, marker in selection.skipped]
    return ParsedRequirements(
        entries=tuple(entries),
        errors=(),
        options=RequirementsOptions(),
        files=(lock.path,),
        warnings=tuple(ParseIssue(str(lock.path), text) for text in lock.warnings),
        project_name=lock.project_name,
        selection=selection.description,
    )


def asked_groups(groups: Iterable[str] | None, extras: Iterable[str] | None) -> list[str] | None:
    """A command line's `--group`s and `--extra`s as a lock's group names (an extra is the
    group `extra:NAME`); None when nothing is asked for: the tool's defaults."""
    asked = [*(groups or ()), *(f"extra:{extra}" for extra in extras or ())]
    return asked or None


def load_lock(
    path: Path | str,
    marker_environment: Mapping[str, str],
    *,
    groups: Sequence[str] | None = None,
    extras: Sequence[str] | None = None,
    roots: Sequence[Path | str] | None = None,
    tags: Iterable[Tag] | None = None,
) -> ParsedRequirements:
    """`read_lock` + `select` + `lock_requirements`; a lock outside `roots` is not opened.

    `groups` empty is the tool's default groups, as None is: a command line's `--group`
    not given is an empty list, and means "what the tool installs", not "no groups".
    `extras` are asked for as the lock's `extra:NAME` groups.
    `tags`: the environment's wheel tags (`Environment.supported_tags()`), for pylocks.
    """
    path = Path(path)
    if not within_roots(path, roots):
        return not_read(path)
    lock = read_lock(path)
    selection = lock.select(marker_environment, groups=asked_groups(groups, extras), tags=tags)
    return lock_requirements(lock, selection)
