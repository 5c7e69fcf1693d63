"""The operations that change environments: create, install, upgrade, uninstall, sync,
freeze, recreate, delete. Plain functions, usable without Django.

Each takes its explicit inputs plus a `Log` (callbacks for lines, commands, start, and a
cancel token) and returns a frozen result naming every command it ran. Failures raise an
EnvcoreError subclass after the environment has been put back as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envcore._installers import (
    Backend,
    IndexOptions,
    InstallerChoice,
    create_argv,
    find_uv,
    parse_installer,
    resolve_backend,
)
from envcore._ops_common import (
    DEFAULT_TIMEOUT,
    Log,
    OperationResult,
    Session,
    commands_for,
    interpreter_path,
    project_name,
    snapshot,
    usable,
    work_dir,
)
from envcore._ops_freeze import FreezeMode, FreezePlan, write_freeze
from envcore._ops_freeze import plan_freeze as _plan_freeze
from envcore._ops_recover import RecoveryAction, recover_interrupted
from envcore._ops_recreate import recreate
from envcore._ops_safety import (
    ProcessUse,
    checked_requirements,
    confirmed_environment,
    exclusive_lock,
    inside_roots,
    processes_using,
    remove_tree,
    requirements_inside_roots,
)
from envcore.distributions import read_inventory
from envcore.drift import DRIFT_STATUSES, DriftReport, drift_for_environment
from envcore.environment import Environment, inspect_environment
from envcore.errors import (
    EnvironmentBusyError,
    InvalidSpecError,
    PathNotAllowedError,
    RequirementsError,
)
from envcore.interpreters import Interpreter, list_interpreters
from envcore.journal import Journal, JournalEntry, MemoryJournal

__all__ = [
    "DEFAULT_TIMEOUT",
    "Backend",
    "DeleteResult",
    "FreezeMode",
    "FreezePlan",
    "IndexOptions",
    "InstallerChoice",
    "Interpreter",
    "Journal",
    "JournalEntry",
    "Log",
    "MemoryJournal",
    "OperationResult",
    "ProcessUse",
    "RecoveryAction",
    "UpgradeTarget",
    "create",
    "delete",
    "find_uv",
    "inside_roots",
    "install",
    "list_interpreters",
    "parse_installer",
    "parse_user_spec",
    "plan_freeze",
    "processes_using",
    "recover_interrupted",
    "recreate",
    "requirements_inside_roots",
    "resolve_backend",
    "sync",
    "uninstall",
    "upgrade",
    "write_freeze",
]

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


# --- create --------------------------------------------------------------------------


def create(
    path: Path | str,
    interpreter: Interpreter | Path | str,
    *,
    system_site_packages: bool = False,
    prompt: str | None = None,
    requirements: Path | None = None,
    installer: InstallerChoice | str = "auto",
    index: IndexOptions | None = None,
    roots: Sequence[Path | str] | None = None,
    log: Log | None = None,
) -> OperationResult:
    """Create a new environment at `path` (which must not exist), optionally installing.

    All or nothing: if installing the requirements fails, the new environment is removed.
    """
    log = log or Log()
    target = Path(path).absolute()
    if roots is not None:
        inside_roots(target, roots)
    if target.exists() or target.is_symlink():
        raise PathNotAllowedError(f"{target} already exists; choose a new directory")
    checked_requirements(requirements, roots)
    backend = resolve_backend(installer)
    session = Session(log, work_dir(target, requirements))
    base = interpreter_path(interpreter)
    argv = create_argv(
        backend, base, target, system_site_packages=system_site_packages, prompt=prompt
    )
    try:
        session.run(argv, "creating the environment")
        env = inspect_environment(target)
        if requirements is not None:
            commands = commands_for(env, backend, index)
            session.run(
                commands.install(requirement_files=[Path(requirements)]), "installing requirements"
            )
    except BaseException:
        if target.exists() and not target.is_symlink():
            remove_tree(target)
        raise
    return OperationResult("create", target, backend, tuple(session.commands), (), snapshot(env))


# --- install / upgrade / uninstall ---------------------------------------------------


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


# --- delete --------------------------------------------------------------------------


@dataclass(frozen=True)
class DeleteResult:
    path: Path
    trash: Path
    forced_over: tuple[ProcessUse, ...] = ()


def delete(
    env_path: Path | str,
    *,
    roots: Sequence[Path | str],
    force: bool = False,
    journal: Journal | None = None,
) -> DeleteResult:
    """Delete an environment: a real directory inside `roots` that is an environment by its
    own files, and that no process uses (unless `force`). Renamed away first (recorded in
    `journal`, so recovery finishes the removal after a crash), then removed."""
    path = Path(env_path).absolute()
    if path.is_symlink():
        raise PathNotAllowedError(f"{path} is a symlink; refusing to delete through it")
    inside_roots(path, roots)
    env = confirmed_environment(path)
    users = processes_using(env.path)
    if users and not force:
        listed = "; ".join(str(user) for user in users[:5])
        raise EnvironmentBusyError(f"{path} is in use by {len(users)} process(es): {listed}")
    with exclusive_lock(env.path):
        trash = remove_tree(env.path, journal)
    return DeleteResult(path, trash, users)


# --- freeze --------------------------------------------------------------------------


def plan_freeze(
    env_path: Path | str,
    requirements_path: Path | str,
    mode: FreezeMode = "plain",
    *,
    roots: Sequence[Path | str] | None = None,
) -> FreezePlan:
    """Preview freezing the environment into `requirements_path` (see `write_freeze`).

    With `roots`, update mode reads no include outside them.
    """
    env = confirmed_environment(Path(env_path).absolute())
    return _plan_freeze(read_inventory(env), requirements_path, mode, roots=roots)


# --- sync ----------------------------------------------------------------------------

#: Rounds of removing untracked distributions: removing one can leave its dependencies
#: untracked in turn (pip-sync removes the whole unneeded tree).
_MAX_REMOVAL_ROUNDS = 10


def _drift(
    env: Environment, source: Path | None, roots: Sequence[Path | str] | None
) -> DriftReport:
    report = drift_for_environment(env, read_inventory(env), source, roots=roots)
    if report.source is None:
        raise RequirementsError(f"nothing to sync {env.path} with: {report.note}")
    if report.parse_errors:
        raise RequirementsError(f"cannot sync: {report.parse_errors[0]}")
    return report


def sync(
    env_path: Path | str,
    requirements: Path | None = None,
    *,
    remove_untracked: bool = False,
    installer: InstallerChoice | str = "auto",
    index: IndexOptions | None = None,
    roots: Sequence[Path | str] | None = None,
    log: Log | None = None,
) -> OperationResult:
    """Make the environment match its requirements (the project's own when None).

    Installs what is missing and fixes mismatched versions; with `remove_untracked`, also
    uninstalls distributions nothing asks for, and then whatever that leaves unneeded
    (pip-sync semantics; pip, setuptools and wheel are kept). Returns the new drift.
    With `roots`, requirements that are (or include) a file outside them are refused
    before pip runs, since pip would read that file: the drift reports it as a parse error.
    """
    env = usable(env_path)
    backend = resolve_backend(installer)
    session = Session(log or Log(), work_dir(env.path, requirements))
    before = snapshot(env)
    report = _drift(env, requirements, roots)
    source = report.source
    if source is None:  # _drift refuses this; kept for the type checker
        raise RequirementsError(f"nothing to sync {env.path} with")
    with exclusive_lock(env.path):
        if any(item.status in DRIFT_STATUSES for item in report.items):
            commands = commands_for(env, backend, index)
            if source.name == "pyproject.toml":
                # pip cannot read pyproject.toml as requirements: pass its own entries.
                specs = [
                    str(item.entry.requirement)
                    for item in report.items
                    if item.entry is not None
                    and item.entry.requirement is not None
                    and item.status != "not-applicable"
                ]
                argv = commands.install(specs)
            else:
                argv = commands.install(requirement_files=[source])
            session.run(argv, f"installing from {source.name}")
            report = _drift(env, requirements, roots)
        for _round in range(_MAX_REMOVAL_ROUNDS):
            if not remove_untracked or not report.untracked:
                break
            names = [project_name(name) for name in report.untracked]
            session.run(commands_for(env, backend, None).uninstall(names), "removing untracked")
            report = _drift(env, requirements, roots)
    return OperationResult(
        "sync",
        env.path,
        backend,
        tuple(session.commands),
        before,
        snapshot(env),
        drift=report,
    )
