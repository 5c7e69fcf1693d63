"""A plan as a value: the changes one operation would make to one environment
(`PlannedChange`, `Plan`) and its JSON, which the dashboard stores between showing a plan
and applying it. A stored plan is input like any other, so `Plan.from_json` checks it field
by field. Making a plan is envcore.ops.plan's; this module only says what one is, so that
the dry run, the targets and the removals can name it without importing the planner."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from packaging.utils import canonicalize_name

from envcore.errors import InvalidSpecError
from envcore.ops.installers import Backend
from envcore.ops.packages import parse_user_spec
from envcore.ops.session import project_name

__all__ = ["KEPT_TOOLS", "Plan", "PlanAction", "PlannedChange"]


PlanAction = Literal["install", "upgrade", "downgrade", "remove"]
_ACTIONS: tuple[PlanAction, ...] = ("install", "upgrade", "downgrade", "remove")
#: The installers' own tools: never removed as untracked (as pip-sync), and left alone by
#: "upgrade all" unless asked for.
KEPT_TOOLS = frozenset({"pip", "setuptools", "wheel"})


@dataclass(frozen=True)
class PlannedChange:
    """One change: `before` is the installed version (None for an install), `after` the
    version to install (None for a removal, and for a direct URL uv names no version of).
    `requirement` is exactly what apply installs (`name==1.2`, `name @ url`), with
    `editable` for an editable install of that URL. An "upgrade" at the same version is a
    reinstall from another source (a direct URL instead of an index release)."""

    name: str
    action: PlanAction
    before: str | None
    after: str | None
    requirement: str | None
    editable: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "action": self.action,
            "from": self.before,
            "to": self.after,
            "requirement": self.requirement,
            "editable": self.editable,
        }


@dataclass(frozen=True)
class Plan:
    """The changes one operation would make to one environment, and how they were found."""

    environment: Path
    installer: Backend
    changes: tuple[PlannedChange, ...]
    source: Path | None
    #: The dry run, as shown (credentials in index URLs hidden): never run again.
    dry_run_argv: tuple[str, ...]
    #: What applying it is reported as: sync, install, upgrade or uninstall.
    operation: str = "sync"
    #: Every installed distribution (canonical name, version) when the plan was made: apply
    #: refuses if any of them moved, not only the ones it changes (a package installed
    #: since may need one the plan removes).
    installed: tuple[tuple[str, str], ...] = ()
    #: The requirements files (path, sha256) apply hands the installer again, beside the
    #: pins, because they steer where packages come from or how they are checked (index
    #: options, find-links, hashes): bare pins would lose that. Apply refuses if one changed.
    via_files: tuple[tuple[str, str], ...] = ()
    #: Canonical names those files already pin at exactly the planned version: apply leaves
    #: them to the file (in hash-checking mode every requirement must carry its hashes).
    carried: tuple[str, ...] = ()
    #: For a tox env: the `[testenv:NAME]` whose deps `source` was read for (None: the
    #: source is read by its file name), so that apply's drift reads it the same way.
    testenv: str | None = None

    @property
    def empty(self) -> bool:
        return not self.changes

    def to_json(self) -> dict[str, object]:
        return {
            "environment": str(self.environment),
            "installer": self.installer,
            "operation": self.operation,
            "source": str(self.source) if self.source is not None else None,
            "dry_run_argv": list(self.dry_run_argv),
            "actions": [change.to_json() for change in self.changes],
            "installed": [list(pair) for pair in self.installed],
            "via_files": [list(pair) for pair in self.via_files],
            "carried": list(self.carried),
            "testenv": self.testenv,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Plan:
        """The plan `to_json` gave, checked field by field: a stored plan is input like any
        other, and what apply would hand the installer must be a plain requirement."""
        try:
            installer = data["installer"]
            if installer not in ("pip", "uv"):
                raise InvalidSpecError(f"a plan's installer is pip or uv, not {installer!r}")
            source = data.get("source")
            argv = data.get("dry_run_argv", [])
            operation = data.get("operation", "sync")
            actions = data["actions"]
            installed = data.get("installed", [])
            via_files = data.get("via_files", [])
            carried = data.get("carried", [])
            if not (
                isinstance(actions, list)
                and isinstance(argv, list)
                and isinstance(installed, list)
                and isinstance(via_files, list)
                and isinstance(carried, list)
            ):
                raise InvalidSpecError("a plan's actions, argv, files and installed set are lists")
            return cls(
                environment=Path(_text(data["environment"])),
                installer=cast(Backend, installer),
                changes=tuple(_change_from_json(item) for item in actions),
                source=Path(_text(source)) if source is not None else None,
                dry_run_argv=tuple(_text(arg) for arg in argv),
                operation=_text(operation),
                installed=tuple(_installed_pair(pair) for pair in installed),
                via_files=tuple(_file_pair(pair) for pair in via_files),
                carried=tuple(canonicalize_name(_text(name)) for name in carried),
                testenv=_optional_text(data.get("testenv")),
            )
        except KeyError as exc:
            raise InvalidSpecError(f"not a plan: {exc.args[0]!r} is missing") from exc


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidSpecError(f"not a plan: {value!r} is not text")
    return value


def _installed_pair(pair: object) -> tuple[str, str]:
    if not isinstance(pair, list) or len(pair) != 2:
        raise InvalidSpecError("not a plan: an installed entry is [name, version]")
    return canonicalize_name(_text(pair[0])), _text(pair[1])


def _file_pair(pair: object) -> tuple[str, str]:
    if not isinstance(pair, list) or len(pair) != 2:
        raise InvalidSpecError("not a plan: a file entry is [path, sha256]")
    path, digest = _text(pair[0]), _text(pair[1])
    if not Path(path).is_absolute() or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise InvalidSpecError("not a plan: a file entry is an absolute path and a sha256")
    return path, digest


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _change_from_json(item: object) -> PlannedChange:
    if not isinstance(item, Mapping):
        raise InvalidSpecError("not a plan: an action is not an object")
    action = item["action"]
    if action not in _ACTIONS:
        raise InvalidSpecError(f"not a plan: unknown action {action!r}")
    name = project_name(_text(item["name"]))
    requirement = _optional_text(item.get("requirement"))
    if (requirement is None) != (action == "remove"):
        raise InvalidSpecError(f"not a plan: {name} has no requirement to install")
    if requirement is not None:
        parsed = parse_user_spec(requirement, allow_urls=True)
        if canonicalize_name(parsed.name) != canonicalize_name(name):
            raise InvalidSpecError(f"not a plan: {requirement!r} does not install {name}")
    editable = item.get("editable", False)
    if not isinstance(editable, bool):
        raise InvalidSpecError("not a plan: editable is true or false")
    if editable and (requirement is None or " @ " not in requirement):
        raise InvalidSpecError(f"not a plan: the editable {name} has no URL to install from")
    return PlannedChange(
        name=name,
        action=cast(PlanAction, action),
        before=_optional_text(item.get("from")),
        after=_optional_text(item.get("to")),
        requirement=requirement,
        editable=editable,
    )
