"""`pip list`, `pip freeze` and `pip check`, computed in-process from an Inventory.

The output is meant to be identical to pip's own for the same environment; the tests
compare against pip itself.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import lru_cache, reduce
from pathlib import Path
from typing import Literal

from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag
from packaging.utils import NormalizedName

from envcore._git import find_checkout, pip_url
from envcore._metadata import read_file_bytes
from envcore.inspect import Distribution, Environment, Inventory

__all__ = ["DependencyProblem", "check", "freeze_lines", "list_json"]

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
    return [f"-e {requirement}"]


def _frozen(dist: Distribution) -> list[str]:
    if dist.editable_location is not None:
        return _editable_lines(dist, dist.editable_location)
    if dist.direct_url is not None:
        return [dist.direct_url.as_requirement(dist.name)]
    return [_name_version(dist)]


def freeze_lines(inventory: Inventory, *, include_all: bool = False) -> list[str]:
    """The lines `pip freeze` prints (comments included), sorted as pip sorts them."""
    skip = set(_STDLIB_PKGS)
    if not include_all:
        skip.add("pip")
        if _version_tuple(inventory.environment) < (3, 12):
            skip.update({"setuptools", "wheel", "distribute"})
    lines: list[str] = []
    for dist in sorted(inventory.distributions, key=lambda d: d.name.lower()):
        if dist.canonical_name not in skip:
            lines.extend(_frozen(dist))
    return lines


def _version_tuple(env: Environment) -> tuple[int, ...]:
    if not env.python_version:
        return tuple(sys.version_info[:2])
    return tuple(int(part) for part in env.python_version.split(".")[:2])


@dataclass(frozen=True, slots=True)
class DependencyProblem:
    """One `pip check` finding."""

    kind: Literal["missing", "conflict", "unsupported"]
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
        return f"{self.requirement} {self.version} is not supported on this platform"


@lru_cache(maxsize=32)
def _supported_tags(version: tuple[int, ...]) -> frozenset[Tag]:
    """The tags a CPython of that version installs, as pip computes them (a constant table)."""
    return frozenset(cpython_tags(version)) | frozenset(compatible_tags(version))


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
    if env.layout == "windows" or env.implementation.lower() != "cpython":
        return []
    version = _version_tuple(env)
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
            data = read_file_bytes(f"{dist.metadata_dir}{os.sep}WHEEL")
        except OSError:
            continue
        if universal[0] in data or universal[1] in data:
            continue
        tag_lines = _wheel_tags(data)
        try:
            tags = reduce(frozenset.union, map(parse_tag, tag_lines), frozenset[Tag]())
        except ValueError:  # a malformed tag: pip cannot judge it either
            continue
        if tags.isdisjoint(_supported_tags(version)):  # no tags at all: pip says so too
            found.append(dist)
    return found


def check(inventory: Inventory) -> tuple[DependencyProblem, ...]:
    """What `pip check` reports, with markers evaluated for the environment's own Python."""
    installed = {d.canonical_name: d for d in reversed(inventory.distributions)}
    dependencies = inventory.dependencies
    missing: list[DependencyProblem] = []
    conflicting: list[DependencyProblem] = []
    for dist in inventory.distributions:
        if installed[dist.canonical_name] is not dist:
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
    return tuple(missing + conflicting + unsupported)
