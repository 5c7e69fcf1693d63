"""Create a new environment, optionally filled from a requirements file (all or nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from envcore.environment import inspect_environment
from envcore.errors import PathNotAllowedError
from envcore.interpreters import Interpreter
from envcore.ops.context import Log
from envcore.ops.installers import IndexOptions, InstallerChoice, create_argv, resolve_backend
from envcore.ops.safety import checked_requirements, inside_roots, remove_tree
from envcore.ops.session import (
    OperationResult,
    Session,
    commands_for,
    interpreter_path,
    snapshot,
    work_dir,
)


def create(
    path: Path | str,
    interpreter: Interpreter | Path | str,
    *,
    system_site_packages: bool = False,
    prompt: str | None = None,
    requirements: Path | None = None,
    installer: InstallerChoice | str = "auto",
    index: IndexOptions | None = None,
    roots: Sequence[Path | str] | None = None,
    log: Log | None = None,
) -> OperationResult:
    """Create a new environment at `path` (which must not exist), optionally installing.

    All or nothing: if installing the requirements fails, the new environment is removed.
    """
    log = log or Log()
    target = Path(path).absolute()
    if roots is not None:
        inside_roots(target, roots)
    if target.exists() or target.is_symlink():
        raise PathNotAllowedError(f"{target} already exists; choose a new directory")
    checked_requirements(requirements, roots)
    backend = resolve_backend(installer)
    session = Session(log, work_dir(target, requirements))
    base = interpreter_path(interpreter)
    argv = create_argv(
        backend, base, target, system_site_packages=system_site_packages, prompt=prompt
    )
    try:
        session.run(argv, "creating the environment")
        env = inspect_environment(target)
        if requirements is not None:
            commands = commands_for(env, backend, index)
            session.run(
                commands.install(requirement_files=[Path(requirements)]), "installing requirements"
            )
    except BaseException:
        if target.exists() and not target.is_symlink():
            remove_tree(target)
        raise
    return OperationResult("create", target, backend, tuple(session.commands), (), snapshot(env))
