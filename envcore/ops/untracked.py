"""What a sync removes: the installed distributions the requirements no longer need
(pip-sync), found by walking Requires-Dist from the requirements' roots through the
environment as it will be after the dry run's installs; for uv's new installs, whose
metadata its dry run does not give, by `uv pip compile` with the after-change versions."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

from envcore._pep508 import holds_with_extras
from envcore.distributions import Inventory, parse_dependency
from envcore.environment import Environment
from envcore.errors import MarkerError
from envcore.ops.dryrun import _DryRun, _Resolved
from envcore.ops.plans import KEPT_TOOLS
from envcore.ops.session import Session
from envcore.ops.targets import _Target


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
            if requirement.marker is not None and not _may_hold(
                requirement.marker, marker_env, sorted(wanted)
            ):
                continue
            pending.append((canonicalize_name(requirement.name), tuple(requirement.extras)))
    return set(done), unknown


def _may_hold(marker: Marker, marker_env: Mapping[str, str], extras: Iterable[str]) -> bool:
    """Whether a dependency's marker holds; one that cannot be evaluated may (a sync never
    removes what such a marker might need)."""
    try:
        return holds_with_extras(marker, marker_env, extras)
    except MarkerError:
        return True


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


def _untracked(
    session: Session,
    env: Environment,
    inventory: Inventory,
    dry: _DryRun,
    target: _Target,
) -> list[str]:
    """Installed distributions the requirements will not need after the change."""
    roots = [*target.roots, *target.unnamed_roots(dry.installs)]
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
