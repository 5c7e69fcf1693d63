"""Plans: the exact changes an operation would make to an environment, worked out by the
installer's own resolver in dry-run mode, and `apply_plan`, which makes exactly those.

A plan is shown before anything changes (the dashboard's confirmation, `python -m envcore
plan`), then applied; `sync` is a plan applied at once. Applying refuses when the
environment changed since the plan was made, so what was confirmed is what happens.

This module makes and applies plans; its parts are their own modules, each one idea, and
none imports this one: what a plan is and its JSON (envcore.ops.plans), what a sync is
about (envcore.ops.targets), the installer's dry run (envcore.ops.dryrun) and what a sync
removes (envcore.ops.untracked).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from envcore._files import read_bytes
from envcore.distributions import Inventory, read_inventory
from envcore.environment import Environment
from envcore.errors import InvalidSpecError, PlanOutdatedError, RequirementsError
from envcore.ops.context import Context
from envcore.ops.installers import Commands
from envcore.ops.packages import parse_user_spec
from envcore.ops.safety import exclusive_lock
from envcore.ops.session import OperationResult, Session, project_name, snapshot, usable, work_dir
from envcore.requirements import ParsedRequirements
from envcore.text import counted, shown_argv
from envcore.versions import parse_version

if TYPE_CHECKING:  # drift is read after applying; a plan alone never compares
    from envcore.drift import DriftReport
    from envcore.requirements.source import SourceChoice

from envcore.ops.dryrun import _dry_run, _DryRun, _Resolved
from envcore.ops.plans import KEPT_TOOLS, Plan, PlanAction, PlannedChange
from envcore.ops.targets import _sync_target, _Target, _url_key, requirements_for
from envcore.ops.untracked import _untracked

__all__ = [
    "apply_plan",
    "plan_install",
    "plan_sync",
    "plan_uninstall",
    "plan_upgrade",
]


# --- what a plan carries besides its changes ---------------------------------------------


def _digest(path: Path) -> str | None:
    import hashlib  # only plans that carry files need it: `plan`'s start-up stays lean

    try:
        return str(hashlib.sha256(read_bytes(path)).hexdigest())
    except (OSError, ValueError):
        return None


def _steers_the_installer(parsed: ParsedRequirements) -> bool:
    """Whether the requirements files say where packages come from or how they are
    checked, which apply must pass on: the dry run read it there."""
    options = parsed.options
    return bool(
        options.index_url
        or options.extra_index_urls
        or options.no_index
        or options.find_links
        or options.trusted_hosts
        or options.require_hashes
        or any(entry.hashes for entry in parsed.entries)
    )


def _pinned_exactly(parsed: ParsedRequirements) -> dict[str, str]:
    """Canonical name -> version for the entries that pin one release with `==`."""
    pinned: dict[str, str] = {}
    for entry in parsed.requirements:
        spec = entry.specifier
        if entry.name and spec.startswith("==") and "," not in spec and "*" not in spec:
            pinned[entry.name] = spec[2:].strip()
    return pinned


def _installed(inventory: Inventory) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((d.canonical_name, d.display_version) for d in inventory.distributions))


# --- from the dry run to the changes ------------------------------------------------------


def _action(before: str | None, after: str | None) -> PlanAction:
    if before is None:
        return "install"
    old, new = parse_version(before), parse_version(after) if after else None
    if old is not None and new is not None and new < old:
        return "downgrade"
    return "upgrade"


def _changes(
    inventory: Inventory, installs: Mapping[str, _Resolved], removals: Iterable[str]
) -> tuple[PlannedChange, ...]:
    changes: list[PlannedChange] = []
    for key, item in installs.items():
        dist = inventory.by_name.get(key)
        before = dist.display_version if dist is not None else None
        changes.append(
            PlannedChange(
                item.name,
                _action(before, item.version),
                before,
                item.version,
                item.requirement,
                item.editable,
            )
        )
    for key in removals:
        dist = inventory.by_name[key]
        changes.append(PlannedChange(dist.name, "remove", dist.display_version, None, None))
    return tuple(sorted(changes, key=lambda change: canonicalize_name(change.name)))


def _without_editable_reinstalls(
    inventory: Inventory, installs: Mapping[str, _Resolved]
) -> dict[str, _Resolved]:
    """`installs` less the editable installs already in place (same version, same project
    directory). pip reinstalls every editable requirement on every install; planning that
    would make a project with `-e .` never in sync, while the reinstall changes nothing
    (the code is the directory; new dependencies are planned on their own)."""
    kept: dict[str, _Resolved] = {}
    for key, item in installs.items():
        dist = inventory.by_name.get(key)
        if (
            item.editable
            and dist is not None
            and dist.editable_location is not None
            and item.version == dist.display_version
            and _url_key(item.requirement.partition(" @ ")[2])
            == Path(os.path.normpath(dist.editable_location)).as_uri()
        ):
            continue
        kept[key] = item
    return kept


def _plan_sync(
    session: Session,
    env: Environment,
    source: Path,
    parsed: ParsedRequirements,
    testenv: str | None,
    *,
    keep_untracked: bool,
) -> Plan:
    """The sync plan for requirements already read (and refused if they lead outside the
    roots) before the session was opened: nothing is started or reported for them."""
    inventory = read_inventory(env)
    target = _sync_target(env, inventory, source, parsed)
    if not target.specs and not target.files:
        # A dry run of nothing is the installer's usage text, not a plan.
        raise RequirementsError(
            f"nothing to install from {source}: none of its requirements applies to {env.path}"
        )
    dry = _dry_run(session, env, target.specs, target.files)
    installs = _without_editable_reinstalls(inventory, target.marked(dry.installs))
    dry = replace(dry, installs=installs)
    removals = [] if keep_untracked else _untracked(session, env, inventory, dry, target)
    changes = _changes(inventory, dry.installs, removals)
    via: tuple[tuple[str, str], ...] = ()
    carried: tuple[str, ...] = ()
    if target.files and _steers_the_installer(parsed):
        via = tuple((str(path), _digest(path) or "") for path in parsed.files)
        pinned = _pinned_exactly(parsed)
        carried = tuple(
            key
            for key, item in dry.installs.items()
            if key in pinned and item.version is not None and pinned[key] == item.version
        )
    return Plan(
        environment=env.path,
        installer=session.backend,
        changes=changes,
        source=source,
        dry_run_argv=shown_argv(dry.argv),
        installed=_installed(inventory),
        via_files=via,
        carried=carried,
        testenv=testenv,
    )


def plan_sync(
    env_path: Path | str,
    requirements: Path | SourceChoice | None = None,
    *,
    keep_untracked: bool = False,
    context: Context | None = None,
) -> Plan:
    """What `sync` would change: the requirements (the project's own when None, with any
    constraints they include) resolved by the installer's dry run, keeping installed versions
    that satisfy them, as the installer does; then, unless `keep_untracked`, the removal of
    every distribution the requirements no longer need (pip-sync; pip, setuptools and wheel
    stay). With the context's roots, requirements outside them are refused before any run.
    `requirements` may be a `SourceChoice` (the dashboard passes what the page shows): it is
    read as its kind, a tox env's deps from its tox configuration.
    """
    context = context or Context()
    env = usable(env_path)
    source, parsed, testenv = requirements_for(env, requirements, context.roots)
    session = Session(context, work_dir(env, source), prefix=env.path)
    return _plan_sync(session, env, source, parsed, testenv, keep_untracked=keep_untracked)


# --- applying ------------------------------------------------------------------------------


def _check_current(plan: Plan, installed: Mapping[str, str]) -> None:
    if plan.installed and dict(plan.installed) != installed:
        then = dict(plan.installed)
        name = min(
            key for key in then.keys() | installed.keys() if then.get(key) != installed.get(key)
        )
        raise PlanOutdatedError(
            f"{plan.environment} changed since the plan: {name} is now "
            f"{installed.get(name) or 'not installed'}, the plan expected "
            f"{then.get(name) or 'not installed'}; make the plan again"
        )
    for change in plan.changes:
        now = installed.get(canonicalize_name(change.name))
        if now != change.before:
            was = change.before or "not installed"
            raise PlanOutdatedError(
                f"{plan.environment} changed since the plan: {change.name} is now "
                f"{now or 'not installed'}, the plan expected {was}; make the plan again"
            )


def _checked_files(plan: Plan) -> list[Path]:
    """The requirements file apply passes on (see Plan.via_files), once every file it
    reads is byte for byte what the plan saw: it could otherwise name another index."""
    for path, digest in plan.via_files:
        if _digest(Path(path)) != digest or not digest:
            raise PlanOutdatedError(
                f"{path} changed since the plan (or cannot be read); make the plan again"
            )
    return [plan.source] if plan.via_files and plan.source is not None else []


def _apply(
    session: Session, env: Environment, plan: Plan, roots: Sequence[Path | str] | None
) -> OperationResult:
    """Apply `plan` (the caller holds the environment's lock)."""
    before = snapshot(env)
    _check_current(plan, dict(before))
    commands: Commands = session.commands(env)
    files = _checked_files(plan)
    installs = [change for change in plan.changes if change.requirement is not None]
    carried = set(plan.carried)
    pins = [
        c.requirement
        for c in installs
        if c.requirement is not None and not c.editable and canonicalize_name(c.name) not in carried
    ]
    editables = [
        c.requirement.split(" @ ", 1)[1]
        for c in installs
        if c.requirement is not None and c.editable
    ]
    if installs:
        # --no-deps: the plan already holds every change the resolver wanted; resolving
        # again could bring in something nobody confirmed (a release published since).
        argv = commands.install_exact(pins, editables, requirement_files=files)
        session.run(
            argv,
            f"installing {counted(len(installs), 'planned package')}",
        )
    removals = [change.name for change in plan.changes if change.action == "remove"]
    if removals:
        session.run(
            commands.uninstall(removals),
            f"removing {counted(len(removals), 'package')}",
        )
    drift: DriftReport | None = None
    if plan.source is not None and plan.operation == "sync":
        from envcore.drift import drift_for_environment

        drift = drift_for_environment(
            env, read_inventory(env), plan.source, choice=_read_as(plan), roots=roots
        )
    return session.result(plan.operation, env.path, before, snapshot(env), drift=drift)


def _read_as(plan: Plan) -> SourceChoice | None:
    """How apply's drift reads the plan's source: as the tox env's deps it was planned from,
    else (None) by its file name."""
    if plan.source is None or plan.testenv is None:
        return None
    from envcore.requirements.source import SourceChoice

    return SourceChoice(plan.source, "tox", "the deps the plan was made from", plan.testenv)


def apply_plan(plan: Plan, *, context: Context | None = None) -> OperationResult:
    """Make exactly the plan's changes, with the installer that made it: its pins installed
    without dependencies, its removals uninstalled. Refuses with PlanOutdatedError when an
    installed version differs from the plan's `before` (the environment changed since)."""
    context = replace(context or Context(), installer=plan.installer)
    env = usable(plan.environment)
    session = Session(context, work_dir(env, plan.source), prefix=env.path)
    with exclusive_lock(env.path):
        return _apply(session, env, plan, context.roots)


def _simple_plan(
    session: Session,
    env: Environment,
    dry: _DryRun,
    operation: str,
    source: Path | None = None,
) -> Plan:
    inventory = read_inventory(env)
    return Plan(
        environment=env.path,
        installer=session.backend,
        changes=_changes(inventory, dry.installs, ()),
        source=source,
        dry_run_argv=shown_argv(dry.argv),
        operation=operation,
        installed=_installed(inventory),
    )


def plan_install(
    env_path: Path | str,
    specs: Iterable[str],
    *,
    allow_urls: bool = False,
    context: Context | None = None,
) -> Plan:
    """What installing user-typed `specs` would change (a row's "install the required
    version", "install missing"): the spec's version, and whatever the resolver needs for
    it; installed versions that satisfy stay, as with `install`. Nothing is removed."""
    parsed = [str(parse_user_spec(spec, allow_urls=allow_urls)) for spec in specs]
    if not parsed:
        raise InvalidSpecError("nothing to install: give at least one package spec")
    env = usable(env_path)
    session = Session(context or Context(), work_dir(env), prefix=env.path)
    return _simple_plan(session, env, _dry_run(session, env, parsed, ()), "install")


def plan_uninstall(
    env_path: Path | str, names: Iterable[str], *, context: Context | None = None
) -> Plan:
    """Removing `names` (names only), each of which must be installed. No dry run: an
    uninstall removes exactly what it names and resolves nothing."""
    wanted = [project_name(name) for name in names]
    if not wanted:
        raise InvalidSpecError("nothing to uninstall: give at least one name")
    env = usable(env_path)
    inventory = read_inventory(env)
    keys = [canonicalize_name(name) for name in wanted]
    for name, key in zip(wanted, keys, strict=True):
        if key not in inventory.by_name:
            raise InvalidSpecError(f"{name} is not installed in {env.path}")
    backend = Session(context or Context(), prefix=env.path).backend
    return Plan(
        environment=env.path,
        installer=backend,
        changes=_changes(inventory, {}, sorted(set(keys))),
        source=None,
        dry_run_argv=(),
        operation="uninstall",
        installed=_installed(inventory),
    )


def plan_upgrade(
    env_path: Path | str,
    requirements: Path | SourceChoice | None = None,
    *,
    names: Iterable[str] | None = None,
    include_tools: bool = False,
    context: Context | None = None,
) -> Plan:
    """What "upgrade all" (or, with `names`, upgrading those) would change: every project
    the requirements (the project's own when None; a `SourceChoice` as in `plan_sync`)
    name, to the newest version they allow,
    plus whatever the resolver needs for them; dependencies move only if they must.

    pip, setuptools and wheel are held at their installed versions (as constraints, so the
    resolver itself keeps them) unless `include_tools`: the environment's installer is no
    requirement of the project. Without a requirements source, `names` are upgraded to
    their newest release; a tool in `names` is upgraded like any other name. With pip,
    `names` are passed as specs (pip has no per-package --upgrade), with the constraint
    files the requirements include.
    """
    context = context or Context()
    env = usable(env_path)
    inventory = read_inventory(env)
    wanted = None if names is None else {canonicalize_name(project_name(n)) for n in names}
    try:
        source, parsed, _testenv = requirements_for(env, requirements, context.roots)
    except RequirementsError:
        if requirements is not None or not wanted:
            raise
        source, parsed = None, None
    session = Session(context, work_dir(env, source), prefix=env.path)
    held = set() if include_tools else {key for key in KEPT_TOOLS if key in inventory.by_name}
    held -= wanted or set()  # a tool named on purpose is upgraded
    target: _Target | None = None
    specs: list[str] = []
    files: list[Path] = []
    constraint_files: list[Path] = []
    if parsed is not None and source is not None:
        target = _sync_target(env, inventory, source, parsed)
        named = [canonicalize_name(name) for name, _extras in target.roots]
        upgrade = [key for key in named if key not in held and (wanted is None or key in wanted)]
        if wanted is not None:
            upgrade += sorted(wanted - set(named))
        entries = {entry.name: entry for entry in parsed.requirements if entry.name}
        if session.backend == "pip" and wanted is not None:
            for key in upgrade:
                entry = entries.get(key)
                requirement = entry.requirement if entry is not None else None
                specs.append(str(requirement) if requirement is not None else key)
            constraint_files = sorted({entry.path for entry in parsed.constraints})
        else:  # the requirements as sync gives them, and the names they do not name
            specs = [*target.specs, *sorted((wanted or set()) - set(named))]
            files = list(target.files)
    else:
        for key in sorted(wanted or ()):
            if key not in inventory.by_name:
                raise InvalidSpecError(f"{key} is not installed in {env.path}")
        upgrade = sorted(key for key in wanted or () if key not in held)
        specs = list(upgrade)
    if not upgrade:
        raise InvalidSpecError("nothing to upgrade: the requirements name no package to upgrade")
    with tempfile.TemporaryDirectory(prefix="envdash-plan-") as scratch:
        if held:
            pins = Path(scratch) / "tools.txt"
            pins.write_text(
                "".join(f"{key}=={inventory.by_name[key].version}\n" for key in sorted(held)),
                encoding="utf-8",
            )
            constraint_files.append(pins)
        dry = _dry_run(
            session, env, specs, files, upgrade=upgrade, constraint_files=constraint_files
        )
    if target is not None:
        installs = _without_editable_reinstalls(inventory, target.marked(dry.installs))
        dry = replace(dry, installs=installs)
    return _simple_plan(session, env, dry, "upgrade", source)
