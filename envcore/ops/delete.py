"""Delete an environment: only a real one inside the roots that no process uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from envcore.errors import EnvironmentBusyError, PathNotAllowedError
from envcore.ops.context import Context
from envcore.ops.safety import (
    ProcessUse,
    confirmed_environment,
    exclusive_lock,
    inside_roots,
    processes_using,
    remove_tree,
)


@dataclass(frozen=True)
class DeleteResult:
    path: Path
    trash: Path
    forced_over: tuple[ProcessUse, ...] = ()


def delete(
    env_path: Path | str,
    *,
    context: Context,
    force: bool = False,
) -> DeleteResult:
    """Delete an environment: a real directory inside the context's roots (required here:
    without roots nothing is deleted) that is an environment by its own files, and that no
    process uses (unless `force`). Renamed away first (recorded in the context's journal,
    so recovery finishes the removal after a crash), then removed."""
    path = Path(env_path).absolute()
    if path.is_symlink():
        raise PathNotAllowedError(f"{path} is a symlink; refusing to delete through it")
    inside_roots(path, context.roots or ())
    env = confirmed_environment(path)
    users = processes_using(env.path)
    if users and not force:
        listed = "; ".join(str(user) for user in users[:5])
        raise EnvironmentBusyError(f"{path} is in use by {len(users)} process(es): {listed}")
    with exclusive_lock(env.path):
        trash = remove_tree(env.path, context.journal)
    return DeleteResult(path, trash, users)
