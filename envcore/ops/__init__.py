"""The operations that change environments: create, install, upgrade, uninstall, sync,
freeze, recreate, delete. Plain functions, usable without Django.

Each takes its explicit inputs plus a `Context` (installer, index, roots, `Log` callbacks
with the cancel token, journal), built once by the caller, and returns a frozen result
naming every command it ran. Failures raise an EnvcoreError subclass after the environment
has been put back as it was.

Where to look: `context` (what a caller passes), `create`, `packages` (install / upgrade /
uninstall), `plan` (what an operation would change, and applying exactly that), `sync`
(a sync plan applied), `freeze`, `recreate`, `delete`, `recover` (after a crash); `installers`
builds the pip / uv argv, `session` runs them, `safety` holds the path, link and lock
checks, `journal` the record of directories moved aside.
"""

from __future__ import annotations

from envcore.interpreters import Interpreter, list_interpreters
from envcore.ops.context import DEFAULT_TIMEOUT, Context, Log
from envcore.ops.create import create
from envcore.ops.delete import DeleteResult, delete
from envcore.ops.freeze import (
    FreezeMode,
    FreezePlan,
    default_freeze_target,
    plan_freeze,
    write_freeze,
)
from envcore.ops.installers import (
    Backend,
    BackendChoice,
    IndexOptions,
    InstallerChoice,
    choose_backend,
    find_uv,
    parse_installer,
)
from envcore.ops.journal import Journal, JournalEntry, MemoryJournal
from envcore.ops.packages import (
    UpgradeTarget,
    install,
    parse_user_spec,
    parse_user_specs,
    split_user_specs,
    uninstall,
    upgrade,
)
from envcore.ops.plan import (
    Plan,
    PlanAction,
    PlannedChange,
    apply_plan,
    plan_install,
    plan_sync,
    plan_uninstall,
    plan_upgrade,
)
from envcore.ops.recover import RecoveryAction, recover_interrupted
from envcore.ops.recreate import recreate
from envcore.ops.safety import ProcessUse, inside_roots, processes_using, requirements_inside_roots
from envcore.ops.session import OperationResult, project_name
from envcore.ops.sync import sync

__all__ = [
    "DEFAULT_TIMEOUT",
    "Backend",
    "BackendChoice",
    "Context",
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
    "Plan",
    "PlanAction",
    "PlannedChange",
    "ProcessUse",
    "RecoveryAction",
    "UpgradeTarget",
    "apply_plan",
    "choose_backend",
    "create",
    "default_freeze_target",
    "delete",
    "find_uv",
    "inside_roots",
    "install",
    "list_interpreters",
    "parse_installer",
    "parse_user_spec",
    "parse_user_specs",
    "plan_freeze",
    "plan_install",
    "plan_sync",
    "plan_uninstall",
    "plan_upgrade",
    "processes_using",
    "project_name",
    "recover_interrupted",
    "recreate",
    "requirements_inside_roots",
    "split_user_specs",
    "sync",
    "uninstall",
    "upgrade",
    "write_freeze",
]
