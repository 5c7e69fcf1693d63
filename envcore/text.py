"""Words shown to people, from the command line and from the dashboard alike."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["counted", "shown_argv", "shown_url", "url_parts", "without_credentials"]

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
