"""Job kinds: each one a Form (what the user may ask, refused in one line otherwise) and a
run function (what it does with envcore.ops), found by its name in `KINDS`.

Every job on an existing environment first passes `validate`: the environment must still
be on disk and inside the scan roots. The Forms are in `lifecycle` (create, recreate,
delete), `packageforms` (install, upgrade, upgrade all, uninstall, sync, freeze) and
`planforms` (plan, apply); the run functions in `dashboard.jobs.operations`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dashboard.jobs import operations
from dashboard.jobs.forms import JobError, JobForm, JobStateError
from dashboard.jobs.lifecycle import CreateForm, DeleteForm, RecreateForm, recreate_choices
from dashboard.jobs.models import Job
from dashboard.jobs.packageforms import (
    FreezeForm,
    InstallForm,
    SyncForm,
    UninstallForm,
    UpgradeAllForm,
    UpgradeForm,
)
from dashboard.jobs.planforms import ApplyForm, PlanForm
from dashboard.models import Environment
from dashboard.scanning import scan_plan
from envcore.requirements import roots_refusal

__all__ = [
    "KINDS",
    "JobError",
    "JobStateError",
    "Kind",
    "validate",
    "validate_create",
]


# -- the registry -------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One job kind: its Form, its run function, and how its pages differ."""

    form: type[JobForm]
    run: operations.Run
    #: The kind makes a new environment (its own page), instead of running on one.
    creates: bool = False
    #: The kind moves the environment's directory aside (the operation refuses a scan root
    #: itself): the environment must lie strictly below a root.
    moves_aside: bool = False
    #: A kind that destroys or replaces something posts to this confirmation first: a
    #: page, so it holds without JavaScript and for a plain POST.
    confirm_template: str = ""
    #: Whether this POST's parameters need that confirmation (sync only when it removes).
    confirms: Callable[[Mapping[str, Any]], bool] = field(default=lambda data: True)
    #: What that confirmation shows besides the environment (choices, what is left out).
    confirm_context: Callable[[Environment], dict[str, object]] = field(default=lambda env: {})
    #: Its confirmation button is red: what it removes cannot be brought back.
    danger: bool = False
    #: What the finished job's page shows of its result (beyond the log).
    result_template: str = ""
    #: True when a job with these parameters only reads: cut short, it changed nothing.
    reads_only: Callable[[dict[str, Any]], bool] = field(default=lambda params: False)
    #: It runs the environment's own Python (pip, the dry run), so a broken one refuses it.
    needs_python: bool = True


KINDS: dict[str, Kind] = {
    Job.Kind.CREATE: Kind(
        CreateForm, operations.create, creates=True, result_template="jobs/_create_result.html"
    ),
    Job.Kind.INSTALL: Kind(InstallForm, operations.install),
    Job.Kind.UPGRADE: Kind(UpgradeForm, operations.upgrade),
    Job.Kind.UPGRADE_ALL: Kind(UpgradeAllForm, operations.upgrade_all),
    Job.Kind.UNINSTALL: Kind(
        UninstallForm,
        operations.uninstall,
        confirm_template="jobs/_confirm_uninstall.html",
        danger=True,
    ),
    Job.Kind.SYNC: Kind(
        SyncForm,
        operations.sync,
        confirm_template="jobs/_confirm_sync.html",
        confirms=lambda data: data.get("remove_untracked") == "1",
        danger=True,
    ),
    Job.Kind.FREEZE: Kind(
        FreezeForm,
        operations.freeze,
        result_template="jobs/_freeze_result.html",
        reads_only=lambda params: not params.get("write"),
    ),
    Job.Kind.RECREATE: Kind(
        RecreateForm,
        operations.recreate,
        confirm_template="jobs/_confirm_recreate.html",
        confirm_context=recreate_choices,
        moves_aside=True,
        needs_python=False,
    ),
    Job.Kind.DELETE: Kind(
        DeleteForm,
        operations.delete,
        confirm_template="jobs/_confirm_delete.html",
        danger=True,
        moves_aside=True,
        needs_python=False,
    ),
    Job.Kind.PLAN: Kind(PlanForm, operations.plan, reads_only=lambda params: True),
    Job.Kind.APPLY: Kind(ApplyForm, operations.apply),
}


def validate(kind: str, env: Environment, data: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of a `kind` job on `env`, or JobError with the one-line refusal
    (JobStateError when it is the environment's state that refuses, not the input)."""
    if env.gone_at is not None:
        raise JobStateError(f"{env.path} is gone from disk; rescan or recreate it elsewhere")
    spec = KINDS.get(kind)
    strictly = spec is not None and spec.moves_aside
    refusal = roots_refusal(env.path, scan_plan().roots, strictly=strictly)
    if refusal:
        raise JobError(f"{env.path} {refusal}")
    if spec is None or spec.creates:
        raise JobError(f"unknown job kind {kind!r}")
    if spec.needs_python and env.health == "broken":
        # The page offers no such button on a broken environment; a crafted POST (or an API
        # call) is refused here rather than failing in the worker.
        raise JobStateError(
            f"{env.path} is broken ({env.broken_reason or 'its Python cannot run'}); "
            "recreate it first"
        )
    return _params(spec.form(data, env))


def validate_create(data: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of a job making a new environment, or JobError."""
    return _params(CreateForm(data))


def _params(form: JobForm) -> dict[str, Any]:
    if not form.is_valid():
        raise JobError(form.first_error())
    return form.params()
