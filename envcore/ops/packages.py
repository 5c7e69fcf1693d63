"""Change what is installed in an environment: install, upgrade, uninstall, and the
checks on package specs and names a user typed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envcore.distributions import read_inventory
from envcore.errors import InvalidSpecError
from envcore.locks.pins import refuse_pinned
from envcore.ops.context import Context
from envcore.ops.safety import checked_requirements, exclusive_lock
from envcore.ops.session import (
    OperationResult,
    Session,
    project_name,
    snapshot,
    usable,
    work_dir,
)

UpgradeTarget = Literal["allowed", "latest"] | str


# --- user input ----------------------------------------------------------------------


def parse_user_spec(text: str, *, allow_urls: bool = False) -> Requirement:
    """A package spec typed by a user, as a PEP 508 requirement; anything else is refused.

    Options (`--index-url=...`, `-e .`), paths and URLs would let a text box change where
    code comes from; `name @ url` is accepted only with the separate `allow_urls=True`.
    """
    spec = text.strip()
    if not spec:
        raise InvalidSpecError("empty package spec")
    if spec.startswith("-"):
        raise InvalidSpecError(f"{spec!r} looks like an option; only package specs are accepted")
    if spec.startswith((".", "/", "~", "\\")) or re.match(r"^[A-Za-z]:[\\/]", spec):
        raise InvalidSpecError(f"{spec!r} is a path; only package specs like 'name>=1.0'")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", spec):
        raise InvalidSpecError(f"{spec!r} is a URL; only package specs like 'name>=1.0'")
    try:
        requirement = Requirement(spec)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        raise InvalidSpecError(f"{spec!r} is not a valid package spec: {reason}") from exc
    if requirement.url and not allow_urls:
        raise InvalidSpecError(
            f"{spec!r} installs from a URL or path; allow direct URLs explicitly to do that"
        )
    return requirement


#: Characters a version specifier clause starts with (`>=`, `==`, `~=`, `!=`, `<`, `===`).
_OPERATOR = frozenset("<>=!~")


def split_user_specs(text: str) -> list[str]:
    """The requirements in an Install box: one per line, or several on a line separated by
    spaces (or by commas, as the box once asked).

    A gap of spaces and commas separates two requirements unless what follows continues
    the one before: a specifier clause (`requests >= 2.32`, `requests>=2.32, <3`: a comma
    inside a specifier is always followed by an operator, so a comma followed by a name
    separates), extras, a parenthesised specifier, `@` and a URL. Inside brackets and
    after `;` (a marker, which runs to the end of its line) nothing separates, and a `#`
    after a space starts a comment, as in a requirements file.
    """
    specs: list[str] = []
    for line in text.splitlines():
        specs += _split_line(line)
    return specs


def _split_line(line: str) -> list[str]:
    parts: list[str] = []
    current = ""
    depth = 0  # inside [extras] or (specifiers)
    quote = ""  # inside a quoted marker value
    marker = url = False
    i = 0
    while i < len(line):
        ch = line[i]
        if quote or marker:
            if not quote and ch == "#" and line[i - 1].isspace():
                break
            quote = "" if ch == quote else (ch if not quote and ch in "'\"" else quote)
            current += ch
            i += 1
            continue
        if ch == "#" and (i == 0 or line[i - 1].isspace()):
            break
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth = max(depth - 1, 0)
        elif ch == ";" and depth == 0:
            marker = True
        elif ch == "@" and depth == 0:
            url = True  # `name @ url`: the next word is the URL, whatever it holds
        if depth or not (ch.isspace() or (ch == "," and not url)):
            current += ch
            i += 1
            continue
        # A gap of spaces and commas: does what follows continue `current`?
        end = i
        while end < len(line) and (line[end].isspace() or (line[end] == "," and not url)):
            end += 1
        gap, following = line[i:end], line[end : end + 1]
        before = current.rstrip()[-1:]
        if "," in gap:
            joins = following in _OPERATOR
        elif url:
            joins = before == "@" or following == ";"
        else:
            joins = following in _OPERATOR or following in "[(;@" or before in _OPERATOR
        if joins and current:
            current += gap
        else:
            if current:
                parts.append(current)
            current, url = "", False
        i = end
    if current.strip():
        parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def parse_user_specs(text: str, *, limit: int = 50) -> list[Requirement]:
    """Every requirement in an Install box (`split_user_specs`), each checked as
    `parse_user_spec` does; the first bad one is refused in one line that names it."""
    specs = split_user_specs(text)
    if not specs:
        raise InvalidSpecError("give at least one package spec, e.g. requests>=2.32")
    if len(specs) > limit:
        raise InvalidSpecError(f"{len(specs)} package specs: at most {limit} at a time")
    return [parse_user_spec(spec) for spec in specs]


def install(
    env_path: Path | str,
    specs: Iterable[str] = (),
    *,
    requirements: Path | None = None,
    allow_urls: bool = False,
    held_to: Path | None = None,
    context: Context | None = None,
) -> OperationResult:
    """Install user-typed specs (validated) and/or a requirements file into an environment.

    With the context's roots, a requirements file outside them (or including one) is refused.
    `held_to`: the lock file the environment follows, for an upgrade of its packages: a spec
    naming a package the lock pins is refused before anything runs (`refuse_pinned`).
    """
    parsed = [str(parse_user_spec(spec, allow_urls=allow_urls)) for spec in specs]
    if not parsed and requirements is None:
        raise InvalidSpecError("nothing to install: give package specs or a requirements file")
    context = context or Context()
    checked_requirements(requirements, context.roots)
    env = usable(env_path)
    if held_to is not None:
        names = [Requirement(spec).name for spec in parsed]
        refuse_pinned(held_to, env.marker_environment(), names, roots=context.roots)
    session = Session(context, work_dir(env, requirements), prefix=env.path)
    before = snapshot(env)
    files = [Path(requirements)] if requirements is not None else []
    with exclusive_lock(env.path):
        session.run(session.commands(env).install(parsed, requirement_files=files), "install")
    return session.result("install", env.path, before, snapshot(env))


def upgrade(
    env_path: Path | str,
    name: str,
    target: UpgradeTarget = "allowed",
    *,
    specifier: str | None = None,
    held_to: Path | None = None,
    context: Context | None = None,
) -> OperationResult:
    """Upgrade one distribution: to the newest `specifier` allows ("allowed", the project's
    requirement), to the newest there is ("latest"), or to an exact version.

    `held_to`: the lock file the environment follows. A package it pins is refused before
    anything runs (PinnedByLockError naming the lock tool's command): the lock moves it, and
    a sync then installs it; a package the lock does not pin is upgraded as any other."""
    name = project_name(name)
    if target == "allowed":
        try:
            spec = f"{name}{SpecifierSet(specifier or '')}"
        except InvalidSpecifier as exc:
            raise InvalidSpecError(f"{specifier!r} is not a valid version specifier") from exc
    elif target == "latest":
        spec = name
    else:
        try:
            spec = f"{name}=={Version(target)}"
        except InvalidVersion as exc:
            raise InvalidSpecError(
                f"{target!r} is not 'allowed', 'latest' or a version number"
            ) from exc
    env = usable(env_path)
    if canonicalize_name(name) not in read_inventory(env).by_name:
        raise InvalidSpecError(f"{name} is not installed in {env.path}")
    context = context or Context()
    if held_to is not None:
        refuse_pinned(held_to, env.marker_environment(), [name], roots=context.roots)
    session = Session(context, work_dir(env), prefix=env.path)
    before = snapshot(env)
    with exclusive_lock(env.path):
        session.run(session.commands(env).install([spec], upgrade=[name]), f"upgrading {name}")
    return session.result("upgrade", env.path, before, snapshot(env))


def uninstall(
    env_path: Path | str,
    names: Iterable[str],
    *,
    context: Context | None = None,
) -> OperationResult:
    """Remove distributions by name (names only: no versions, options or paths)."""
    wanted = [project_name(name) for name in names]
    if not wanted:
        raise InvalidSpecError("nothing to uninstall: give at least one name")
    env = usable(env_path)
    session = Session(context or Context(), work_dir(env), prefix=env.path)
    before = snapshot(env)
    with exclusive_lock(env.path):
        session.run(session.commands(env).uninstall(wanted), "uninstall")
    return session.result("uninstall", env.path, before, snapshot(env))
