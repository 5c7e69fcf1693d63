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


def install(
    env_path: Path | str,
    specs: Iterable[str] = (),
    *,
    requirements: Path | None = None,
    allow_urls: bool = False,
    context: Context | None = None,
) -> OperationResult:
    """Install user-typed specs (validated) and/or a requirements file into an environment.

    With the context's roots, a requirements file outside them (or including one) is refused.
    """
    parsed = [str(parse_user_spec(spec, allow_urls=allow_urls)) for spec in specs]
    if not parsed and requirements is None:
        raise InvalidSpecError("nothing to install: give package specs or a requirements file")
    context = context or Context()
    checked_requirements(requirements, context.roots)
    env = usable(env_path)
    session = Session(context, work_dir(env.path, requirements))
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
    context: Context | None = None,
) -> OperationResult:
    """Upgrade one distribution: to the newest `specifier` allows ("allowed", the project's
    requirement), to the newest there is ("latest"), or to an exact version."""
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
    session = Session(context or Context(), work_dir(env.path))
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
    session = Session(context or Context(), work_dir(env.path))
    before = snapshot(env)
    with exclusive_lock(env.path):
        session.run(session.commands(env).uninstall(wanted), "uninstall")
    return session.result("uninstall", env.path, before, snapshot(env))
