"""Which packages of an environment held to a lock file the lock pins, as the last scan read
it: the page shows the lock tool's command instead of Upgrade, and the upgrade Forms refuse
them in that same line before a job is queued (the job reads the lock again when it runs).
"""

from __future__ import annotations

from pathlib import Path

from packaging.utils import canonicalize_name

from dashboard.models import DriftItem, Environment
from envcore.locks.pins import pinned_refusal

__all__ = ["every_pinned_refusal", "held_lock", "pin_refusal", "pinned_items"]

#: A drift verdict of a package the lock selects for this environment and that is installed
#: (`untracked`: installed, not in the lock; `not-applicable`: its marker is false here).
_PINNED = frozenset({"ok", "mismatch", "source-differs"})


def held_lock(env: Environment) -> Path | None:
    """The lock file the environment is held to (the last scan's choice), or None."""
    if env.source_kind != "lock" or not env.requirements_source:
        return None
    return Path(env.requirements_source)


def _version(item: DriftItem) -> str | None:
    """The locked version of an index package (`==1.0`); None for a URL or path one."""
    return item.required.removeprefix("==") if item.required.startswith("==") else None


def pin_refusal(env: Environment, item: DriftItem | None) -> str:
    """Why `item`'s package may not be upgraded in place, in one line; "" when it may (no
    lock, or a package the lock does not pin)."""
    lock = held_lock(env)
    if lock is None or item is None or item.status not in _PINNED:
        return ""
    return pinned_refusal([item.name], [_version(item)], lock)


def pinned_items(env: Environment) -> dict[str, DriftItem]:
    """The drift verdicts of the packages the lock pins, by normalised name ({} for an
    environment not held to a lock)."""
    if held_lock(env) is None:
        return {}
    items = env.drift_items.filter(status__in=_PINNED)
    return {canonicalize_name(item.name): item for item in items}


def every_pinned_refusal(env: Environment, items: list[DriftItem]) -> str:
    """Upgrade all refused: every package with a newer allowed version is pinned."""
    lock = held_lock(env)
    if lock is None or not items:
        return ""
    names = [item.name for item in items]
    return pinned_refusal(names, [_version(item) for item in items], lock, every=True)
