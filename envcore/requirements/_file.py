"""The requirements-file walker: one file and everything it includes, as pip reads them.

Includes (`-r`/`-c`) are followed on disk depth-first in pip's order with cycle
detection, a bad line becomes a `ParseIssue` with `file:line` while the rest of the file
is still read, and option lines are kept as data. Given `roots`, a file whose real path
lies outside them is never opened.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from envcore._files import read_bytes
from envcore._pep508 import canonical_name
from envcore.errors import RequirementsError
from envcore.requirements._entry import ParsedRequirements, ParseIssue, RequirementEntry
from envcore.requirements._line import interpret_editable, interpret_line
from envcore.requirements._options import (
    LineOptions,
    OptionError,
    combine_options,
    flatten_settings,
    parse_options,
)
from envcore.requirements._pipfile import ForeignFormatError, foreign_format
from envcore.requirements._roots import OUTSIDE, admitted, not_read, resolve_roots
from envcore.requirements._text import (
    clip,
    decode_requirements,
    logical_lines,
    one_line,
    split_line,
)

__all__ = ["parse_requirements_file"]


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


def _read_text(path: str) -> str:
    """Raises OSError (also for a FIFO, a device or a file too large) or ValueError (not text;
    ForeignFormatError: a Pipfile, a lock, TOML or JSON)."""
    data = read_bytes(path)
    try:
        text = decode_requirements(data)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"it is not UTF-8 text (byte {exc.start}) and declares no encoding"
        ) from exc
    reason = foreign_format(path, text)
    if reason is not None:
        raise ForeignFormatError(reason)
    return text


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
            result.errors.append(ParseIssue(source, one_line(exc)))
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
            settings = flatten_settings(options.config_settings)
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
        if not admitted(real, self.real_roots):
            self.errors.append(ParseIssue(source, f"{flag} {clip(item.value)}: {OUTSIDE}"))
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
        except ForeignFormatError as exc:
            self.errors.append(ParseIssue(source, f"{flag} {clip(item.value)}: {exc}"))
            return
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
    real_roots = resolve_roots(roots)
    if not admitted(real, real_roots):
        return not_read(Path(display))
    base = str(base_dir) if base_dir is not None else os.path.dirname(target)
    walker = _Walker(environ, base, real_roots)
    try:
        text = walker.text_of(display, real)
    except OSError as exc:
        raise RequirementsError(
            f"cannot read requirements file {display}: {exc.strerror or exc}"
        ) from exc
    except ForeignFormatError as exc:
        raise RequirementsError(f"{display}: {exc}") from exc
    except ValueError as exc:
        raise RequirementsError(f"{display} is not a requirements file: {exc}") from exc
    walker.walk(display, text, constraint, ((real, display),))
    return ParsedRequirements(
        entries=tuple(walker.entries),
        errors=tuple(walker.errors),
        options=combine_options(walker.option_lines),
        files=tuple(walker.files.values()),
        warnings=tuple(walker.warnings),
        outside=tuple(walker.outside.values()),
    )
