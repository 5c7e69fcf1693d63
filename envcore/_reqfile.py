"""The text layer of pip's requirements format: decoding, logical lines and per-line options.

These follow pip's documented and observed rules (checked against pip itself by the tests):
a BOM or PEP 263 comment picks the encoding, lines ending in a backslash are joined, `#`
starts a comment at the start of a line or after whitespace, `${UPPER_CASE}` variables are
expanded, and everything from the first token that starts with `-` is split like a shell
would and read as options, with the abbreviation rules of Python's optparse.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

__all__ = [
    "ENV_VAR",
    "LineOptions",
    "OptionError",
    "decode_requirements",
    "logical_lines",
    "parse_options",
    "split_line",
]

# UTF-16 LE's BOM is a prefix of UTF-32 LE's: the longer ones are tried first.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_CODING = re.compile(rb"coding[:=]\s*([-\w.]+)")
_STARTS_COMMENT = re.compile(r"\s*#")
ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_SHELL_SPECIAL = re.compile(r"['\"\\]")
_SHELL_SPACE = re.compile(r"[ \t\r\n]+")


#: The most of a line (or of a value from one) a message quotes: a message must say which
#: line is wrong, not echo a file that is one enormous line.
QUOTE_LIMIT = 200


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text`, cut to `limit` characters with an ellipsis when it is longer."""
    return text if len(text) <= limit else text[:limit] + "…"


class OptionError(ValueError):
    """A line's options are not what pip accepts; the message says why."""


def decode_requirements(data: bytes) -> str:
    """Bytes to text as pip reads a requirements file. Raises ValueError when it is not text."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding)
    if b"\x00" in data:
        raise ValueError("it contains NUL bytes (a binary file?)")
    for line in data.split(b"\n")[:2]:
        if line[:1] == b"#":
            match = _CODING.search(line)
            if match is not None:
                try:
                    return data.decode(match.group(1).decode("ascii"))
                except LookupError as exc:
                    raise ValueError(f"unknown encoding {match.group(1).decode()!r}") from exc
    return data.decode("utf-8")


def logical_lines(text: str, environ: Mapping[str, str]) -> Iterator[tuple[int, str]]:
    """(first physical line number, logical line) after joining, comments and ${VAR}s."""
    pending: list[str] = []
    first = 0
    for number, physical in enumerate(text.splitlines(), start=1):
        is_comment = "#" in physical and _STARTS_COMMENT.match(physical) is not None
        if physical.endswith("\\") and not is_comment:
            if not pending:
                first = number
            pending.append(physical.strip("\\"))
            continue
        start, line = number, physical
        if pending:
            # A comment ends a continuation; the space keeps it recognisable as one.
            pending.append(" " + physical if is_comment else physical)
            start, line, pending = first, "".join(pending), []
        finished = _finish(line, environ)
        if finished:
            yield start, finished
    if pending:
        finished = _finish("".join(pending), environ)
        if finished:
            yield first, finished


def _strip_comment(line: str) -> str:
    """Cut at the first `#` that starts the line or follows whitespace.

    Same result as pip's `(^|\\s+)#.*$` substitution, but linear: that regex backtracks
    quadratically on long runs of spaces, which a hostile file could use to hang us.
    """
    start = line.find("#")
    while start > 0 and not line[start - 1].isspace():
        start = line.find("#", start + 1)
    return line if start < 0 else line[:start]


def _finish(line: str, environ: Mapping[str, str]) -> str:
    """The line without its comment, stripped, with variables expanded ("" when empty)."""
    if "#" in line:
        line = _strip_comment(line)
    line = line.strip()
    if "${" in line:
        for name in ENV_VAR.findall(line):
            value = environ.get(name)
            if value:
                line = line.replace("${" + name + "}", value)
    return line


def split_line(line: str) -> tuple[str, str]:
    """(requirement part, options part): options start at the first space-separated `-` token."""
    if not line.startswith("-") and " -" not in line:
        return line, ""
    tokens = line.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]), " ".join(tokens[index:])
    return line, ""  # pragma: no cover - the test above guarantees a `-` token


@dataclass
class LineOptions:
    """What one line's options say, before they are applied (mutable while parsing)."""

    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    no_index: bool = False
    constraints: list[str] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    editables: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    binary_ops: list[tuple[str, str]] = field(default_factory=list)
    release_ops: list[tuple[str, str]] = field(default_factory=list)
    prefer_binary: bool = False
    require_hashes: bool = False
    no_require_hashes: bool = False
    pre: bool = False
    trusted_hosts: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    hashes: dict[str, list[str]] = field(default_factory=dict)
    config_settings: dict[str, str | list[str]] = field(default_factory=dict)


_STRONG_HASHES = ("sha256", "sha384", "sha512")
_FEATURES = (
    "fast-deps",
    "inprocess-build-deps",
    "venv-isolation",
    "truststore",
    "no-binary-enable-wheel-cache",
    "build-constraint",
)
#: option spelling -> (canonical key, takes a value)
_LONG = {
    "--index-url": ("index_url", True),
    "--pypi-url": ("index_url", True),
    "--extra-index-url": ("extra_index_urls", True),
    "--no-index": ("no_index", False),
    "--constraint": ("constraints", True),
    "--requirement": ("requirements", True),
    "--editable": ("editables", True),
    "--find-links": ("find_links", True),
    "--no-binary": ("no_binary", True),
    "--only-binary": ("only_binary", True),
    "--prefer-binary": ("prefer_binary", False),
    "--require-hashes": ("require_hashes", False),
    "--no-require-hashes": ("no_require_hashes", False),
    "--pre": ("pre", False),
    "--all-releases": ("all_releases", True),
    "--only-final": ("only_final", True),
    "--trusted-host": ("trusted_hosts", True),
    "--use-feature": ("features", True),
    "--hash": ("hashes", True),
    "--config-settings": ("config_settings", True),
}
_SHORT = {
    "-i": "--index-url",
    "-c": "--constraint",
    "-r": "--requirement",
    "-e": "--editable",
    "-f": "--find-links",
    "-C": "--config-settings",
}


def _shell_split(text: str) -> list[str]:
    if _SHELL_SPECIAL.search(text) is None:  # the common case needs no shlex machinery
        return [token for token in _SHELL_SPACE.split(text) if token]
    import shlex

    try:
        return shlex.split(text)
    except ValueError as exc:
        raise OptionError(f"cannot split options ({exc}): {clip(text)}") from exc


def _match_long(name: str) -> str:
    if name in _LONG:
        return name
    matches = [option for option in _LONG if option.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise OptionError(f"no such option: {clip(name)}")
    raise OptionError(f"ambiguous option: {clip(name)} ({', '.join(sorted(matches))}?)")


def parse_options(text: str) -> LineOptions:
    """Read an options string as pip's per-line option parser does; raises OptionError."""
    options = LineOptions()
    args = _shell_split(text)
    while args:
        arg = args.pop(0)
        if arg == "--":
            break  # everything after is positional, which pip ignores
        value: str | None
        if arg.startswith("--"):
            name, has_value, inline = arg.partition("=")
            option = _match_long(name)
            key, wants_value = _LONG[option]
            if not wants_value:
                if has_value:
                    raise OptionError(f"{option} option does not take a value")
                _apply(options, option, key, None)
                continue
            if has_value:
                value = inline
            elif args:
                value = args.pop(0)
            else:
                raise OptionError(f"{option} option requires 1 argument")
            _apply(options, option, key, value)
        elif arg.startswith("-") and len(arg) > 1:
            short = arg[:2]
            if short not in _SHORT:
                raise OptionError(f"no such option: {clip(short)}")
            option = _SHORT[short]
            if len(arg) > 2:
                value = arg[2:]
            elif args:
                value = args.pop(0)
            else:
                raise OptionError(f"{short} option requires 1 argument")
            _apply(options, short, _LONG[option][0], value)
        # Other positional words are ignored by pip, so they are here too.
    return options


def _apply(options: LineOptions, spelled: str, key: str, value: str | None) -> None:
    if value is None:
        setattr(options, key, True)
    elif key == "index_url":
        options.index_url = value
    elif key in {"no_binary", "only_binary"}:
        if value.startswith("-"):
            raise OptionError("--no-binary / --only-binary option requires 1 argument")
        options.binary_ops.append((key, value))
    elif key in {"all_releases", "only_final"}:
        if value.startswith("-"):
            raise OptionError("--all-releases / --only-final option requires 1 argument")
        options.release_ops.append((key, value))
    elif key == "features":
        if value not in _FEATURES:
            raise OptionError(f"option {spelled}: invalid choice: {clip(value)!r}")
        options.features.append(value)
    elif key == "hashes":
        algorithm, sep, digest = value.partition(":")
        if not sep:
            raise OptionError(
                f"arguments to {spelled} must be a hash name followed by a value, "
                "like --hash=sha256:abcde..."
            )
        if algorithm not in _STRONG_HASHES:
            raise OptionError(
                f"allowed hash algorithms for {spelled} are {', '.join(_STRONG_HASHES)}"
            )
        options.hashes.setdefault(algorithm, []).append(digest)
    elif key == "config_settings":
        name, sep, setting = value.partition("=")
        if not sep:
            raise OptionError(f"arguments to {spelled} must be of the form KEY=VAL")
        previous = options.config_settings.get(name)
        if previous is None:
            options.config_settings[name] = setting
        elif isinstance(previous, list):
            previous.append(setting)
        else:
            options.config_settings[name] = [previous, setting]
    else:
        target: list[str] = getattr(options, key)
        target.append(value)


def apply_exclusive(value: str, target: set[str], other: set[str]) -> None:
    """pip's `:all:` / `:none:` / names rule shared by --no-binary/--only-binary and releases."""
    names = value.split(",")
    while ":all:" in names:
        other.clear()
        target.clear()
        target.add(":all:")
        del names[: names.index(":all:") + 1]
        if ":none:" not in names:
            return
    for name in names:
        if name == ":none:":
            target.clear()
            continue
        canonical = canonicalize_name(name)
        other.discard(canonical)
        target.add(canonical)
