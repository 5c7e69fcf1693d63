"""The text layer of pip's requirements format: decoding, logical lines, comments, ${VAR}s.

These follow pip's documented and observed rules (checked against pip itself by the tests):
a BOM or PEP 263 comment picks the encoding, lines ending in a backslash are joined, `#`
starts a comment at the start of a line or after whitespace, `${UPPER_CASE}` variables are
expanded, and everything from the first token that starts with `-` is the options part.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping

__all__ = [
    "ENV_VAR",
    "QUOTE_LIMIT",
    "clip",
    "decode_requirements",
    "logical_lines",
    "one_line",
    "split_line",
]

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


#: The most of a line (or of a value from one) a message quotes: a message must say which
#: line is wrong, not echo a file that is one enormous line.
QUOTE_LIMIT = 200


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text`, cut to `limit` characters with an ellipsis when it is longer."""
    return text if len(text) <= limit else text[:limit] + "…"


def one_line(exc: Exception) -> str:
    """packaging's messages draw a caret under the error on extra lines: keep the first."""
    text = str(exc).strip()
    # Messages quote the line clipped already; the cap stops anything else echoing a file.
    return clip(text.splitlines()[0], 4 * QUOTE_LIMIT) if text else type(exc).__name__


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
