"""pylock.toml (PEP 751) read, validated and selected by `packaging.pylock`, the standard's
own reference code; this module only says where each selected package comes from.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.pylock import (
    Package,
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    PackageWheel,
    Pylock,
    PylockSelectError,
    PylockUnsupportedVersionError,
    PylockValidationError,
)
from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from envcore._pep508 import MARKER_ERRORS, evaluate_marker
from envcore.errors import MarkerError, RequirementsError
from envcore.locks import LockedPackage, LockFile, LockSelection, SourceKind
from envcore.locks._read import file_url, read_toml, without_credentials
from envcore.locks._select import groups_phrase, selection_line
from envcore.requirements._text import one_line

__all__ = ["PylockFile", "read_pylock"]

Artifact = PackageVcs | PackageDirectory | PackageArchive | PackageWheel | PackageSdist
_LOCATION = re.compile(r" in '[^']*'$")


def _one_line(path: Path, exc: Exception) -> RequirementsError:
    """packaging's message in one line: a marker error spans three (the text and a caret);
    its first line and where it is in the file are kept."""
    lines = str(exc).splitlines() or [type(exc).__name__]
    message = lines[0][:200]
    where = _LOCATION.search(lines[-1])
    if len(lines) > 1 and where is not None:
        message += where.group()
    return RequirementsError(f"{path}: {' '.join(message.split())}")


@dataclass(frozen=True)
class PylockFile(LockFile):
    """A pylock.toml as packaging validated it."""

    pylock: Pylock | None = None

    def select(
        self,
        marker_environment: Mapping[str, str],
        *,
        groups: Sequence[str] | None = None,
        tags: object = None,
    ) -> LockSelection:
        """packaging's selection for the environment: `groups` instead of the lock's
        default groups (`extra:NAME` asks for an extra), wheels matched to `tags` (the
        environment's own). Without tags, those a CPython of the environment's version
        installs on this machine; for another interpreter or platform, any wheel of a
        package will do (which wheel an installer picks does not change the version), as
        the tags of the dashboard's own interpreter would be another environment's."""
        if self.pylock is None:
            raise RequirementsError(f"{self.path}: not read by read_pylock")
        chosen = None if groups is None else tuple(groups)
        extras = [canonicalize_name(g[6:]) for g in chosen or () if g.startswith("extra:")]
        dependency_groups = None if chosen is None else [g for g in chosen if ":" not in g]
        environment = dict(marker_environment)
        tags = tags if tags is not None else _environment_tags(marker_environment)
        try:
            selected = list(
                self.pylock.select(
                    environment=environment,  # type: ignore[arg-type]
                    tags=_tags(self.pylock, tags),
                    extras=extras,
                    dependency_groups=dependency_groups,
                )
            )
        except (PylockSelectError, InvalidWheelFilename, InvalidVersion) as exc:
            raise _one_line(self.path, exc) from exc
        except MARKER_ERRORS as exc:  # packaging evaluates them itself
            message = f"{self.path}: marker cannot be evaluated: {one_line(exc)}"
            raise RequirementsError(message) from exc
        packages = [_locked(self.path, package, artifact) for package, artifact in selected]
        names = {package.name for package in packages}
        skipped = [
            (_locked(self.path, package, None), str(package.marker))
            for package in self.pylock.packages
            if package.name not in names
            and package.marker is not None
            and not _for_any_group(self.path, self.pylock, package.marker, environment)
        ]
        in_groups = list(self.default_groups if chosen is None else chosen)
        why = "the lock's default groups" if chosen is None else "chosen"
        if not self.groups:
            picked = "every package (the lock has no groups)"
        else:
            picked = groups_phrase(in_groups, why)
        wheels = "wheels for its tags" if tags is not None else "any wheel (tags not checked)"
        return LockSelection(
            packages=tuple(sorted(packages, key=lambda package: package.name)),
            skipped=tuple(sorted(skipped, key=lambda pair: pair[0].name)),
            groups=tuple(in_groups),
            description=selection_line(self.path, picked, marker_environment, also=f", {wheels}"),
        )


def _environment_tags(marker_environment: Mapping[str, str]) -> frozenset[Tag] | None:
    """The wheel tags of a CPython environment on this machine, told by its markers."""
    version = marker_environment.get("python_version", "").split(".")
    if (
        marker_environment.get("implementation_name") != "cpython"
        or marker_environment.get("sys_platform") != sys.platform
        or len(version) != 2
        or not all(part.isdigit() for part in version)
    ):
        return None
    from envcore.environment import cpython_wheel_tags

    return cpython_wheel_tags((int(version[0]), int(version[1])))


def _tags(pylock: Pylock, tags: object) -> list[Tag]:
    """The tags to match wheels with: the environment's, or every tag a wheel of the lock
    has (so that any wheel matches)."""
    if isinstance(tags, Iterable):
        return [tag for tag in tags if isinstance(tag, Tag)]
    every: set[Tag] = set()
    for package in pylock.packages:
        for wheel in package.wheels or ():
            try:
                every.update(parse_wheel_filename(wheel.filename)[3])
            except InvalidWheelFilename:
                continue
    return sorted(every, key=str)


def _for_any_group(
    path: Path, pylock: Pylock, marker: Marker, environment: Mapping[str, str]
) -> bool:
    """Whether a package's marker holds for the environment with every extra and group:
    false means the environment itself rules it out (not applicable); true means only a
    group or extra not asked for left it out (not listed, as for any other lock)."""
    everything: dict[str, Any] = {
        **environment,
        "extras": frozenset(pylock.extras or ()),
        "dependency_groups": frozenset(pylock.dependency_groups or ()),
    }
    try:
        return evaluate_marker(marker, everything, context="lock_file")
    except MarkerError as exc:
        raise RequirementsError(f"{path}: {exc}") from exc


def _locked(path: Path, package: Package, artifact: Artifact | None) -> LockedPackage:
    kind, location = _source(path, package, artifact)
    return LockedPackage(
        name=package.name,
        version=str(package.version) if package.version is not None else None,
        source=kind,
        location=location,
        marker=str(package.marker) if package.marker is not None else None,
    )


def _source(
    path: Path, package: Package, artifact: Artifact | None
) -> tuple[SourceKind, str | None]:
    """The kind of source and its location (file: URLs relative to the lock's directory)."""
    base = path.parent.absolute()
    artifact = artifact or package.vcs or package.directory or package.archive
    subdirectory = getattr(artifact, "subdirectory", None)
    fragment = f"#subdirectory={subdirectory}" if subdirectory else ""
    if isinstance(artifact, PackageVcs):
        if artifact.url:
            where = without_credentials(artifact.url)
        else:
            where = file_url(base, artifact.path or ".")
        return "vcs", f"{artifact.type}+{where}@{artifact.commit_id}{fragment}"
    if isinstance(artifact, PackageDirectory):
        kind: SourceKind = "editable" if artifact.editable else "path"
        return kind, file_url(base, artifact.path)
    if isinstance(artifact, PackageArchive):
        if artifact.url:
            return "url", without_credentials(artifact.url) + fragment
        return "path", file_url(base, artifact.path or ".") + fragment
    return "index", without_credentials(package.index) if package.index else None


def read_pylock(path: Path) -> PylockFile:
    """Read and validate a pylock.toml with packaging; RequirementsError (one line naming
    the file) for anything packaging refuses."""
    path = Path(path)
    data = read_toml(path)
    warnings: tuple[str, ...] = ()
    version = data.get("lock-version")
    if isinstance(version, str):
        try:
            parsed = Version(version)
        except InvalidVersion:
            parsed = None
        if parsed is not None and Version("1.0") < parsed < Version("2"):
            # packaging logs this to stderr; said here instead, as a warning of the file
            warnings = (f"{path}: lock-version {version} is newer than 1.0; read as 1.0",)
            data = {**data, "lock-version": "1.0"}
    try:
        pylock = Pylock.from_dict(data)
    except PylockUnsupportedVersionError as exc:
        raise RequirementsError(
            f"{path}: lock-version {version} is not one envdash reads (it reads 1.x)"
        ) from exc
    except (PylockValidationError, ValueError, TypeError) as exc:
        raise _one_line(path, exc) from exc
    packages = tuple(_locked(path, package, None) for package in pylock.packages)
    here = file_url(path.parent.absolute(), ".")  # normalised as locations are (`..`)
    project = next(
        (p.name for p in packages if p.source in ("editable", "path") and p.location == here),
        None,
    )
    extras = tuple(f"extra:{extra}" for extra in pylock.extras or ())
    return PylockFile(
        path=path,
        tool="pylock",
        packages=packages,
        groups=(*(pylock.dependency_groups or ()), *extras),
        default_groups=tuple(pylock.default_groups or ()),
        project_name=project,
        warnings=warnings,
        pylock=pylock,
    )
