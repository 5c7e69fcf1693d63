"""The distributions installed in an environment, read from their metadata in-process.

`read_inventory` lists them as pip would see them. Only the header block of METADATA is
read and parsed; the long description that follows (often most of the file) is never
decoded. This is what makes listing much faster than pip.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from envcore._direct_url import DirectUrl, read_direct_url
from envcore._files import METADATA_LIMIT, read_bytes, read_text
from envcore.environment import Environment
from envcore.errors import MetadataError

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from packaging.utils import NormalizedName
    from packaging.version import Version

# packaging's requirement, marker and specifier parsers (with envcore._pep508 and
# envcore.versions) are imported by the functions that parse dependencies and versions:
# listing environments (`python -m envcore scan`) never does, and they cost ~15 ms of start-up.
# packaging.utils (canonicalize_name) is imported where a name is canonicalised: it loads
# packaging.tags with logging, subprocess and sysconfig (~20 ms), and `scan` needs it only
# when two distributions' names could be the same project (see `_name_bucket`).

__all__ = [
    "DirectUrl",
    "Distribution",
    "Inventory",
    "parse_dependency",
    "read_direct_url",
    "read_headers",
    "read_inventory",
]


@lru_cache(maxsize=8)
def _header_pattern(wanted: frozenset[str]) -> re.Pattern[str]:
    """One wanted header line with its folded continuation lines.

    The leading newline is a literal the regex engine can skip to, which makes it twice
    as fast as a `^` anchor with MULTILINE.
    """
    names = "|".join(re.escape(name) for name in sorted(wanted))
    return re.compile(rf"\n({names}):([^\n]*(?:\n[ \t][^\n]*)*)", re.IGNORECASE | re.ASCII)


def read_headers(path: str, wanted: frozenset[str]) -> dict[str, list[str]]:
    """Parse the wanted headers of a METADATA / PKG-INFO file's RFC 822 header block.

    Header names are lower-cased; repeated headers (Requires-Dist) keep every value in
    order; folded lines are joined with newlines. One regex over the block instead of a
    loop over its lines: real header blocks are mostly Classifier lines nobody asked for.
    Raises MetadataError when the file is missing, unreadable or not UTF-8.
    """
    try:
        data = read_bytes(path, METADATA_LIMIT, until_blank_line=True)
    except OSError as exc:
        raise MetadataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    end = data.find(b"\n\n")
    crlf_end = data.find(b"\r\n\r\n", 0, len(data) if end == -1 else end)
    if crlf_end != -1:
        end = crlf_end
    block = data if end == -1 else data[:end]
    try:
        text = "\n" + block.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MetadataError(f"{path} is not valid UTF-8 (byte {exc.start})") from exc
    if "\r" in text:  # CRLF or old Mac line ends, read as the email parser reads them
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    headers: dict[str, list[str]] = {}
    for key, value in _header_pattern(wanted).findall(text):
        if "\n" in value:
            value = "\n".join(part.strip() for part in value.split("\n"))  # noqa: PLW2901
        headers.setdefault(key.lower(), []).append(value.strip())
    return headers


@lru_cache(maxsize=16384)
def parse_dependency(text: str) -> Requirement | None:
    """A Requires-Dist entry, or None when invalid (pip skips those too).

    Cached: `pip check`, "required by" and drift all walk the same entries, and the same
    entries recur across the environments of one machine.
    """
    from packaging.markers import InvalidMarker
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import InvalidSpecifier

    from envcore._pep508 import marker, plain_parts, specifier_set

    plain = plain_parts(text)
    try:
        if plain is None:
            return Requirement(text)
        if plain.marker is not None and not plain.marker:
            return Requirement(text)  # a `;` with nothing after it: packaging's message
        requirement = Requirement.__new__(Requirement)
        requirement.name = plain.name
        requirement.url = None
        requirement.extras = set(plain.extras)
        requirement.specifier = specifier_set(plain.specifier)
        requirement.marker = marker(plain.marker) if plain.marker else None
    except (InvalidRequirement, InvalidSpecifier, InvalidMarker):
        return None
    return requirement


@dataclass(frozen=True)
class Distribution:
    """One installed distribution, as its metadata declares it."""

    name: str
    version: str
    summary: str
    requires: tuple[str, ...]
    location: Path
    metadata_dir: str
    direct_url: DirectUrl | None = None
    editable_location: str | None = None

    @cached_property
    def installer(self) -> str:
        """The tool that installed it (INSTALLER file), read only when asked for."""
        if self.metadata_dir.endswith(".egg-info"):
            return ""
        return _read_small(os.path.join(self.metadata_dir, "INSTALLER"))

    @cached_property
    def canonical_name(self) -> NormalizedName:
        return _canonical(self.name)

    @property
    def editable(self) -> bool:
        return self.editable_location is not None

    @cached_property
    def display_version(self) -> str:
        """The version as pip prints it: normalised when valid, verbatim when not."""
        version = self.parsed_version
        return str(version) if version is not None else self.version

    @cached_property
    def parsed_version(self) -> Version | None:
        from envcore.versions import parse_version

        return parse_version(self.version)

    @property
    def source(self) -> str:
        """Where it came from: `editable`, `vcs`, `url`, `local` or `index`."""
        if self.editable:
            return "editable"
        if self.direct_url is None:
            return "index"
        if self.direct_url.vcs:
            return "vcs"
        if self.direct_url.url.startswith("file:"):
            return "local"
        return "url"


@dataclass(frozen=True)
class Inventory:
    """Everything installed in an environment, in pip's order, plus per-package warnings."""

    environment: Environment
    distributions: tuple[Distribution, ...]
    warnings: tuple[str, ...] = ()

    @cached_property
    def by_name(self) -> dict[str, Distribution]:
        """Keyed by canonical name (look up with `canonicalize_name(...)`)."""
        return {dist.canonical_name: dist for dist in self.distributions}

    @cached_property
    def dependencies(self) -> dict[int, list[tuple[NormalizedName, Requirement]]]:
        """Each distribution's applicable dependencies, keyed by `id(dist)`.

        Markers are evaluated for this environment once; `pip check`, "required by" and
        "not required" all walk this. A distribution with a marker that cannot be
        evaluated has none, as pip reads none of them (`unreadable_dependencies`).
        """
        return self._dependencies[0]

    @cached_property
    def unreadable_dependencies(self) -> dict[int, str]:
        """Why a distribution's dependencies are not read, keyed by `id(dist)`: one of
        its Requires-Dist markers cannot be evaluated here (pip check: "Error parsing
        dependencies of NAME"), said once per distribution."""
        return self._dependencies[1]

    @cached_property
    def _dependencies(
        self,
    ) -> tuple[dict[int, list[tuple[NormalizedName, Requirement]]], dict[int, str]]:
        from envcore._pep508 import canonical_name, evaluate_marker
        from envcore.errors import MarkerError

        no_extra = {**self.environment.marker_environment(), "extra": ""}
        verdicts: dict[str, bool] = {}  # packages repeat the same few markers
        dependencies: dict[int, list[tuple[NormalizedName, Requirement]]] = {}
        unreadable: dict[int, str] = {}
        for dist in self.distributions:
            applicable = dependencies[id(dist)] = []
            for text in dist.requires:
                requirement = parse_dependency(text)
                if requirement is None:
                    continue
                if requirement.marker is not None:
                    marker_text = text.partition(";")[2]
                    verdict = verdicts.get(marker_text)
                    if verdict is None:
                        try:
                            verdict = evaluate_marker(requirement.marker, no_extra)
                        except MarkerError as exc:
                            unreadable[id(dist)] = (
                                f"{dist.name} {dist.display_version}: dependencies not read, "
                                f"a Requires-Dist {exc}"
                            )
                            applicable.clear()
                            break
                        verdicts[marker_text] = verdict
                    if not verdict:
                        continue
                applicable.append((canonical_name(requirement.name), requirement))
        return dependencies, unreadable

    @cached_property
    def required_by(self) -> dict[str, tuple[NormalizedName, ...]]:
        """For each installed name, the installed distributions that depend on it."""
        dependents: dict[NormalizedName, list[NormalizedName]] = {}
        by_name = self.by_name
        dependencies = self.dependencies
        for dist in self.distributions:
            for dependency, _ in dependencies[id(dist)]:
                if dependency in by_name and dependency != dist.canonical_name:
                    dependents.setdefault(dependency, []).append(dist.canonical_name)
        return {name: tuple(sorted(set(names))) for name, names in dependents.items()}

    def not_required(self) -> tuple[Distribution, ...]:
        """Distributions nothing else installed depends on (pip list --not-required)."""
        return tuple(d for d in self.distributions if d.canonical_name not in self.required_by)


def _listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _egg_link_targets(site: Path, entries: list[str]) -> dict[NormalizedName, str]:
    targets: dict[NormalizedName, str] = {}
    for name in entries:
        if not name.endswith(".egg-link"):
            continue
        try:
            first = read_text(site / name).splitlines()[0].strip()
        except (OSError, IndexError, UnicodeDecodeError):
            continue
        targets[_canonical(name[: -len(".egg-link")])] = first
    return targets


_WANTED_HEADERS = frozenset({"name", "version", "summary", "requires-dist"})


def _read_small(path: str) -> str:
    try:
        return read_bytes(path).decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _read_distribution(
    metadata_dir: str, location: Path, egg_links: Mapping[NormalizedName, str]
) -> Distribution:
    """Read one `.dist-info` / `.egg-info`; string paths because this runs per package."""
    is_egg = metadata_dir.endswith(".egg-info")
    if is_egg and not os.path.isdir(metadata_dir):  # a legacy single-file .egg-info
        headers = read_headers(metadata_dir, _WANTED_HEADERS)
    else:
        metadata_file = f"{metadata_dir}{os.sep}{'PKG-INFO' if is_egg else 'METADATA'}"
        headers = read_headers(metadata_file, _WANTED_HEADERS)
    names = headers.get("name")
    versions = headers.get("version")
    if not names or not names[0] or not versions or not versions[0]:
        raise MetadataError(f"{os.path.basename(metadata_dir)}: metadata has no Name or no Version")
    name = names[0]
    requires = tuple(headers.get("requires-dist", ()))
    if is_egg and not requires and os.path.isdir(metadata_dir):
        requires = _egg_requires(Path(metadata_dir, "requires.txt"))
    direct_url = None if is_egg else read_direct_url(f"{metadata_dir}{os.sep}direct_url.json")
    editable_location: str | None = None
    if direct_url is not None:
        if direct_url.editable and direct_url.local_path is not None:
            editable_location = direct_url.local_path
    elif egg_links and _canonical(name) in egg_links:
        editable_location = str(location)
    dist = Distribution(
        name=name,
        version=versions[0],
        summary=(headers.get("summary") or [""])[0],
        requires=requires,
        location=location,
        metadata_dir=metadata_dir,
        direct_url=direct_url,
        editable_location=editable_location,
    )
    return dist


def _canonical(name: str) -> NormalizedName:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)


def _name_bucket(name: str) -> str:
    """A coarser key than the canonical name, without packaging: the name lower-cased with
    every `-`, `_` and `.` removed. Names that canonicalise alike share a bucket (the
    canonical name only lower-cases and turns runs of those three into one `-`), so only
    names sharing a bucket need `canonicalize_name` to tell whether they are one project."""
    return name.lower().replace("-", "").replace("_", "").replace(".", "")


class _Seen:
    """The canonical names listed so far, asked about without canonicalising every name."""

    def __init__(self) -> None:
        self._buckets: dict[str, list[Distribution]] = {}

    def __contains__(self, name: str) -> bool:
        """Whether a listed distribution has this canonical name."""
        listed = self._buckets.get(_name_bucket(name), ())
        return any(dist.canonical_name == name for dist in listed)

    def add_new(self, dist: Distribution) -> bool:
        """List `dist` unless a distribution of the same project is listed; True if new."""
        listed = self._buckets.setdefault(_name_bucket(dist.name), [])
        if any(other.canonical_name == dist.canonical_name for other in listed):
            return False
        listed.append(dist)
        return True


def _egg_requires(path: Path) -> tuple[str, ...]:
    """requires.txt of a legacy egg: the unconditional section, before any `[extra]`."""
    try:
        text = read_text(path)
    except (OSError, UnicodeDecodeError):
        return ()
    lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            break
        if stripped and not stripped.startswith("#"):
            lines.append(stripped)
    return tuple(lines)


def _metadata_dirs(site: Path, names: list[str]) -> list[str]:
    """`.dist-info` then `.egg-info` entries, in directory order, as importlib.metadata."""
    prefix = os.path.join(str(site), "")  # joined by hand below: this runs per package
    infos = [prefix + name for name in names if name.endswith(".dist-info")]
    eggs = [prefix + name for name in names if name.endswith(".egg-info")]
    return infos + eggs


def _base_site_packages(env: Environment) -> list[Path]:
    if env.home is None or env.layout == "windows" or not env.python_minor:
        return []
    prefix = env.home.parent
    site = prefix / "lib" / f"python{env.python_minor}" / "site-packages"
    return [site] if site.is_dir() else []


def read_inventory(env: Environment) -> Inventory:
    """Every installed distribution, first occurrence winning as on `sys.path`.

    Corrupt metadata becomes a per-package warning, never an exception.
    """
    locations = list(env.site_packages)
    if env.include_system_site_packages:
        locations += _base_site_packages(env)
    seen = _Seen()
    distributions: list[Distribution] = []
    warnings: list[str] = []
    for site in locations:
        entries = _listdir(site)
        egg_links = _egg_link_targets(site, entries)
        for metadata_dir in _metadata_dirs(site, entries):
            try:
                dist = _read_distribution(metadata_dir, site, egg_links)
            except MetadataError as exc:
                warnings.append(f"skipped {os.path.basename(metadata_dir)}: {exc}")
                continue
            if seen.add_new(dist):
                distributions.append(dist)
        for name, target in egg_links.items():
            if name in seen:
                continue
            for metadata_dir in _metadata_dirs(Path(target), _listdir(Path(target))):
                try:
                    dist = _read_distribution(metadata_dir, site, egg_links)
                except MetadataError as exc:
                    warnings.append(f"skipped {os.path.basename(metadata_dir)}: {exc}")
                    continue
                if dist.canonical_name == name:
                    seen.add_new(dist)
                    distributions.append(dist)
    return Inventory(env, tuple(distributions), tuple(warnings))
