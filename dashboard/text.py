"""Text from disk or from a form that can mislead when shown, or break a line: find and mark it.

A path or package name may carry control characters (a newline splits a log line or a
snapshot field) or bidirectional overrides (U+202E shows `txt.exe` as `exe.txt`). Forms
refuse them; pages show them as visible escapes such as ⟨U+202E⟩.
"""

from __future__ import annotations

import re

__all__ = [
    "BIDI_CONTROLS",
    "as_references",
    "has_control_characters",
    "is_number",
    "mark_invisible",
]

#: Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the LRM/RLM marks.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
#: C0 and C1 control characters, DEL, and the bidi controls above.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f" + "".join(sorted(BIDI_CONTROLS)) + "]")


def has_control_characters(text: str) -> bool:
    return _INVISIBLE.search(text) is not None


def mark_invisible(text: str) -> str:
    """Each control or bidi character replaced by a visible ⟨U+XXXX⟩."""
    return _INVISIBLE.sub(lambda match: f"⟨U+{ord(match.group()):04X}⟩", text)


def as_references(text: str) -> str:
    """Each control or bidi character as an HTML character reference (`&#x202e;`): for
    escaped text in an attribute a form sends back as is, which the page's source then
    shows no raw control in, while the browser still sends the very same text."""
    return _INVISIBLE.sub(lambda match: f"&#x{ord(match.group()):x};", text)


#: The largest row id, revision or cursor the databases store (a signed 64-bit integer).
_LARGEST = 2**63 - 1


def is_number(text: str) -> bool:
    """A row id, cursor or revision a database can hold: ASCII digits only, at most 19 of
    them and within 64 bits. `str.isdigit` is also true for "²" and "٣", which `int`
    refuses, `int` refuses more than 4300 digits, and a 20-digit id overflows SQLite and
    PostgreSQL alike: each was a 500 where a form or query string meant a row id."""
    return text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= _LARGEST
