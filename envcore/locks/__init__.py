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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from packaging.utils import NormalizedName

__all__ = [
    "LOCK_TOOLS",
    "LockFile",
    "LockSelection",
    "LockedPackage",
    "SourceKind",
    "is_lock_file",
    "lock_tool",
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
        `groups` instead of the tool's defaults when given. Each reader overrides this."""
        raise NotImplementedError
