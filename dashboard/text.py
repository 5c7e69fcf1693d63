"""Text from disk or from a form that can mislead when shown, or break a line: find and mark it.

A path or package name may carry control characters (a newline splits a log line or a
snapshot field) or bidirectional overrides (U+202E shows `txt.exe` as `exe.txt`). Forms
refuse them; pages show them as visible escapes such as ⟨U+202E⟩ (envcore.text's rule,
which the command line follows too).
"""

from __future__ import annotations

from envcore.text import INVISIBLE, has_control_characters, mark_invisible

__all__ = [
    "as_references",
    "has_control_characters",
    "is_number",
    "mark_invisible",
]


def as_references(text: str) -> str:
    """Each control or bidi character as an HTML character reference (`&#x202e;`): for
    escaped text in an attribute a form sends back as is, which the page's source then
    shows no raw control in, while the browser still sends the very same text."""
    return INVISIBLE.sub(lambda match: f"&#x{ord(match.group()):x};", text)


#: The largest row id, revision or cursor the databases store (a signed 64-bit integer).
_LARGEST = 2**63 - 1


def is_number(text: str) -> bool:
    """A row id, cursor or revision a database can hold: ASCII digits only, at most 19 of
    them and within 64 bits. `str.isdigit` is also true for "²" and "٣", which `int`
    refuses, `int` refuses more than 4300 digits, and a 20-digit id overflows SQLite and
    PostgreSQL alike: each was a 500 where a form or query string meant a row id."""
    return text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= _LARGEST
