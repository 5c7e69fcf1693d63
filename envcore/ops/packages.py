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
from envcore.ops.context import Log
from envcore.ops.installers import IndexOptions, InstallerChoice, resolve_backend
from envcore.ops.safety import checked_requirements, exclusive_lock
from envcore.ops.session import (
    OperationResult,
    Session,
    commands_for,
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
    installer: InstallerChoice | str = "auto",
    index: IndexOptions | None = None,
    log: Log | None = None,
) -> OperationResult:
    """Install user-typed specs (validated) and/or a requirements file into an environment."""
    parsed = [str(parse_user_spec(spec, allow_urls=allow_urls)) for spec in specs]
    if not parsed and requirements is None:
        raise InvalidSpecError("nothing to install: give package specs or a requirements file")
    checked_requirements(requirements, None)
    env = usable(env_path)
    backend = resolve_backend(installer)
    session = Session(log or Log(), work_dir(env.path, requirements))
    before = snapshot(env)
    files = [Path(requirements)] if requirements is not None else []
    with exclusive_lock(env.path):
        session.run(
            commands_for(env, backend, index).install(parsed, requirement_files=files), "install"
        )
    return OperationResult(
        "install", env.path, backend, tuple(session.commands), before, snapshot(env)
    )


def upgrade(
    env_path: Path | str,
    name: str,
    target: UpgradeTarget = "allowed",
    *,
    specifier: str | None = None,
    installer: InstallerChoice | str = "auto",
    index: IndexOptions | None = None,
    log: Log | None = None,
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
    backend = resolve_backend(installer)
    session = Session(log or Log(), work_dir(env.path))
    before = snapshot(env)
    with exclusive_lock(env.path):
        argv = commands_for(env, backend, index).install([spec], upgrade=[name])
        session.run(argv, f"upgrading {name}")
    return OperationResult(
        "upgrade", env.path, backend, tuple(session.commands), before, snapshot(env)
    )


def uninstall(
    env_path: Path | str,
    names: Iterable[str],
    *,
    installer: InstallerChoice | str = "auto",
    log: Log | None = None,
) -> OperationResult:
    """Remove distributions by name (names only: no versions, options or paths)."""
    wanted = [project_name(name) for name in names]
    if not wanted:
        raise InvalidSpecError("nothing to uninstall: give at least one name")
    env = usable(env_path)
    backend = resolve_backend(installer)
    session = Session(log or Log(), work_dir(env.path))
    before = snapshot(env)
    with exclusive_lock(env.path):
        session.run(commands_for(env, backend, None).uninstall(wanted), "uninstall")
    return OperationResult(
        "uninstall", env.path, backend, tuple(session.commands), before, snapshot(env)
    )
