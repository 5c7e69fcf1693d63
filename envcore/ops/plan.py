"""Plans: the exact changes an operation would make to an environment, worked out by the
installer's own resolver in dry-run mode, and `apply_plan`, which makes exactly those.

A plan is shown before anything changes (the dashboard's confirmation, `python -m envcore
plan`), then applied; `sync` is a plan applied at once. Applying refuses when the
environment changed since the plan was made, so what was confirmed is what happens.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from envcore._files import read_bytes
from envcore._install_source import match_unnamed
from envcore.distributions import Inventory, parse_dependency, read_inventory
from envcore.environment import Environment
from envcore.errors import (
    CommandFailedError,
    InvalidSpecError,
    PlanOutdatedError,
    RequirementsError,
)
from envcore.locks import is_lock_file, locked_version
from envcore.ops.context import Context
from envcore.ops.installers import Backend, Commands
from envcore.ops.packages import parse_user_spec
from envcore.ops.safety import exclusive_lock
from envcore.ops.session import (
    OperationResult,
    Session,
    project_name,
    snapshot,
    usable,
    work_dir,
)
from envcore.requirements import (
    ParsedRequirements,
    RequirementEntry,
    load_requirements,
    roots_refusal,
)
from envcore.text import counted, shown_argv
from envcore.versions import parse_version

if TYPE_CHECKING:  # drift is read after applying; a plan alone never compares
    from envcore.drift import DriftReport

__all__ = [
    "KEPT_TOOLS",
    "Plan",
    "PlanAction",
    "PlannedChange",
    "apply_plan",
    "plan_install",
    "plan_sync",
    "plan_uninstall",
    "plan_upgrade",
]

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


# --- what the installer's dry run says ---------------------------------------------------


@dataclass(frozen=True)
class _Resolved:
    """One distribution the dry run would install. `requires` is its Requires-Dist from
    pip's report; None when the installer does not say (uv)."""

    name: str
    version: str | None
    requirement: str
    editable: bool
    requires: tuple[str, ...] | None
    requested: bool = False
    extras: tuple[str, ...] = ()


@dataclass(frozen=True)
class _DryRun:
    argv: tuple[str, ...]
    installs: dict[str, _Resolved]  # by canonical name


def _dry_run(
    session: Session,
    env: Environment,
    specs: Sequence[str],
    files: Sequence[Path],
    *,
    upgrade: Sequence[str] = (),
    constraint_files: Sequence[Path] = (),
) -> _DryRun:
    commands = session.commands(env)
    if session.backend == "pip":
        commands = _with_dry_run_pip(commands, env)
        with tempfile.TemporaryDirectory(prefix="envdash-plan-") as scratch:
            report = Path(scratch) / "report.json"
            argv = commands.dry_run_install(
                specs,
                requirement_files=files,
                upgrade=upgrade,
                constraint_files=constraint_files,
                report=report,
            )
            session.run(argv, "planning (pip's dry run)")
            try:
                data = json.loads(report.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandFailedError(f"pip's dry run left no readable report: {exc}") from exc
        return _DryRun(tuple(argv), _from_pip_report(data))
    argv = commands.dry_run_install(
        specs, requirement_files=files, upgrade=upgrade, constraint_files=constraint_files
    )
    result = session.run(argv, "planning (uv's dry run)")
    return _DryRun(tuple(argv), _from_uv_lines(result.output.splitlines()))


#: The first pip with `install --dry-run` and `--report` (22.2).
_DRY_RUN_PIP = (22, 2)


def _with_dry_run_pip(commands: Commands, env: Environment) -> Commands:
    """`commands`, with the dashboard's own pip (`--python ENV`) for the dry run when the
    environment's pip is too old to have one: environments made by older Pythons keep the
    pip they were born with. Applying needs nothing new (`install --no-deps` of pins)."""
    pip = read_inventory(env).by_name.get("pip") if commands.own_pip else None
    version = parse_version(pip.version) if pip is not None else None
    if version is not None and version.release[:2] < _DRY_RUN_PIP:
        return replace(commands, own_pip=False)
    return commands


def _from_pip_report(data: object) -> dict[str, _Resolved]:
    """pip's installation report (https://pip.pypa.io/en/stable/reference/installation-report/):
    `install` lists only what would be installed; installed versions that satisfy stay."""
    items = data.get("install") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise CommandFailedError("pip's dry-run report has no install list")
    try:
        return dict(_pip_report_item(item) for item in items)
    except (KeyError, TypeError, AttributeError) as exc:
        raise CommandFailedError(f"pip's dry-run report is not as documented: {exc!r}") from exc


def _pip_report_item(item: dict[str, Any]) -> tuple[str, _Resolved]:
    metadata = item.get("metadata", {})
    name, version = str(metadata["name"]), str(metadata["version"])
    info = item.get("download_info", {})
    editable = bool(info.get("dir_info", {}).get("editable", False))
    if item.get("is_direct"):
        url = str(info["url"])
        vcs = info.get("vcs_info")
        if vcs is not None:
            url = f"{vcs['vcs']}+{url}@{vcs['commit_id']}"
        if info.get("subdirectory"):
            url += f"#subdirectory={info['subdirectory']}"
        requirement = f"{name} @ {url}"
    else:
        requirement = f"{name}=={version}"
    return canonicalize_name(name), _Resolved(
        name,
        version,
        requirement,
        editable,
        tuple(str(text) for text in metadata.get("requires_dist") or ()),
        requested=bool(item.get("requested")),
        extras=tuple(str(extra) for extra in item.get("requested_extras") or ()),
    )


#: uv's dry-run lines: ` + name==1.0`, ` - name==1.0`, ` + name @ file:///...`.
_UV_LINE = re.compile(r"^ ([+~-]) ([A-Za-z0-9][A-Za-z0-9._-]*)(?:==(\S+)| @ (\S+))\s*$")


def _from_uv_lines(lines: Iterable[str]) -> dict[str, _Resolved]:
    resolved: dict[str, _Resolved] = {}
    for line in lines:
        match = _UV_LINE.match(line)
        if match is None or match.group(1) == "-":
            continue
        name, version, url = match.group(2), match.group(3), match.group(4)
        if url is not None:
            requirement, version = f"{name} @ {url}", _version_in_url(url)
        else:
            requirement = f"{name}=={version}"
        resolved[canonicalize_name(name)] = _Resolved(name, version, requirement, False, None)
    return resolved


def _version_in_url(url: str) -> str | None:
    """The version a wheel's or sdist's file name carries (uv prints none for a URL)."""
    filename = url.rsplit("/", 1)[-1].split("#", 1)[0]
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


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


# --- what the requirements need after the change (for untracked removals) ------------------


def _closure(
    env: Environment,
    inventory: Inventory,
    installs: Mapping[str, _Resolved],
    roots: Iterable[tuple[str, tuple[str, ...]]],
) -> tuple[set[str], dict[str, set[str]]]:
    """The canonical names the roots need once `installs` are in, walking Requires-Dist
    (the report's for what is installed anew, the installed metadata for what stays), and
    those reached that had no metadata to walk (uv's new installs), with their extras."""
    marker_env = env.marker_environment()
    done: dict[str, set[str]] = {}
    unknown: dict[str, set[str]] = {}
    pending = [(canonicalize_name(name), extras) for name, extras in roots]
    while pending:
        name, extras = pending.pop()
        wanted = {canonicalize_name(extra) for extra in extras}
        seen = done.get(name)
        if seen is not None and wanted <= seen:
            continue
        done.setdefault(name, set()).update(wanted)
        item, dist = installs.get(name), inventory.by_name.get(name)
        requires: tuple[str, ...] | None = ()
        if item is not None:
            requires = item.requires
        elif dist is not None:
            requires = dist.requires
        if requires is None:
            unknown.setdefault(name, set()).update(wanted)
            continue
        for text in requires:
            requirement = parse_dependency(text)
            if requirement is None:
                continue
            if requirement.marker is not None and not any(
                requirement.marker.evaluate({**marker_env, "extra": extra})
                for extra in ("", *sorted(wanted))
            ):
                continue
            pending.append((canonicalize_name(requirement.name), tuple(requirement.extras)))
    return set(done), unknown


def _compiled_closure(
    session: Session,
    env: Environment,
    inventory: Inventory,
    installs: Mapping[str, _Resolved],
    unknown: Mapping[str, set[str]],
) -> set[str]:
    """What the `unknown` new installs need, by `uv pip compile` of just them (with their
    extras) and every other distribution pinned to the version it will have after the change.

    uv's dry run names what it would install but not what those need, so whether a new
    install depends on an installed distribution is unknown. Resolving the new installs
    again with the after-change versions as constraints answers it with uv's own resolver
    and the same index options: the resolution can only pick those versions, so the names
    it lists are their closure in the environment as it will be. Only the new installs are
    resolved (the rest of the walk has the installed metadata), and only when a removal
    depends on the answer, so that this costs a fraction of the dry run.
    """
    pins = {key: f"{dist.name}=={dist.version}" for key, dist in inventory.by_name.items()}
    for key, item in installs.items():
        if item.version is not None and item.requirement.endswith(f"=={item.version}"):
            pins[key] = item.requirement
        else:
            pins.pop(key, None)  # a direct URL: its own requirement decides
    lines = [_with_extras(installs[key].requirement, extras) for key, extras in unknown.items()]
    with tempfile.TemporaryDirectory(prefix="envdash-plan-") as scratch:
        constraints = Path(scratch) / "after.txt"
        constraints.write_text("".join(f"{pin}\n" for pin in pins.values()), encoding="utf-8")
        requirements = Path(scratch) / "new.txt"
        requirements.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        argv = session.commands(env).compile_closure([requirements], constraints)
        result = session.run(argv, "planning removals (uv pip compile of the new installs)")
    names: set[str] = set()
    for line in result.stdout.splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:==|@|\[|;|$)", line.strip())
        if match is not None:
            names.add(canonicalize_name(match.group(1)))
    return names


def _with_extras(requirement: str, extras: set[str]) -> str:
    """`name==1.0` / `name @ url` asking for `extras`: `name[a,b]==1.0`."""
    if not extras:
        return requirement
    joiner = " @ " if " @ " in requirement else "=="
    name, _, rest = requirement.partition(joiner)
    return f"{name}[{','.join(sorted(extras))}]{joiner}{rest}"


# --- the requirements --------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """What the dry run is given (specs and/or requirement files) and the roots of the
    closure: the names the requirements ask for, with their extras."""

    specs: tuple[str, ...]
    files: tuple[Path, ...]
    roots: tuple[tuple[str, tuple[str, ...]], ...]
    project: str | None = None
    #: The URLs the requirements install editable, for uv's dry run, which does not say.
    editables: frozenset[str] = frozenset()
    #: The version a lock records for each URL it installs from: uv's dry run names none.
    url_versions: Mapping[str, str] = field(default_factory=dict)

    def marked(self, installs: Mapping[str, _Resolved]) -> dict[str, _Resolved]:
        """`installs` with the ones from an editable requirement's URL marked editable, and
        the version a lock records for a URL where the dry run names none."""
        marked: dict[str, _Resolved] = {}
        for key, resolved in installs.items():
            url = _url_key(resolved.requirement.partition(" @ ")[2])
            item = replace(resolved, editable=True) if url in self.editables else resolved
            if item.version is None and url in self.url_versions:
                item = replace(item, version=self.url_versions[url])
            marked[key] = item
        return marked


def requirements_for(
    env: Environment, requirements: Path | None, roots: Sequence[Path | str] | None
) -> tuple[Path, ParsedRequirements]:
    """The requirements a sync or upgrade of `env` is about (what `choose_source` picks when
    None: the project's lock, else its requirements; a tox env's deps), read;
    RequirementsError when there are none, when they are invalid or lead outside the roots,
    and when the lock is out of date (its tool would refuse it too: `uv sync --locked`)."""
    from envcore.requirements.source import choose_source

    choice = choose_source(env, roots) if requirements is None else None
    source = requirements if choice is None else choice.path
    if source is None:
        reason = choice.reason if choice is not None else ""
        raise RequirementsError(f"nothing to sync {env.path} with: {reason}")
    source = Path(source)
    if not source.is_file():
        raise RequirementsError(f"requirements file {source} does not exist")
    parsed: ParsedRequirements | None
    if choice is not None and choice.kind == "tox":
        from envcore.requirements._tox import parse_tox_deps

        parsed = parse_tox_deps(source, choice.testenv or env.path.name, roots=roots)
        if parsed is None:
            raise RequirementsError(f"nothing to sync {env.path} with: {choice.reason}")
    else:
        # A lock is selected for this environment's interpreter (its markers), as its tool
        # would.
        parsed = load_requirements(
            source, base_dir=env.project, roots=roots, environment=env.marker_environment()
        )
    if parsed.errors:
        raise RequirementsError(f"cannot sync: {parsed.errors[0]}")
    if is_lock_file(source):
        from envcore.locks import read_lock
        from envcore.locks.freshness import lock_outdated

        outdated = lock_outdated(read_lock(source), env.marker_environment(), roots=roots)
        if outdated:
            raise RequirementsError(f"cannot sync: {outdated}")
        _refuse_lock_locations(source, parsed, roots)
    return source, parsed


def _refuse_lock_locations(
    source: Path, parsed: ParsedRequirements, roots: Sequence[Path | str] | None
) -> None:
    """A lock is a file envdash may have picked by itself: a directory it names is built
    (its backend runs) and a file it names is read by the installer, so a local location
    outside the roots is refused before anything runs, as a requirements file's would be."""
    for entry in parsed.requirements:
        if entry.url is None or not entry.url.startswith("file:"):
            continue
        try:
            path = urllib.parse.unquote(urllib.parse.urlsplit(entry.url).path)
        except ValueError:  # `file://[`: no path pip could use either
            raise RequirementsError(f"cannot sync: {source} names {entry.url}") from None
        refusal = roots_refusal(os.path.normpath(path), roots)
        if refusal is not None:
            raise RequirementsError(
                f"cannot sync: {source} locks {entry.name} at {path}, which {refusal}"
            )


def _sync_target(
    env: Environment, inventory: Inventory, source: Path, parsed: ParsedRequirements
) -> _Target:
    marker_env = env.marker_environment()
    entries = [
        entry
        for entry in parsed.requirements
        if entry.marker is None or entry.applies_to(marker_env)
    ]
    roots: list[tuple[str, tuple[str, ...]]] = []
    for entry in entries:
        if entry.name is not None:
            roots.append((entry.name, entry.extras))
        else:
            dist = match_unnamed(entry, inventory)
            if dist is not None:
                roots.append((dist.canonical_name, entry.extras))
    if parsed.project_name is not None and parsed.project_name in inventory.by_name:
        roots.append((parsed.project_name, ()))
    editables = frozenset(
        _url_key(entry.url) for entry in entries if entry.editable and entry.url is not None
    )
    if not _pip_reads(source):
        # pip cannot read pyproject.toml, a Pipfile, a lock or a tox config as requirements:
        # their entries are passed, a lock's as exact pins and `name @ url` (the editable
        # ones marked as such). A lock's index URL is never passed: the user's configured
        # indexes are used.
        specs = tuple(str(entry.requirement) for entry in entries if entry.requirement is not None)
        versions = _url_versions(entries, inventory)
        return _Target(specs, (), tuple(roots), parsed.project_name, editables, versions)
    return _Target((), (source,), tuple(roots), parsed.project_name, editables)


#: The files tox reads a test env's deps from (see envcore.requirements._tox).
_TOX_CONFIGS = frozenset({"tox.ini", "tox.toml", "setup.cfg"})


def _pip_reads(source: Path) -> bool:
    """Whether `source` is a requirements file pip itself can be given as `-r` (its options,
    hashes and includes then apply as pip reads them); every other source is passed as the
    requirement specs envcore read from it."""
    from envcore.requirements.source import source_kind

    return source_kind(source) == "requirements" and source.name not in _TOX_CONFIGS


def _url_versions(entries: Iterable[RequirementEntry], inventory: Inventory) -> dict[str, str]:
    """The version each URL of a lock installs (uv's dry run names none): the locked one,
    or for an editable directory a lock gives no version of (a pylock's `directory`), the
    installed one when it is already editable from there (the directory is the version)."""
    versions: dict[str, str] = {}
    for entry in entries:
        if entry.url is None:
            continue
        url = _url_key(entry.url)
        version = locked_version(entry)
        dist = inventory.by_name.get(entry.name) if entry.name else None
        location = dist.editable_location if dist is not None and entry.editable else None
        if (
            version is None
            and dist
            and location
            and Path(os.path.normpath(location)).as_uri() == url
        ):
            version = dist.display_version
        if version is not None:
            versions[url] = version
    return versions


def _url_key(url: str) -> str:
    """A URL compared as a location: a local path as the `file://` URL of its normal form,
    anything else as written."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "file":
        return url
    return Path(os.path.normpath(urllib.parse.unquote(parts.path))).as_uri()


def _untracked(
    session: Session,
    env: Environment,
    inventory: Inventory,
    dry: _DryRun,
    target: _Target,
) -> list[str]:
    """Installed distributions the requirements will not need after the change."""
    roots = [*target.roots]
    roots += [(key, item.extras) for key, item in dry.installs.items() if item.requested]
    needed, unknown = _closure(env, inventory, dry.installs, roots)
    kept = needed | KEPT_TOOLS | set(dry.installs)
    if target.project is not None:
        kept.add(target.project)
    candidates = [key for key in inventory.by_name if key not in kept]
    if candidates and unknown:
        needed = _compiled_closure(session, env, inventory, dry.installs, unknown)
        candidates = [key for key in candidates if key not in needed]
    return sorted(candidates)


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
    *,
    keep_untracked: bool,
) -> Plan:
    """The sync plan for requirements already read (and refused if they lead outside the
    roots) before the session was opened: nothing is started or reported for them."""
    inventory = read_inventory(env)
    target = _sync_target(env, inventory, source, parsed)
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
    )


def plan_sync(
    env_path: Path | str,
    requirements: Path | None = None,
    *,
    keep_untracked: bool = False,
    context: Context | None = None,
) -> Plan:
    """What `sync` would change: the requirements (the project's own when None, with any
    constraints they include) resolved by the installer's dry run, keeping installed versions
    that satisfy them, as the installer does; then, unless `keep_untracked`, the removal of
    every distribution the requirements no longer need (pip-sync; pip, setuptools and wheel
    stay). With the context's roots, requirements outside them are refused before any run.
    """
    context = context or Context()
    env = usable(env_path)
    source, parsed = requirements_for(env, requirements, context.roots)
    session = Session(context, work_dir(env, requirements), prefix=env.path)
    return _plan_sync(session, env, source, parsed, keep_untracked=keep_untracked)


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

        drift = drift_for_environment(env, read_inventory(env), plan.source, roots=roots)
    return session.result(plan.operation, env.path, before, snapshot(env), drift=drift)


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
    requirements: Path | None = None,
    *,
    names: Iterable[str] | None = None,
    include_tools: bool = False,
    context: Context | None = None,
) -> Plan:
    """What "upgrade all" (or, with `names`, upgrading those) would change: every project
    the requirements (the project's own when None) name, to the newest version they allow,
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
        source, parsed = requirements_for(env, requirements, context.roots)
    except RequirementsError:
        if requirements is not None or not wanted:
            raise
        source, parsed = None, None
    session = Session(context, work_dir(env, requirements), prefix=env.path)
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
