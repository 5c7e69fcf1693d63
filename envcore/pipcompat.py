"""`pip list`, `pip freeze` and `pip check`, computed in-process from an Inventory.

The output is meant to be identical to pip's own for the same environment; the tests
compare against pip itself.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Literal

from packaging.tags import Tag, parse_tag
from packaging.utils import NormalizedName

from envcore._files import read_bytes
from envcore._git import find_checkout, pip_url
from envcore._pep508 import is_project_name
from envcore.distributions import Distribution, Inventory
from envcore.environment import cpython_wheel_tags

__all__ = [
    "DependencyProblem",
    "Frozen",
    "check",
    "freeze",
    "list_json",
    "safe_editable_location",
    "skipped_note",
    "unsafe_reason",
]

#: Never listed by pip list / pip freeze (pip's `stdlib_pkgs`).
_STDLIB_PKGS = frozenset({"python", "wsgiref", "argparse"})


def list_json(inventory: Inventory) -> list[dict[str, str]]:
    """The objects `pip list --format=json` prints, in the same order."""
    rows = []
    for dist in sorted(inventory.distributions, key=lambda d: d.canonical_name):
        if dist.canonical_name in _STDLIB_PKGS:
            continue
        row = {"name": dist.name, "version": dist.display_version}
        if dist.editable_location is not None:
            row["editable_project_location"] = dist.editable_location
        rows.append(row)
    return rows


#: A version that is not PEP 440 but may still follow `===`: one word, no option, no marker.
_SAFE_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+!*-]*")
#: What may follow `name @` or `-e` in a file pip reads: one word of printable characters.
_ONE_WORD = re.compile(r"[^\s\x00-\x1f\x7f]+")
_URL_SCHEMES = ("file:", "https:", "http:")
_VCS_NAMES = frozenset({"git", "hg", "svn", "bzr"})
_VCS_URL = re.compile(r"(?:git|hg|svn|bzr)\+(?:https?|ssh|git|file|svn)://", re.IGNORECASE)


def _one_word(text: str | None) -> bool:
    return text is None or bool(_ONE_WORD.fullmatch(text))


def safe_editable_location(location: str) -> bool:
    """Whether `-e <location>` names only what it says: an existing absolute directory,
    one word (pip splits requirement-file options at spaces) that is not an option."""
    return (
        os.path.isabs(location)
        and not location.startswith("-")
        and bool(_ONE_WORD.fullmatch(location))
        and os.path.isdir(location)
    )


def unsafe_reason(dist: Distribution) -> str:
    """Why `dist`'s metadata must not be written where pip reads it ('' when it may).

    Metadata is text anyone can plant: a folded `Version:` header carries a second line
    (`-e ../evil`) and a Name can hold `--index-url=...`. Such a line in a requirements
    file is an option to pip, and an `-e` runs the project's setup.py.
    """
    if not is_project_name(dist.name):
        return "invalid name in its metadata"
    if dist.parsed_version is None and not _SAFE_VERSION.fullmatch(dist.version):
        return "invalid version in its metadata"
    if dist.editable_location is not None:
        if not safe_editable_location(dist.editable_location):
            return "its editable location is not an existing absolute directory without spaces"
    elif dist.direct_url is not None:
        direct = dist.direct_url
        scheme_ok = (
            direct.url.startswith(_URL_SCHEMES)
            if direct.vcs is None
            else direct.vcs in _VCS_NAMES and bool(_VCS_URL.match(f"{direct.vcs}+{direct.url}"))
        )
        words = (direct.url, direct.vcs, direct.commit_id, direct.archive_hash, direct.subdirectory)
        if not scheme_ok or not all(_one_word(word) for word in words):
            return "invalid URL in its direct_url.json"
    return ""


def skipped_note(dist: Distribution) -> str:
    """`skipped <name>: <reason>` when `dist` must be left out of a requirements file, ''
    otherwise; an invalid name is shown quoted, so its line breaks stay visible."""
    reason = unsafe_reason(dist)
    if not reason:
        return ""
    shown = dist.name if is_project_name(dist.name) else repr(dist.name)
    return f"skipped {shown}: {reason}"


def _name_version(dist: Distribution) -> str:
    if dist.parsed_version is None:
        return f"{dist.name}==={dist.version}"
    return f"{dist.name}=={dist.parsed_version}"


def _editable_lines(dist: Distribution, editable_location: str) -> list[str]:
    location = os.path.normcase(os.path.abspath(editable_location))
    checkout = find_checkout(Path(location))
    display = _name_version(dist)
    if checkout is None:
        return [f"# Editable install with no version control ({display})", f"-e {location}"]
    remote = checkout.remote_url()
    if remote is None:
        return [f"# Editable Git install with no remote ({display})", f"-e {location}"]
    commit = checkout.head_commit()
    requirement = f"git+{pip_url(remote)}@{commit}#egg={dist.name.replace('-', '_')}"
    subdirectory = os.path.relpath(location, checkout.root)
    if subdirectory != ".":
        requirement += f"&subdirectory={subdirectory}"
    if not (_VCS_URL.match(requirement) and _one_word(requirement)):
        # .git/config is on disk too: a remote pip could read as more than a URL.
        return [f"# Editable Git install with an unusable remote ({display})", f"-e {location}"]
    return [f"-e {requirement}"]


def _frozen(dist: Distribution) -> list[str]:
    if dist.editable_location is not None:
        return _editable_lines(dist, dist.editable_location)
    if dist.direct_url is not None:
        return [dist.direct_url.as_requirement(dist.name)]
    return [_name_version(dist)]


@dataclass(frozen=True)
class Frozen:
    """`pip freeze`'s lines, less the distributions whose metadata could inject into a
    requirements file; `skipped` says which (`skipped <name>: <reason>`)."""

    lines: tuple[str, ...]
    skipped: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "".join(f"{line}\n" for line in self.lines)


def freeze(inventory: Inventory, *, include_all: bool = False) -> Frozen:
    """The lines `pip freeze` prints (comments included), sorted as pip sorts them.

    Identical to pip for valid metadata. A distribution whose name, version, editable
    location or direct URL is not plainly valid is skipped and reported, where pip would
    print whatever its metadata says.
    """
    skip = set(_STDLIB_PKGS)
    if not include_all:
        skip.add("pip")
        if (inventory.environment.version_info or sys.version_info[:2]) < (3, 12):
            skip.update({"setuptools", "wheel", "distribute"})
    lines: list[str] = []
    skipped: list[str] = []
    for dist in sorted(inventory.distributions, key=lambda d: d.name.lower()):
        if dist.canonical_name in skip:
            continue
        note = skipped_note(dist)
        if note:
            skipped.append(note)
        else:
            lines.extend(_frozen(dist))
    return Frozen(tuple(lines), tuple(skipped))


@dataclass(frozen=True, slots=True)
class DependencyProblem:
    """One `pip check` finding. `unreadable` is what pip warns about on stderr (a
    distribution whose dependencies it cannot read); `requirement` holds the reason."""

    kind: Literal["missing", "conflict", "unsupported", "unreadable"]
    name: NormalizedName
    version: str
    requirement: str
    dependency: NormalizedName | None = None
    installed_version: str | None = None

    def __str__(self) -> str:
        if self.kind == "missing":
            return f"{self.name} {self.version} requires {self.dependency}, which is not installed."
        if self.kind == "conflict":
            return (
                f"{self.name} {self.version} has requirement {self.requirement}, "
                f"but you have {self.dependency} {self.installed_version}."
            )
        if self.kind == "unreadable":
            return self.requirement
        return f"{self.requirement} {self.version} is not supported on this platform"


def _wheel_tags(data: bytes) -> list[str]:
    """The `Tag:` values of a WHEEL file (tiny, read without a header parser)."""
    return [
        line[4:].strip().decode("ascii", "replace")
        for line in data.splitlines()
        if line[:4].lower() == b"tag:"
    ]


def _unsupported_dists(inventory: Inventory) -> list[Distribution]:
    """Installed wheels none of whose tags this interpreter supports (pip check's last part)."""
    env = inventory.environment
    version = env.cpython_version
    if version is None:
        return []
    # Pure-Python wheels, most of any environment, carry one of these lines: a wheel with
    # one supported tag is supported, so no table and no parsing is needed for them.
    universal = (
        f"Tag: py{version[0]}-none-any\n".encode(),
        f"Tag: py{version[0]}{version[1]}-none-any\n".encode(),
    )
    site_packages = env.site_packages
    found = []
    for dist in inventory.distributions:
        if (
            dist.canonical_name in _STDLIB_PKGS
            or dist.location not in site_packages
            or not dist.metadata_dir.endswith(".dist-info")
        ):
            continue
        try:
            data = read_bytes(f"{dist.metadata_dir}{os.sep}WHEEL")
        except OSError:
            continue
        if universal[0] in data or universal[1] in data:
            continue
        tag_lines = _wheel_tags(data)
        try:
            tags = reduce(frozenset.union, map(parse_tag, tag_lines), frozenset[Tag]())
        except ValueError:  # a malformed tag: pip cannot judge it either
            continue
        if tags.isdisjoint(cpython_wheel_tags(version)):  # no tags at all: pip says so too
            found.append(dist)
    return found


def check(inventory: Inventory) -> tuple[DependencyProblem, ...]:
    """What `pip check` reports, with markers evaluated for the environment's own Python.

    A distribution whose dependencies cannot be read comes first, as pip's warning does;
    pip then leaves it out of what is installed (what requires it is told it is missing),
    and so does this.
    """
    dependencies = inventory.dependencies
    unreadable = inventory.unreadable_dependencies
    installed = {
        d.canonical_name: d for d in reversed(inventory.distributions) if id(d) not in unreadable
    }
    warned = [
        DependencyProblem("unreadable", dist.canonical_name, dist.display_version, reason)
        for dist in inventory.distributions
        if (reason := unreadable.get(id(dist))) is not None
    ]
    missing: list[DependencyProblem] = []
    conflicting: list[DependencyProblem] = []
    for dist in inventory.distributions:
        if installed.get(dist.canonical_name) is not dist:
            continue
        found_missing: dict[str, DependencyProblem] = {}
        found_conflicts: dict[str, DependencyProblem] = {}
        for dependency, requirement in dependencies[id(dist)]:
            other = installed.get(dependency)
            if other is None:
                problem = DependencyProblem(
                    "missing",
                    dist.canonical_name,
                    dist.display_version,
                    str(requirement),
                    dependency,
                )
                found_missing[str((dependency, requirement))] = problem
                continue
            version = other.parsed_version
            if version is None or not requirement.specifier:
                continue
            if not requirement.specifier.contains(version, prereleases=True):
                problem = DependencyProblem(
                    "conflict",
                    dist.canonical_name,
                    dist.display_version,
                    str(requirement),
                    dependency,
                    other.display_version,
                )
                found_conflicts[str((dependency, version, requirement))] = problem
        # pip sorts each package's findings by str() of its (name, ...) tuples.
        if found_missing:
            missing.extend(found_missing[key] for key in sorted(found_missing))
        if found_conflicts:
            conflicting.extend(found_conflicts[key] for key in sorted(found_conflicts))
    unsupported = [
        DependencyProblem("unsupported", dist.canonical_name, dist.display_version, dist.name)
        for dist in _unsupported_dists(inventory)
    ]
    return tuple(warned + missing + conflicting + unsupported)
