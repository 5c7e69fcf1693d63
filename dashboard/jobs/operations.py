"""What each job kind runs: its validated parameters handed to envcore.ops, the outcome
as a one-line summary and the data its page shows. `kinds.KINDS` says which kind runs which.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast, get_args

from django.conf import settings

from dashboard.indexes import envdash_overrides, index_config
from dashboard.jobs.journal import DatabaseJournal
from dashboard.jobs.models import Interpreter, Job
from dashboard.lockpins import held_lock
from dashboard.models import Environment
from dashboard.scanning import scan_plan
from envcore import ops
from envcore.errors import EnvcoreError
from envcore.requirements.source import SourceChoice, SourceKindName, source_kind
from envcore.text import counted

__all__ = [
    "RETRY_INSTALLER",
    "Context",
    "Outcome",
    "Run",
    "apply",
    "create",
    "delete",
    "freeze",
    "install",
    "installer_for",
    "plan",
    "recreate",
    "sync",
    "uninstall",
    "upgrade",
    "upgrade_all",
]

#: A one-line summary, and data for the job's page (`Job.result`).
Outcome = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Context:
    """What every job runs with: its environment, and envcore's settings for this job (the
    dashboard's installer, index and scan roots, the log its output streams to, the journal
    of directories it moves aside)."""

    path: str
    env: Environment | None
    ops_context: ops.Context

    @classmethod
    def of(cls, job: Job, log: ops.Log) -> Context:
        return cls(
            path=job.env_path,
            env=job.environment,
            ops_context=ops.Context(
                installer=installer_for(job),
                index=_index(job.env_path),
                roots=list(scan_plan().roots),
                log=log,
                journal=DatabaseJournal(job.pk),
            ),
        )

    @property
    def source(self) -> SourceChoice | None:
        """What the environment's page holds it to, as the last scan recorded it: the file
        and how it is read (a tox env's deps from its tox configuration, not that file as
        requirements). Sync and upgrade plans are about exactly that."""
        env = self.env
        if env is None or not env.requirements_source:
            return None
        path = Path(env.requirements_source)
        kind = env.source_kind if env.source_kind in get_args(SourceKindName) else ""
        return SourceChoice(
            path, cast(SourceKindName, kind or source_kind(path)), env.source_reason
        )

    @property
    def lock(self) -> Path | None:
        """The lock file the environment is held to (upgrades leave what it pins alone)."""
        return held_lock(self.env) if self.env is not None else None


Run = Callable[[dict[str, Any], Context], Outcome]

#: The one installer a job's parameters may name: Retry with pip puts it there (never a
#: Form, so nothing posted can choose an installer, let alone pass pip an option).
RETRY_INSTALLER = "pip"


def installer_for(job: Job) -> str:
    """pip for a job queued by Retry with pip, else the dashboard's ENVDASH_INSTALLER."""
    if job.params.get("installer") == RETRY_INSTALLER:
        return RETRY_INSTALLER
    return str(settings.INSTALLER)


def _index(env_path: str) -> ops.IndexOptions | None:
    """The indexes the update checks see for this environment; None when no ENVDASH_ index
    setting is set, so the installers read the user's pip settings themselves."""
    if not envdash_overrides():
        return None
    return ops.IndexOptions.from_config(index_config(Path(env_path)))


def _changed(result: ops.OperationResult) -> Outcome:
    changes = list(result.changes)
    summary = "; ".join(changes[:5]) + (f" and {len(changes) - 5} more" if len(changes) > 5 else "")
    return summary or "nothing changed", {"changes": changes}


def create(params: dict[str, Any], ctx: Context) -> Outcome:
    result = ops.create(
        params["path"],
        params["interpreter"],
        system_site_packages=params["system_site_packages"],
        prompt=params["prompt"] or None,
        requirements=Path(params["requirements"]) if params["requirements"] else None,
        context=ctx.ops_context,
    )
    return _changed(result)


def install(params: dict[str, Any], ctx: Context) -> Outcome:
    """Install the given specs."""
    result = ops.install(ctx.path, params["specs"], context=ctx.ops_context)
    return _changed(result)


def upgrade_all(params: dict[str, Any], ctx: Context) -> Outcome:
    """Install the newest allowed versions; a package the environment's lock pins (pinned
    since the job was queued) is refused before anything runs."""
    result = ops.install(ctx.path, params["specs"], held_to=ctx.lock, context=ctx.ops_context)
    return _changed(result)


def upgrade(params: dict[str, Any], ctx: Context) -> Outcome:
    result = ops.upgrade(
        ctx.path,
        params["name"],
        params["target"],
        specifier=params.get("specifier") or None,
        held_to=ctx.lock,
        context=ctx.ops_context,
    )
    return _changed(result)


def uninstall(params: dict[str, Any], ctx: Context) -> Outcome:
    return _changed(ops.uninstall(ctx.path, [params["name"]], context=ctx.ops_context))


def sync(params: dict[str, Any], ctx: Context) -> Outcome:
    result = ops.sync(
        ctx.path,
        ctx.source,
        keep_untracked=not params["remove_untracked"],
        context=ctx.ops_context,
    )
    return _changed(result)


def freeze(params: dict[str, Any], ctx: Context) -> Outcome:
    """A preview (the diff, and a digest of the file it saw), or the write it was for."""
    # "replace" is a plain freeze the user chose to write over the requirements file.
    mode: ops.FreezeMode = "update" if params["mode"] == "update" else "plain"
    plan = ops.plan_freeze(ctx.path, params["target"], mode, context=ctx.ops_context)
    digest = hashlib.sha256((plan.old_text or "").encode()).hexdigest()
    data = {
        "diff": plan.diff,
        "target": str(plan.path),
        "expected": digest,
        "changed": plan.changed,
        "existed": plan.old_text is not None,
        "notes": list(plan.notes),
    }
    if not params["write"]:
        return ("no change" if not plan.changed else "preview ready: review the diff"), data
    if params.get("expected") and params["expected"] != digest:
        raise EnvcoreError(f"{plan.path} changed since the preview; preview again")
    backup = ops.write_freeze(plan, context=ctx.ops_context)
    data["backup"] = str(backup) if backup else ""
    return f"wrote {plan.path}" + (f" (backup {backup.name})" if backup else ""), data


def recreate(params: dict[str, Any], ctx: Context) -> Outcome:
    result = ops.recreate(
        ctx.path,
        params.get("interpreter") or None,
        requirements=ctx.source,
        context=ctx.ops_context,
        # Only a job queued without a chosen interpreter needs the trusted list.
        trusted=None
        if params.get("interpreter")
        else list(Interpreter.objects.values_list("path", flat=True)),
    )
    # The same versions again is the point of a recreate, not "nothing changed".
    summary, extra = _changed(result)
    rebuilt = f"recreated with {counted(len(result.after), 'package')} reinstalled"
    return (f"{rebuilt}; {summary}" if extra["changes"] else rebuilt), extra


def delete(params: dict[str, Any], ctx: Context) -> Outcome:
    deleted = ops.delete(ctx.path, force=params["force"], context=ctx.ops_context)
    return f"deleted {deleted.path}", {}


def plan(params: dict[str, Any], ctx: Context) -> Outcome:
    """Work out what the change would do (the installer's dry run), changing nothing; the
    plan is stored as the job's result for the user to confirm."""
    purpose, context = params["purpose"], ctx.ops_context
    if purpose == "sync":
        planned = ops.plan_sync(
            ctx.path,
            ctx.source,
            keep_untracked=not params["remove_untracked"],
            context=context,
        )
    elif purpose == "install":
        planned = ops.plan_install(ctx.path, params["specs"], context=context)
    elif purpose == "remove":
        planned = ops.plan_uninstall(ctx.path, params["names"], context=context)
    elif purpose == "upgrade":
        planned = ops.plan_upgrade(
            ctx.path, ctx.source, include_tools=params["include_tools"], context=context
        )
    else:
        raise EnvcoreError(f"unknown plan purpose {purpose!r}")
    count = len(planned.changes)
    summary = f"{counted(count, 'change')} planned" if count else "nothing to change"
    return summary, {"plan": planned.to_json()}


def apply(params: dict[str, Any], ctx: Context) -> Outcome:
    """Apply exactly the confirmed plan; envcore refuses it (PlanOutdatedError, one line)
    when the environment changed since it was made."""
    planned = ops.Plan.from_json(params["plan"])
    if Path(planned.environment) != Path(ctx.path):
        raise EnvcoreError(f"that plan is for {planned.environment}, not {ctx.path}")
    if ctx.ops_context.installer == RETRY_INSTALLER:
        # Retry with pip: the pins are exact, so pip installs the same plan uv failed on.
        planned = replace(planned, installer="pip")
    return _changed(ops.apply_plan(planned, context=ctx.ops_context))
