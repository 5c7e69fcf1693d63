"""Words shown to people, from the command line and from the dashboard alike.

Text from disk (a path, a package's name or version from its METADATA) may carry control
characters (ESC sequences set a terminal's title or clear it; a newline splits a line) or
bidirectional overrides (U+202E shows `txt.exe` as `exe.txt`): both are shown, never
obeyed, as visible escapes such as ⟨U+202E⟩ (`mark_invisible`), on pages and in the
command line's text alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "BIDI_CONTROLS",
    "INVISIBLE",
    "counted",
    "has_control_characters",
    "mark_invisible",
    "shown_argv",
    "shown_url",
    "url_parts",
    "without_credentials",
]

#: Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the LRM/RLM marks.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_BIDI = "".join(sorted(BIDI_CONTROLS))
#: C0 and C1 control characters, DEL, and the bidi controls above.
INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f" + _BIDI + "]")
#: The same but the line feed: text already made of lines, as a terminal gets it.
_INVISIBLE_IN_LINES = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f" + _BIDI + "]")

#: A URL anywhere in an argument: alone, after `--option=`, or after `name @ `.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")


def counted(count: int, noun: str) -> str:
    """ "1 change", "3 changes": what a person writes, not "3 change(s)"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def url_parts(location: str) -> tuple[str, str, str, str] | None:
    """(scheme, userinfo, host, the rest from the path on) of `scheme://...`, None for
    anything else. No parser: urllib refuses what a file on disk or a command line may
    hold (`http://[` is a ValueError), and this never raises. The authority ends at the
    first "/", "?" or "#" (RFC 3986); the host follows its last `@`, as pip splits it (a
    password may hold a raw `@`)."""
    scheme, separator, rest = location.partition("://")
    if not separator:
        return None
    end = min((at for at in map(rest.find, "/?#") if at >= 0), default=len(rest))
    userinfo, _, host = rest[:end].rpartition("@")
    return scheme, userinfo, host, rest[end:]


def shown_url(location: str) -> str:
    """A URL without its credentials, as pip shows one: `user:****@` when there is a
    password, `****@` when the user part alone is the secret (a token as user name)."""
    parts = url_parts(location)
    if parts is None or not parts[1]:
        return location
    scheme, userinfo, host, rest = parts
    user, colon, _ = userinfo.partition(":")
    hidden = f"{user}:****" if colon else "****"
    return f"{scheme}://{hidden}@{host}{rest}"


def without_credentials(location: str) -> str:
    """A URL without the user part of an http(s) URL, or the password of any other
    (`git+ssh://git@host/...` keeps its user, which is no secret): what is compared with
    an install's own record (PEP 610 has no credentials) and shared. Never raises."""
    parts = url_parts(location)
    if parts is None or not parts[1]:
        return location
    scheme, userinfo, host, rest = parts
    if scheme.lower().split("+")[-1] in ("http", "https"):
        return f"{scheme}://{host}{rest}"
    return f"{scheme}://{userinfo.partition(':')[0]}@{host}{rest}"


def shown_argv(argv: Iterable[str]) -> tuple[str, ...]:
    """A command line as it may be logged, shown or stored: index URLs keep their host and
    path but lose their credentials (`--index-url https://user:token@host/simple` comes
    from the user's pip configuration and must not reach a job log or a page)."""
    return tuple(_URL.sub(lambda match: shown_url(match.group()), arg) for arg in argv)


def has_control_characters(text: str) -> bool:
    return INVISIBLE.search(text) is not None


def _escape(match: re.Match[str]) -> str:
    return f"⟨U+{ord(match.group()):04X}⟩"


def mark_invisible(text: str, *, lines: bool = False) -> str:
    """Each control or bidi character replaced by a visible ⟨U+XXXX⟩; with `lines`, the
    line feeds that end the lines of a text output are kept."""
    return (_INVISIBLE_IN_LINES if lines else INVISIBLE).sub(_escape, text)
