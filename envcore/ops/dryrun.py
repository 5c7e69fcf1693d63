"""The installer's dry run and what it says: pip's `install --dry-run --report` (read as
the documented JSON report) or uv's `pip install --dry-run` (read from its `+ name==1.0`
lines), turned into the distributions it would install (`_Resolved`). Apart from the
planner because the installers' output formats are a topic of their own."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from envcore.distributions import read_inventory
from envcore.environment import Environment
from envcore.errors import CommandFailedError
from envcore.ops.installers import Commands
from envcore.ops.session import Session
from envcore.versions import parse_version


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
