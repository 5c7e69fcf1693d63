"""What each installed distribution could be upgraded to, the way pip would choose.

For every distribution installed from an index: the latest release, the latest release
the project's requirement (and constraints) allow, and the size of the jump. A release
counts only if one of its files can install on the environment's Python (Requires-Python
and wheel tags); yanked releases only when the requirement pins exactly that version
(PEP 592); pre-releases only when asked for, already installed, or named by the
specifier, as pip does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from envcore._pep508 import is_project_name
from envcore.distributions import Inventory
from envcore.environment import Environment
from envcore.errors import RequirementsError
from envcore.index import FileLink, IndexClient, ProjectFiles
from envcore.locks import is_lock_file
from envcore.locks.freshness import declared_ranges
from envcore.requirements import ParsedRequirements, load_requirements
from envcore.versions import parse_specifier, parse_version, satisfies

__all__ = [
    "Jump",
    "OutdatedReport",
    "PackageUpdate",
    "allowed_by",
    "available_versions",
    "jump",
    "outdated",
]

Jump = Literal["major", "minor", "patch", "none"]
Status = Literal["up-to-date", "upgradable", "unknown", "not-from-index"]
#: How many versions a "choose a version" list offers, newest first.
MAX_CHOICES = 30


@dataclass(frozen=True)
class Release:
    version: Version
    yanked: bool


@dataclass(frozen=True)
class PackageUpdate:
    name: str
    installed: str
    latest: str | None
    latest_allowed: str | None
    specifier: str
    jump: Jump
    status: Status
    reason: str = ""
    choices: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def without_release(
        cls, name: str, installed: str, specifier: str, status: Status, reason: str
    ) -> PackageUpdate:
        """Nothing to offer: not installed from an index, or the indexes could not say."""
        return cls(name, installed, None, None, specifier, "none", status, reason)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "installed": self.installed,
            "latest": self.latest,
            "latest_allowed": self.latest_allowed,
            "specifier": self.specifier,
            "jump": self.jump,
            "status": self.status,
            "reason": self.reason,
            "choices": list(self.choices),
        }


@dataclass(frozen=True)
class OutdatedReport:
    packages: tuple[PackageUpdate, ...]

    @property
    def upgradable(self) -> tuple[PackageUpdate, ...]:
        return tuple(item for item in self.packages if item.status == "upgradable")

    def to_json(self) -> dict[str, object]:
        return {
            "upgradable": len(self.upgradable),
            "packages": [item.to_json() for item in self.packages],
        }


def _version_of(link: FileLink, name: str, tags: frozenset[Tag] | None) -> Version | None:
    try:
        if link.filename.endswith(".whl"):
            wheel_name, version, _, file_tags = parse_wheel_filename(link.filename)
            if canonicalize_name(wheel_name) != name:
                return None
            if tags is not None and file_tags.isdisjoint(tags):
                return None
            return version
        sdist_name, version = parse_sdist_filename(link.filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return version if canonicalize_name(sdist_name) == name else None


def available_versions(
    files: ProjectFiles, python_version: str, tags: frozenset[Tag] | None
) -> dict[Version, Release]:
    """Installable releases: a file for this Python (Requires-Python, tags) exists."""
    releases: dict[Version, Release] = {}
    for link in files.files:
        version = _version_of(link, files.name, tags)
        if version is None:
            continue
        if link.requires_python:
            requires_python = parse_specifier(link.requires_python)
            # pip ignores a file whose Requires-Python it cannot read
            if requires_python is None or not satisfies(requires_python, python_version):
                continue
        known = releases.get(version)
        # A release is yanked only when every one of its files is.
        releases[version] = Release(version, link.yanked and (known is None or known.yanked))
    return releases


def jump(installed: Version, target: Version) -> Jump:
    old, new = (*installed.release, 0, 0), (*target.release, 0, 0)
    if target <= installed:
        return "none"
    if new[0] != old[0]:
        return "major"
    if new[1] != old[1]:
        return "minor"
    return "patch"


def _pick(
    releases: Mapping[Version, Release],
    specifier: SpecifierSet,
    *,
    allow_pre: bool,
) -> Version | None:
    pinned = {
        version
        for spec in specifier
        if spec.operator in {"==", "==="} and "*" not in spec.version
        for version in [parse_version(spec.version)]
        if version is not None
    }
    best: Version | None = None
    for version, release in releases.items():
        if release.yanked and version not in pinned:
            continue
        if version.is_prerelease and not allow_pre and version not in pinned:
            continue
        if not specifier.contains(version, prereleases=True):
            continue
        if best is None or version > best:
            best = version
    return best


def _specifiers(parsed: ParsedRequirements | None, env: Environment) -> dict[str, SpecifierSet]:
    """Per name: every requirement and constraint that applies to this environment."""
    result: dict[str, SpecifierSet] = {}
    if parsed is None:
        return result
    marker_env = env.marker_environment()
    for entry in parsed.entries:
        if entry.name is None or not entry.applies_to(marker_env):
            continue
        spec = parse_specifier(entry.specifier)
        if spec is None:
            continue
        result[entry.name] = result.get(entry.name, SpecifierSet()) & spec
    return result


def allowed_by(
    source: Path,
    marker_environment: Mapping[str, str],
    *,
    roots: Sequence[Path | str] | None = None,
) -> ParsedRequirements:
    """What "latest allowed" is held to: for a lock, the ranges its project declares (the
    lock's pins would make the allowed version the installed one); for a lock without a
    readable declaring file, and for any other file, the file itself (a lock selected for
    `marker_environment`). Raises RequirementsError as `load_requirements` does."""
    if is_lock_file(source):
        try:
            declared = declared_ranges(source, marker_environment, roots=roots)
        except RequirementsError:
            declared = None  # a broken pyproject.toml: the lock still says something
        if declared is not None:
            return declared
    return load_requirements(source, roots=roots, environment=marker_environment)


def outdated(
    env: Environment,
    inventory: Inventory,
    client: IndexClient,
    requirements: ParsedRequirements | None = None,
    *,
    pre: bool = False,
    names: Iterable[str] | None = None,
) -> OutdatedReport:
    """Upgrade information for every distribution installed from an index."""
    wanted = {canonicalize_name(name) for name in names} if names is not None else None
    dists = [
        dist for dist in inventory.distributions if wanted is None or dist.canonical_name in wanted
    ]
    # Editable and VCS checkouts follow their source, not releases; a wheel installed from
    # a file or URL is still a release of its project (pip list --outdated checks it too).
    checkable = {"index", "local", "url"}
    # A name that is no project name (planted METADATA: `Name: red\x1b]0;…`) is asked of
    # no index: it names no project there, and urllib refuses a URL holding a control.
    from_index = [dist for dist in dists if dist.source in checkable and is_project_name(dist.name)]
    pages = client.many(dist.canonical_name for dist in from_index)
    tags = env.supported_tags()
    python_version = env.python_version or "0"
    specifiers = _specifiers(requirements, env)
    items: list[PackageUpdate] = []
    for dist in sorted(dists, key=lambda d: d.canonical_name):
        spec = specifiers.get(dist.canonical_name, SpecifierSet())
        name, shown, spec_text = dist.name, dist.display_version, str(spec)
        installed = dist.parsed_version
        if dist.source not in checkable or installed is None:
            reason = (
                f"installed as {dist.source}" if dist.source not in checkable else "invalid version"
            )
            items.append(
                PackageUpdate.without_release(name, shown, spec_text, "not-from-index", reason)
            )
            continue
        page = pages.get(dist.canonical_name)
        if page is None:
            reason = "invalid name in its metadata"  # as freeze says it
            items.append(PackageUpdate.without_release(name, shown, spec_text, "unknown", reason))
            continue
        releases = available_versions(page, python_version, tags)
        if not releases:
            reason = page.error or "no installable release found on the indexes"
            items.append(PackageUpdate.without_release(name, shown, spec_text, "unknown", reason))
            continue
        allow_pre = (
            pre
            or installed.is_prerelease
            or any((v := parse_version(s.version)) is not None and v.is_prerelease for s in spec)
        )
        latest = _pick(releases, SpecifierSet(), allow_pre=pre or installed.is_prerelease)
        allowed = _pick(releases, spec, allow_pre=allow_pre)
        # As `pip list --outdated`: upgradable when a newer release exists at all; the
        # allowed column says how far the requirement lets it go.
        status: Status = "upgradable" if latest is not None and latest > installed else "up-to-date"
        choices = tuple(
            str(version)
            for version in sorted(releases, reverse=True)
            if not releases[version].yanked
        )[:MAX_CHOICES]
        items.append(
            PackageUpdate(
                name=name,
                installed=shown,
                specifier=spec_text,
                latest=str(latest) if latest else None,
                latest_allowed=str(allowed) if allowed else None,
                jump=jump(installed, latest) if latest is not None else "none",
                status=status,
                reason=page.error,
                choices=choices,
            )
        )
    return OutdatedReport(tuple(items))
