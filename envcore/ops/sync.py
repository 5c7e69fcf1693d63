"""Make an environment match its requirements (pip-sync semantics)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from envcore.distributions import read_inventory
from envcore.drift import DRIFT_STATUSES, DriftReport, drift_for_environment
from envcore.environment import Environment
from envcore.errors import RequirementsError
from envcore.ops.context import Context
from envcore.ops.safety import exclusive_lock
from envcore.ops.session import (
    OperationResult,
    Session,
    project_name,
    snapshot,
    usable,
    work_dir,
)

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
    context: Context | None = None,
) -> OperationResult:
    """Make the environment match its requirements (the project's own when None).

    Installs what is missing and fixes mismatched versions; with `remove_untracked`, also
    uninstalls distributions nothing asks for, and then whatever that leaves unneeded
    (pip-sync semantics; pip, setuptools and wheel are kept). Returns the new drift.
    With the context's roots, requirements that are (or include) a file outside them are refused
    before pip runs, since pip would read that file: the drift reports it as a parse error.
    """
    context = context or Context()
    roots = context.roots
    env = usable(env_path)
    session = Session(context, work_dir(env.path, requirements))
    before = snapshot(env)
    report = _drift(env, requirements, roots)
    source = report.source
    if source is None:  # _drift refuses this; kept for the type checker
        raise RequirementsError(f"nothing to sync {env.path} with")
    with exclusive_lock(env.path):
        if any(item.status in DRIFT_STATUSES for item in report.items):
            commands = session.commands(env)
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
            session.run(session.commands(env).uninstall(names), "removing untracked")
            report = _drift(env, requirements, roots)
    return session.result("sync", env.path, before, snapshot(env), drift=report)
