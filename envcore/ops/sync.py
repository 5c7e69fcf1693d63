"""Make an environment match its requirements (pip-sync semantics): a sync plan, applied."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from envcore.ops.context import Context
from envcore.ops.plan import _apply, _plan_sync
from envcore.ops.safety import exclusive_lock
from envcore.ops.session import OperationResult, Session, usable, work_dir
from envcore.ops.targets import requirements_for

if TYPE_CHECKING:
    from envcore.requirements.source import SourceChoice


def sync(
    env_path: Path | str,
    requirements: Path | SourceChoice | None = None,
    *,
    keep_untracked: bool = False,
    context: Context | None = None,
) -> OperationResult:
    """Make the environment match its requirements (the project's own when None; a
    `SourceChoice` is read as its kind, as `plan_sync` says).

    Exactly `plan_sync` then `apply_plan` (what the dashboard shows, the command line prints
    and the API returns are one computation), in one session under one lock, so nothing can
    change the environment between the two. Installs what is missing and fixes mismatched
    versions; unless `keep_untracked`, also removes what the requirements no longer need
    (pip, setuptools and wheel are kept). Returns the new drift. With the context's roots,
    requirements that are (or include) a file outside them are refused before pip runs.
    """
    context = context or Context()
    env = usable(env_path)
    source, parsed, testenv = requirements_for(env, requirements, context.roots)
    session = Session(context, work_dir(env, source), prefix=env.path)
    with exclusive_lock(env.path):
        plan = _plan_sync(session, env, source, parsed, testenv, keep_untracked=keep_untracked)
        return _apply(session, env, plan, context.roots)
