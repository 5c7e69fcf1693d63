"""Words shown to people, from the command line and from the dashboard alike."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["counted", "shown_argv", "shown_url"]

#: A URL anywhere in an argument: alone, after `--option=`, or after `name @ `.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")


def counted(count: int, noun: str) -> str:
    """ "1 change", "3 changes": what a person writes, not "3 change(s)"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def shown_url(location: str) -> str:
    """A URL without its credentials, as pip shows one: `user:****@` when there is a
    password, `****@` when the user part alone is the secret (a token as user name).
    The host follows the last `@`, as pip splits it: a password may hold a raw `@`."""
    scheme, separator, rest = location.partition("://")
    # The authority ends at the first "/", "?" or "#" (RFC 3986); no parser here, which
    # would refuse what a command line may hold ("http://[" is a ValueError).
    end = min((at for at in map(rest.find, "/?#") if at >= 0), default=len(rest))
    userinfo, at, host = rest[:end].rpartition("@")
    if not separator or not at or not userinfo:
        return location
    user, colon, _ = userinfo.partition(":")
    hidden = f"{user}:****" if colon else "****"
    return f"{scheme}://{hidden}@{host}{rest[end:]}"


def shown_argv(argv: Iterable[str]) -> tuple[str, ...]:
    """A command line as it may be logged, shown or stored: index URLs keep their host and
    path but lose their credentials (`--index-url https://user:token@host/simple` comes
    from the user's pip configuration and must not reach a job log or a page)."""
    return tuple(_URL.sub(lambda match: shown_url(match.group()), arg) for arg in argv)
