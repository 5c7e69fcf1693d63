"""Words shown to people, from the command line and from the dashboard alike."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable

__all__ = ["counted", "shown_argv", "shown_url"]

#: A URL with a user part (`scheme://user[:password]@host`), alone or after `--option=`.
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/@\s]+)@")


def counted(count: int, noun: str) -> str:
    """ "1 change", "3 changes": what a person writes, not "3 change(s)"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def shown_url(location: str) -> str:
    """A URL without its credentials, as pip shows one: `user:****@` when there is a
    password, `****@` when the user part alone is the secret (a token as user name)."""
    parts = urllib.parse.urlsplit(location)
    if not (parts.username or parts.password) or "@" not in parts.netloc:
        return location
    userinfo, _, host = parts.netloc.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    hidden = f"{user}:****" if colon else "****"
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{hidden}@{host}"))


def _hide(match: re.Match[str]) -> str:
    user, colon, _ = match["userinfo"].partition(":")
    return f"{match['scheme']}{user}:****@" if colon else f"{match['scheme']}****@"


def shown_argv(argv: Iterable[str]) -> tuple[str, ...]:
    """A command line as it may be logged, shown or stored: index URLs keep their host and
    path but lose their credentials (`--index-url https://user:token@host/simple` comes
    from the user's pip configuration and must not reach a job log or a page)."""
    return tuple(_USERINFO.sub(_hide, arg) for arg in argv)
