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

import importlib
import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
        apply_plan,
        plan_install,
        plan_sync,
        plan_uninstall,
        plan_upgrade,
    )
    from envcore.ops.plans import Plan, PlanAction, PlannedChange
    from envcore.ops.recover import RecoveryAction, recover_interrupted
    from envcore.ops.recreate import recreate
    from envcore.ops.safety import (
        ProcessUse,
        inside_roots,
        processes_using,
        requirements_inside_roots,
    )
    from envcore.ops.session import OperationResult, project_name
    from envcore.ops.sync import sync

#: Each public name → the module defining it. `import envcore.ops.plan` runs this package's
#: `__init__` first: importing every operation here would make the CLI's `plan` load
#: create, the interpreter list and psutil too, so a name is imported on first use (PEP 562).
_EXPORTS = {
    "Backend": "envcore.ops.installers",
    "BackendChoice": "envcore.ops.installers",
    "Context": "envcore.ops.context",
    "DEFAULT_TIMEOUT": "envcore.ops.context",
    "DeleteResult": "envcore.ops.delete",
    "FreezeMode": "envcore.ops.freeze",
    "FreezePlan": "envcore.ops.freeze",
    "IndexOptions": "envcore.ops.installers",
    "InstallerChoice": "envcore.ops.installers",
    "Interpreter": "envcore.interpreters",
    "Journal": "envcore.ops.journal",
    "JournalEntry": "envcore.ops.journal",
    "Log": "envcore.ops.context",
    "MemoryJournal": "envcore.ops.journal",
    "OperationResult": "envcore.ops.session",
    "Plan": "envcore.ops.plans",
    "PlanAction": "envcore.ops.plans",
    "PlannedChange": "envcore.ops.plans",
    "ProcessUse": "envcore.ops.safety",
    "RecoveryAction": "envcore.ops.recover",
    "UpgradeTarget": "envcore.ops.packages",
    "apply_plan": "envcore.ops.plan",
    "choose_backend": "envcore.ops.installers",
    "create": "envcore.ops.create",
    "default_freeze_target": "envcore.ops.freeze",
    "delete": "envcore.ops.delete",
    "find_uv": "envcore.ops.installers",
    "inside_roots": "envcore.ops.safety",
    "install": "envcore.ops.packages",
    "list_interpreters": "envcore.interpreters",
    "parse_installer": "envcore.ops.installers",
    "parse_user_spec": "envcore.ops.packages",
    "parse_user_specs": "envcore.ops.packages",
    "plan_freeze": "envcore.ops.freeze",
    "plan_install": "envcore.ops.plan",
    "plan_sync": "envcore.ops.plan",
    "plan_uninstall": "envcore.ops.plan",
    "plan_upgrade": "envcore.ops.plan",
    "processes_using": "envcore.ops.safety",
    "project_name": "envcore.ops.session",
    "recover_interrupted": "envcore.ops.recover",
    "recreate": "envcore.ops.recreate",
    "requirements_inside_roots": "envcore.ops.safety",
    "split_user_specs": "envcore.ops.packages",
    "sync": "envcore.ops.sync",
    "uninstall": "envcore.ops.packages",
    "upgrade": "envcore.ops.packages",
    "write_freeze": "envcore.ops.freeze",
}

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


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """Keeps `envcore.ops.sync` (and create, delete, recreate) the function, as the eager
    imports made it: the first import of the submodule of that name would otherwise bind
    the module over it, and `from envcore.ops import sync` would depend on import order."""

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, types.ModuleType) and name in _EXPORTS:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
