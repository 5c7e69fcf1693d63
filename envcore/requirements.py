"""Requirements sources read exactly as pip reads them: requirements files and pyproject.toml.

Nothing is installed, fetched or executed: options (index URLs, --pre, ...) are kept as
data, includes (`-r`/`-c`) are followed on disk with cycle detection, and a bad line
becomes a `ParseIssue` with `file:line` while the rest of the file is still read. Given
`roots`, a file whose real path lies outside them is never opened: a planted
`-r /etc/shadow` or a `requirements.txt` link out of the tree must not carry that file's
content into pages or a team snapshot.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from envcore._files import read_bytes, read_text
from envcore._reqfile import (
    QUOTE_LIMIT,
    LineOptions,
    OptionError,
    apply_exclusive,
    clip,
    decode_requirements,
    logical_lines,
    parse_options,
    split_line,
)
from envcore._reqspec import (
    canonical_name,
    interpret_editable,
    interpret_line,
    marker,
    specifier_set,
)
from envcore.errors import RequirementsError

__all__ = [
    "ParseIssue",
    "ParsedRequirements",
    "RequirementEntry",
    "RequirementsOptions",
    "find_requirements_source",
    "load_requirements",
    "parse_pyproject",
    "parse_requirements_file",
    "requirements_fingerprint",
    "within_roots",
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
        """The PEP 508 requirement this line stands for (None when it names no project)."""
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
            # A VCS URL with spaces or a file URL pip accepts but PEP 508 does not.
            return Requirement(f"{self.raw_name}{extras}{self.specifier}")

    @property
    def specifier_set(self) -> SpecifierSet:
        return specifier_set(self.specifier)

    @property
    def is_pinned(self) -> bool:
        """Pinned to one exact version (`==1.2` or `===1.2`, not `==1.*`).

        `specifier` is packaging's normalised text: one clause has no comma.
        """
        specifier = self.specifier
        return specifier.startswith("==") and "," not in specifier and not specifier.endswith(".*")

    def applies_to(self, marker_environment: Mapping[str, str]) -> bool:
        """Whether the marker holds for an environment (`Environment.marker_environment()`)."""
        if self.marker is None:
            return True
        return marker(self.marker).evaluate({**marker_environment, "extra": ""})


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
        return {
            key: [list(pair) for pair in value]
            if key == "config_settings"
            else (list(value) if isinstance(value, tuple) else value)
            for key, value in self.__dict__.items()
        }


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
    """One entry as plain data (the `reqs --json` row)."""
    return {
        "name": entry.name,
        "raw_name": entry.raw_name,
        "specifier": entry.specifier,
        "marker": entry.marker,
        "extras": list(entry.extras),
        "editable": entry.editable,
        "url": entry.url,
        "constraint": entry.constraint,
        "hashes": list(entry.hashes),
        "source": entry.source,
        "pinned": entry.is_pinned,
    }


# ---- requirements files --------------------------------------------------------------


@dataclass(frozen=True)
class _Include:
    value: str
    constraint: bool
    line_number: int


@dataclass
class _FileLines:
    """One file's own lines, read once per parse even when it is included many times."""

    entries: list[RequirementEntry | _Include | LineOptions] = field(default_factory=list)
    errors: list[ParseIssue] = field(default_factory=list)
    warnings: list[ParseIssue] = field(default_factory=list)


def _one_line(exc: Exception) -> str:
    """packaging's messages draw a caret under the error on extra lines: keep the first."""
    text = str(exc).strip()
    # Messages quote the line clipped already; the cap stops anything else echoing a file.
    return clip(text.splitlines()[0], 4 * QUOTE_LIMIT) if text else type(exc).__name__


#: What a file outside the roots becomes instead of its content.
_OUTSIDE = "not read, it is outside the scan roots"


def _real_roots(roots: Sequence[Path | str] | None) -> tuple[str, ...] | None:
    return None if roots is None else tuple(os.path.realpath(root) for root in roots)


def _admitted(real: str, real_roots: tuple[str, ...] | None) -> bool:
    """Whether a real (symlink-free) path may be opened: no roots, or inside one of them."""
    if real_roots is None:
        return True
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in real_roots)


def within_roots(path: Path | str, roots: Sequence[Path | str] | None) -> bool:
    """Whether `path`, symlinks resolved, is one of `roots` or inside one (no roots: yes)."""
    return _admitted(os.path.realpath(path), _real_roots(roots))


def _read_text(path: str) -> str:
    """Raises OSError (also for a FIFO, a device or a file too large) or ValueError (not text)."""
    data = read_bytes(path)
    try:
        return decode_requirements(data)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"it is not UTF-8 text (byte {exc.start}) and declares no encoding"
        ) from exc


def _flatten_settings(settings: Mapping[str, str | list[str]]) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for key, value in settings.items():
        pairs.extend((key, item) for item in ([value] if isinstance(value, str) else value))
    return tuple(pairs)


def _read_lines(
    display: str, text: str, constraint: bool, environ: Mapping[str, str], base_dir: str
) -> _FileLines:
    result = _FileLines()
    path = Path(display)
    for number, line in logical_lines(text, environ):
        source = f"{display}:{number}"
        args, option_text = split_line(line)
        options: LineOptions | None = None
        if option_text:
            try:
                options = parse_options(option_text)
            except OptionError as exc:
                result.errors.append(ParseIssue(source, f"{exc} in {clip(line)!r}"))
                continue
        editable = options is not None and bool(options.editables)
        requirement_text = args or (options.editables[0] if options and editable else "")
        # `--editable=` is a requirement line with an empty (invalid) project, as in pip.
        if not requirement_text and not editable:
            if options is None:  # pragma: no cover - empty lines never get here
                continue
            if options.requirements or options.constraints:
                is_constraint = not options.requirements
                value = (options.requirements or options.constraints)[0]
                result.entries.append(_Include(value, is_constraint, number))
                continue
            if options.hashes:
                result.warnings.append(
                    ParseIssue(source, "--hash without a requirement is ignored")
                )
            result.entries.append(options)
            continue
        if editable and constraint:
            result.errors.append(
                ParseIssue(source, "editable requirements are not allowed as constraints")
            )
            continue
        try:
            found = (
                interpret_editable(requirement_text, base_dir)
                if editable
                else interpret_line(requirement_text, base_dir)
            )
        except ValueError as exc:
            result.errors.append(ParseIssue(source, _one_line(exc)))
            continue
        hashes: tuple[str, ...] = ()
        settings: tuple[tuple[str, str], ...] = ()
        if options is not None:
            if not editable:
                hashes = tuple(
                    f"{algorithm}:{digest}"
                    for algorithm, digests in options.hashes.items()
                    for digest in digests
                )
            settings = _flatten_settings(options.config_settings)
        result.entries.append(
            RequirementEntry(
                name=canonical_name(found.name) if found.name is not None else None,
                raw_name=found.name,
                specifier=found.specifier,
                marker=found.marker,
                extras=found.extras,
                editable=editable,
                url=found.url,
                constraint=constraint,
                hashes=hashes,
                source=source,
                path=path,
                line_number=number,
                text=line,
                config_settings=settings,
            )
        )
    return result


class _Walker:
    """Follows includes depth-first in pip's order, remembering the chain to spot cycles."""

    def __init__(
        self, environ: Mapping[str, str], base_dir: str, real_roots: tuple[str, ...] | None
    ) -> None:
        self.environ = environ
        self.base_dir = base_dir
        self.real_roots = real_roots
        self.outside: dict[str, Path] = {}
        self.cache: dict[tuple[str, bool], _FileLines] = {}
        self.entries: list[RequirementEntry] = []
        self.errors: list[ParseIssue] = []
        self.warnings: list[ParseIssue] = []
        self.option_lines: list[LineOptions] = []
        self.files: dict[str, Path] = {}
        self.texts: dict[str, str] = {}

    def walk(
        self, display: str, text: str, constraint: bool, chain: tuple[tuple[str, str], ...]
    ) -> None:
        real = chain[-1][0]
        key = (real, constraint)
        lines = self.cache.get(key)
        if lines is None:
            lines = self.cache[key] = _read_lines(
                display, text, constraint, self.environ, self.base_dir
            )
        self.errors.extend(lines.errors)
        self.warnings.extend(lines.warnings)
        for item in lines.entries:
            if isinstance(item, RequirementEntry):
                self.entries.append(item)
            elif isinstance(item, LineOptions):
                self.option_lines.append(item)
            else:
                self.include(display, item, chain)

    def include(self, parent: str, item: _Include, chain: tuple[tuple[str, str], ...]) -> None:
        source = f"{parent}:{item.line_number}"
        flag = "-c" if item.constraint else "-r"
        if re.match(r"^(http|https|file):", item.value, re.IGNORECASE):
            self.warnings.append(
                ParseIssue(source, f"{flag} {item.value} is a URL and was not fetched")
            )
            return
        target = os.path.abspath(os.path.join(os.path.dirname(parent), item.value))
        real = os.path.realpath(target)
        if not _admitted(real, self.real_roots):
            self.errors.append(ParseIssue(source, f"{flag} {clip(item.value)}: {_OUTSIDE}"))
            self.outside.setdefault(real, Path(target))
            return
        for seen_real, seen_display in chain:
            if seen_real == real:
                route = " -> ".join(display for _, display in chain)
                self.errors.append(
                    ParseIssue(
                        source,
                        f"{flag} {item.value} is a cycle: {seen_display} includes itself "
                        f"({route} -> {target})",
                    )
                )
                return
        try:
            text = self.text_of(target, real)
        except (OSError, ValueError) as exc:
            kind = "constraints" if item.constraint else "requirements"
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.errors.append(ParseIssue(source, f"cannot read {kind} file {target}: {reason}"))
            return
        self.walk(target, text, item.constraint, (*chain, (real, target)))

    def text_of(self, display: str, real: str) -> str:
        cached = self.texts.get(real)
        if cached is None:
            cached = self.texts[real] = _read_text(display)
            self.files.setdefault(real, Path(display))
        return cached


def _combine_options(lines: Sequence[LineOptions]) -> RequirementsOptions:
    """Apply option lines in order, the way pip's finder accumulates them."""
    index_url: str | None = None
    extra: list[str] = []
    no_index = pre = prefer_binary = require_hashes = no_require_hashes = False
    find_links: list[str] = []
    trusted: list[str] = []
    features: list[str] = []
    settings: list[tuple[str, str]] = []
    binary: dict[str, set[str]] = {"no_binary": set(), "only_binary": set()}
    releases: dict[str, set[str]] = {"all_releases": set(), "only_final": set()}
    for options in lines:
        no_index = no_index or options.no_index
        if options.index_url:
            index_url = options.index_url
        extra.extend(options.extra_index_urls)
        if options.find_links:  # pip uses the first -f of a line only
            find_links.append(options.find_links[0])
        trusted.extend(options.trusted_hosts)
        features.extend(f for f in options.features if f not in features)
        pre = pre or options.pre
        prefer_binary = prefer_binary or options.prefer_binary
        require_hashes = require_hashes or options.require_hashes
        no_require_hashes = no_require_hashes or options.no_require_hashes
        settings.extend(_flatten_settings(options.config_settings))
        for kind, value in options.binary_ops:
            other = "only_binary" if kind == "no_binary" else "no_binary"
            apply_exclusive(value, binary[kind], binary[other])
        for kind, value in options.release_ops:
            other = "only_final" if kind == "all_releases" else "all_releases"
            apply_exclusive(value, releases[kind], releases[other])
    return RequirementsOptions(
        index_url=index_url,
        extra_index_urls=tuple(extra),
        no_index=no_index,
        find_links=tuple(find_links),
        trusted_hosts=tuple(trusted),
        pre=pre,
        prefer_binary=prefer_binary,
        only_binary=tuple(sorted(binary["only_binary"])),
        no_binary=tuple(sorted(binary["no_binary"])),
        all_releases=tuple(sorted(releases["all_releases"])),
        only_final=tuple(sorted(releases["only_final"])),
        require_hashes=require_hashes,
        no_require_hashes=no_require_hashes,
        use_feature=tuple(features),
        config_settings=tuple(settings),
    )


def parse_requirements_file(
    path: Path | str,
    *,
    environ: Mapping[str, str] = os.environ,
    base_dir: Path | str | None = None,
    constraint: bool = False,
    roots: Sequence[Path | str] | None = None,
) -> ParsedRequirements:
    """Read a requirements file and everything it includes.

    `base_dir` stands for pip's working directory, against which pip resolves relative
    project paths and wheel files on requirement lines (includes are relative to the
    including file); it defaults to the file's own directory. With `roots`, the file and
    its includes are read only when their real paths lie inside one of them; any other
    becomes a parse issue (and is listed in `outside`). Raises RequirementsError only
    when the file itself cannot be read or is not text.
    """
    display = str(path)
    target = os.path.abspath(display)
    real = os.path.realpath(target)
    real_roots = _real_roots(roots)
    if not _admitted(real, real_roots):
        return _not_read(Path(display))
    base = str(base_dir) if base_dir is not None else os.path.dirname(target)
    walker = _Walker(environ, base, real_roots)
    try:
        text = walker.text_of(display, real)
    except OSError as exc:
        raise RequirementsError(
            f"cannot read requirements file {display}: {exc.strerror or exc}"
        ) from exc
    except ValueError as exc:
        raise RequirementsError(f"{display} is not a requirements file: {exc}") from exc
    walker.walk(display, text, constraint, ((real, display),))
    return ParsedRequirements(
        entries=tuple(walker.entries),
        errors=tuple(walker.errors),
        options=_combine_options(walker.option_lines),
        files=tuple(walker.files.values()),
        warnings=tuple(walker.warnings),
        outside=tuple(walker.outside.values()),
    )


def _not_read(path: Path) -> ParsedRequirements:
    """A source outside the roots: nothing asked for, one issue saying why, nothing opened."""
    return ParsedRequirements(
        entries=(),
        errors=(ParseIssue(str(path), _OUTSIDE),),
        options=RequirementsOptions(),
        files=(),
        outside=(path,),
    )


# ---- pyproject.toml ------------------------------------------------------------------


def _locate_lines(text: str, values: Iterable[str]) -> dict[str, int]:
    """Best-effort line numbers for TOML string values (tomllib keeps no positions)."""
    found: dict[str, int] = {}
    lines = text.splitlines()
    for value in values:
        for quoted in (f'"{value}"', f"'{value}'", value):
            for index, line in enumerate(lines):
                if quoted in line:
                    found[value] = index + 1
                    break
            if value in found:
                break
    return found


def _dependency_entry(
    requirement_text: str, path: Path, line_number: int
) -> RequirementEntry | ParseIssue:
    source = f"{path}:{line_number}"
    try:
        requirement = Requirement(requirement_text)
    except InvalidRequirement as exc:
        return ParseIssue(
            source, f"invalid requirement {clip(requirement_text)!r}: {_one_line(exc)}"
        )
    return RequirementEntry(
        name=canonicalize_name(requirement.name),
        raw_name=requirement.name,
        specifier=str(requirement.specifier),
        marker=str(requirement.marker) if requirement.marker else None,
        extras=tuple(sorted(requirement.extras)),
        editable=False,
        url=requirement.url,
        constraint=False,
        hashes=(),
        source=source,
        path=path,
        line_number=line_number,
        text=requirement_text,
    )


def _group_items(
    groups: Mapping[str, object], name: str, trail: tuple[str, ...], issues: list[str]
) -> list[str]:
    """PEP 735: a group's requirement strings, with include-group expanded (cycle-safe)."""
    normalized = {canonicalize_name(key): value for key, value in groups.items()}
    key = canonicalize_name(name)
    if key in trail:
        issues.append(f"dependency group {name!r} includes itself ({' -> '.join(trail)})")
        return []
    items = normalized.get(key)
    if not isinstance(items, list):
        issues.append(f"no dependency group named {name!r}")
        return []
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
            out.extend(_group_items(groups, item["include-group"], (*trail, key), issues))
        else:
            issues.append(f"dependency group {name!r} has an invalid item {item!r}")
    return out


def parse_pyproject(
    path: Path | str,
    *,
    extras: Iterable[str] | None = None,
    groups: Iterable[str] | None = None,
    roots: Sequence[Path | str] | None = None,
) -> ParsedRequirements:
    """`[project] dependencies`, plus the named optional-dependencies and dependency groups.

    Without `extras`/`groups`, only the project's own dependencies are read (what
    `pip install .` installs). With `roots`, a file whose real path is outside them is not
    read (see `parse_requirements_file`). Raises RequirementsError when the file is
    unreadable or not TOML.
    """
    path = Path(path)
    if not within_roots(path, roots):
        return _not_read(path)
    try:
        text = read_bytes(path).decode("utf-8-sig")
        data = tomllib.loads(text)
    except OSError as exc:
        raise RequirementsError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RequirementsError(f"{path} is not valid TOML: {exc}") from exc
    project = data.get("project")
    if not isinstance(project, dict):
        project = {}
    project_name = project.get("name") if isinstance(project.get("name"), str) else None
    own = canonicalize_name(project_name) if project_name else None
    requested: list[str] = []
    issues: list[str] = []
    dependencies = project.get("dependencies", [])
    if isinstance(dependencies, list):
        requested.extend(item for item in dependencies if isinstance(item, str))
    optional = project.get("optional-dependencies", {})
    optional = optional if isinstance(optional, dict) else {}
    by_extra = {canonicalize_name(key): value for key, value in optional.items()}
    pending = [canonicalize_name(extra) for extra in (extras or ())]
    done: set[str] = set()
    while pending:
        extra = pending.pop(0)
        if extra in done:
            continue
        done.add(extra)
        items = by_extra.get(extra)
        if not isinstance(items, list):
            issues.append(f"no optional-dependencies group named {extra!r}")
            continue
        for item in items:
            if not isinstance(item, str):
                continue
            # `myproject[a,b]` inside its own extras means "also these extras".
            try:
                self_ref = Requirement(item)
            except InvalidRequirement:
                requested.append(item)
                continue
            if own is not None and canonicalize_name(self_ref.name) == own:
                pending.extend(canonicalize_name(e) for e in self_ref.extras)
            else:
                requested.append(item)
    dependency_groups = data.get("dependency-groups", {})
    dependency_groups = dependency_groups if isinstance(dependency_groups, dict) else {}
    for group in groups or ():
        requested.extend(_group_items(dependency_groups, group, (), issues))
    lines = _locate_lines(text, requested)
    entries: list[RequirementEntry] = []
    errors = [ParseIssue(f"{path}:1", issue) for issue in issues]
    # The same string from two places (a group included by two chosen groups, a pin in both
    # dependencies and a group) is one requirement to pip: compare it once.
    for item in dict.fromkeys(requested):
        made = _dependency_entry(item, path, lines.get(item, 1))
        if isinstance(made, ParseIssue):
            errors.append(made)
        else:
            entries.append(made)
    return ParsedRequirements(
        entries=tuple(entries),
        errors=tuple(errors),
        options=RequirementsOptions(),
        files=(path,),
        project_name=own,
    )


def load_requirements(
    path: Path | str,
    *,
    extras: Iterable[str] | None = None,
    groups: Iterable[str] | None = None,
    base_dir: Path | str | None = None,
    roots: Sequence[Path | str] | None = None,
) -> ParsedRequirements:
    """A pyproject.toml or a requirements file, told apart by the file name.

    `extras`/`groups` apply to pyproject.toml, `base_dir` to requirements files; `roots`
    (the directories files may be read from; None for anywhere) to both.
    """
    path = Path(path)
    if path.name == "pyproject.toml":
        return parse_pyproject(path, extras=extras, groups=groups, roots=roots)
    return parse_requirements_file(path, base_dir=base_dir, roots=roots)


#: Files in requirements/ that describe what a project needs to run, best first.
_PREFERRED_STEMS = ("base", "main", "prod", "production", "common", "default", "requirements")
_DEV_WORDS = re.compile(r"dev|test|doc|lint|ci|local|type|check", re.IGNORECASE)


def find_requirements_source(
    project_dir: Path | str, roots: Sequence[Path | str] | None = None
) -> Path | None:
    """requirements.txt, else the best requirements/*.txt, else a pyproject.toml with deps.

    With `roots`, a pyproject.toml whose real path is outside them is returned unread, so
    that parsing it says why it was not read rather than the project seeming to have none.
    """
    project_dir = Path(project_dir)
    top = project_dir / "requirements.txt"
    if top.is_file():
        return top
    try:
        candidates = sorted(p for p in (project_dir / "requirements").glob("*.txt") if p.is_file())
    except OSError:
        candidates = []
    if candidates:
        by_stem = {p.stem.lower(): p for p in candidates}
        for stem in _PREFERRED_STEMS:
            if stem in by_stem:
                return by_stem[stem]
        runtime = [p for p in candidates if not _DEV_WORDS.search(p.stem)]
        return (runtime or candidates)[0]
    pyproject = project_dir / "pyproject.toml"
    if pyproject.is_file():
        if not within_roots(pyproject, roots):
            return pyproject
        try:
            data = tomllib.loads(read_text(pyproject, encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
        if isinstance(data.get("project"), dict) or isinstance(data.get("dependency-groups"), dict):
            return pyproject
    return None


def requirements_fingerprint(parsed: ParsedRequirements) -> str:
    """A stable hash of what is asked for: same requirements in any order/spelling, same hash.

    Uses canonical names, normalised specifiers and markers and the URL; ignores comments,
    order, duplicates, hashes and finder options.
    """
    rows = set()
    for entry in parsed.entries:
        extras = ",".join(sorted(canonicalize_name(extra) for extra in entry.extras))
        rows.add(
            "\x1f".join(
                (
                    "c" if entry.constraint else "r",
                    "e" if entry.editable else "",
                    entry.name or "",
                    extras,
                    entry.specifier,
                    entry.marker or "",
                    entry.url or "",
                )
            )
        )
    digest = hashlib.sha256("\x1e".join(sorted(rows)).encode("utf-8"))
    return digest.hexdigest()
