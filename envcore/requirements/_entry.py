"""What reading a requirements source gives: one entry per requirement, the issues found,
the finder options, and the whole result (`ParsedRequirements`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName

from envcore._pep508 import evaluate_marker, marker, specifier_set
from envcore.errors import MarkerError, RequirementsError
from envcore.requirements._text import clip
from envcore.text import shown_url

__all__ = [
    "ParseIssue",
    "ParsedRequirements",
    "RequirementEntry",
    "RequirementsOptions",
    "entry_to_json",
]


@dataclass
class RequirementEntry:
    """One requirement (or constraint) line, with pip's reading of every part.

    Read-only by convention, not `frozen`: a frozen dataclass's __init__ costs twice as
    much, and a large file builds hundreds of these on the drift path.
    """

    name: NormalizedName | None
    raw_name: str | None
    specifier: str
    marker: str | None
    extras: tuple[str, ...]
    editable: bool
    url: str | None
    constraint: bool
    hashes: tuple[str, ...]
    source: str
    path: Path
    line_number: int
    text: str
    config_settings: tuple[tuple[str, str], ...] = ()

    @cached_property
    def requirement(self) -> Requirement | None:
        """The PEP 508 requirement this line stands for (None when it names no project);
        RequirementsError naming the line when pip's reading of it is no PEP 508 one."""
        if self.raw_name is None:
            return None
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        text = f"{self.raw_name}{extras}"
        text += f" @ {self.url}" if self.url and not self.specifier else self.specifier
        if self.marker:
            text += f" ; {self.marker}"
        try:
            return Requirement(text)
        except InvalidRequirement:
            pass
        try:
            # A VCS URL with spaces or a file URL pip accepts but PEP 508 does not.
            return Requirement(f"{self.raw_name}{extras}{self.specifier}")
        except InvalidRequirement as exc:
            raise RequirementsError(f"{self.source}: {clip(text)!r} is not a requirement") from exc

    @property
    def specifier_set(self) -> SpecifierSet:
        return specifier_set(self.specifier)

    @property
    def is_pinned(self) -> bool:
        """Pinned to one exact version (`==1.2` or `===1.2`, not `==1.*`; `===1.*` is the
        literal version `1.*`).

        `specifier` is packaging's normalised text: one clause has no comma.
        """
        specifier = self.specifier
        if not specifier.startswith("==") or "," in specifier:
            return False
        return specifier.startswith("===") or not specifier.endswith(".*")

    def applies_to(self, marker_environment: Mapping[str, str]) -> bool:
        """Whether the marker holds for an environment (`Environment.marker_environment()`).

        RequirementsError naming the line when packaging cannot evaluate the marker (pip
        stops there too, with a traceback)."""
        if self.marker is None:
            return True
        try:
            return evaluate_marker(marker(self.marker), {**marker_environment, "extra": ""})
        except MarkerError as exc:
            raise RequirementsError(f"{self.source}: {exc}") from exc


@dataclass(frozen=True)
class ParseIssue:
    """A problem found while reading, located as `path:line`."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass(frozen=True)
class RequirementsOptions:
    """The per-file options pip would apply to its finder, as data (last index URL wins)."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    no_index: bool = False
    find_links: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    pre: bool = False
    prefer_binary: bool = False
    only_binary: tuple[str, ...] = ()
    no_binary: tuple[str, ...] = ()
    all_releases: tuple[str, ...] = ()
    only_final: tuple[str, ...] = ()
    require_hashes: bool = False
    no_require_hashes: bool = False
    use_feature: tuple[str, ...] = ()
    config_settings: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, object]:
        """As data, with the credentials in index and find-links URLs masked as pip shows
        them (the installer alone gets them)."""
        data: dict[str, object] = {
            key: [list(pair) for pair in value]
            if key == "config_settings"
            else (list(value) if isinstance(value, tuple) else value)
            for key, value in self.__dict__.items()
        }
        data["index_url"] = shown_url(self.index_url) if self.index_url else self.index_url
        data["extra_index_urls"] = [shown_url(url) for url in self.extra_index_urls]
        data["find_links"] = [shown_url(url) for url in self.find_links]
        return data


@dataclass(frozen=True)
class ParsedRequirements:
    """Everything read from one source (and what it includes)."""

    entries: tuple[RequirementEntry, ...]
    errors: tuple[ParseIssue, ...]
    options: RequirementsOptions
    files: tuple[Path, ...]
    warnings: tuple[ParseIssue, ...] = ()
    #: For a pyproject.toml: the project's own name (it is never "untracked").
    project_name: NormalizedName | None = None
    #: Files named (the source itself or an include) but not read: outside the given roots.
    outside: tuple[Path, ...] = ()
    #: For a lock file: which packages were selected for the environment, in one line
    #: (`LockSelection.description`); empty for other sources.
    selection: str = ""

    @property
    def requirements(self) -> tuple[RequirementEntry, ...]:
        """The entries that ask for something (constraints left out)."""
        return tuple(entry for entry in self.entries if not entry.constraint)

    @property
    def constraints(self) -> tuple[RequirementEntry, ...]:
        return tuple(entry for entry in self.entries if entry.constraint)

    def to_json(self) -> dict[str, object]:
        return {
            "entries": [entry_to_json(entry) for entry in self.entries],
            "errors": [{"source": e.source, "message": e.message} for e in self.errors],
            "warnings": [{"source": w.source, "message": w.message} for w in self.warnings],
            "options": self.options.to_json(),
            "files": [str(path) for path in self.files],
        }


def entry_to_json(entry: RequirementEntry) -> dict[str, object]:
    """One entry as plain data (the `reqs --json` row), its URL's credentials masked."""
    return {
        "name": entry.name,
        "raw_name": entry.raw_name,
        "specifier": entry.specifier,
        "marker": entry.marker,
        "extras": list(entry.extras),
        "editable": entry.editable,
        "url": shown_url(entry.url) if entry.url else entry.url,
        "constraint": entry.constraint,
        "hashes": list(entry.hashes),
        "source": entry.source,
        "pinned": entry.is_pinned,
    }
