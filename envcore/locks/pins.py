"""A package a lock file pins is moved by the lock's tool, never by upgrading it in the
environment (which would only drift from the lock): the one-line refusal naming that tool's
command, and the check envcore's upgrades make against the lock before anything runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from envcore.errors import PinnedByLockError, RequirementsError
from envcore.locks import LockTool, lock_tool, read_lock
from envcore.requirements._roots import within_roots

__all__ = ["pinned_refusal", "refuse_pinned", "update_command"]


def update_command(tool: LockTool, lock_name: str, names: Sequence[str]) -> str:
    """What moves `names` (every package, when empty) within the ranges the project declares:
    the lock's own tool, which rewrites the lock; a pylock.toml is exported by another tool."""
    if tool == "uv":
        options = [f"--upgrade-package {name}" for name in names] or ["--upgrade"]
        return f"update the lock ({' '.join(['uv lock', *options])})"
    if tool in {"poetry", "pipenv"}:
        return f"update the lock ({' '.join([tool, 'update', *names])})"
    upgraded = f"{', '.join(names)} upgraded" if names else "newer versions"
    return f"re-export {lock_name} with {upgraded} (from the tool that wrote it)"


def pinned_refusal(
    names: Sequence[str], versions: Sequence[str | None], lock: Path, *, every: bool = False
) -> str:
    """`alpha is pinned to 1.0 by uv.lock: update the lock (uv lock --upgrade-package alpha)
    and Sync`; several are listed together (`alpha 1.0, beta 2.0 are pinned by ...`). `every`:
    the command moves every package (`uv lock --upgrade`), for "upgrade all"."""
    tool = lock_tool(lock)
    if tool is None:
        raise ValueError(f"{lock} is not a lock file")
    action = update_command(tool, lock.name, [] if every else names)
    if len(names) == 1:
        pinned = (
            f"{names[0]} is pinned to {versions[0]}" if versions[0] else f"{names[0]} is pinned"
        )
    else:
        listed = [
            f"{name} {version}" if version else name
            for name, version in zip(names, versions, strict=True)
        ]
        pinned = f"{', '.join(listed)} are pinned"
    return f"{pinned} by {lock.name}: {action} and Sync"


def refuse_pinned(
    lock: Path,
    marker_environment: Mapping[str, str],
    names: Iterable[str],
    *,
    roots: Sequence[Path | str] | None = None,
) -> None:
    """PinnedByLockError when the lock pins any of `names` for the environment whose markers
    are given (what its tool installs by default, as drift reads the lock); packages it does
    not select (untracked) pass. RequirementsError when the lock is outside `roots` or
    cannot be read: what it pins is then unknown, so nothing is upgraded."""
    if not within_roots(lock, roots):
        raise RequirementsError(f"{lock} is outside the scan roots (not read)")
    selection = read_lock(lock).select(marker_environment)
    pinned = {package.name: package.version for package in selection.packages}
    held = [name for name in names if canonicalize_name(name) in pinned]
    if held:
        versions = [pinned[canonicalize_name(name)] for name in held]
        raise PinnedByLockError(pinned_refusal(held, versions, lock))
