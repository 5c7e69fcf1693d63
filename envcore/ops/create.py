"""Create a new environment, optionally filled from a requirements file (all or nothing)."""

from __future__ import annotations

from pathlib import Path

from envcore.environment import inspect_environment
from envcore.errors import PathNotAllowedError
from envcore.interpreters import Interpreter
from envcore.ops.context import Context
from envcore.ops.installers import create_argv
from envcore.ops.safety import checked_requirements, inside_roots, remove_tree
from envcore.ops.session import (
    OperationResult,
    Session,
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
    context: Context | None = None,
) -> OperationResult:
    """Create a new environment at `path` (which must not exist), optionally installing.

    All or nothing: if installing the requirements fails, the new environment is removed.
    """
    context = context or Context()
    target = Path(path).absolute()
    if context.roots is not None:
        inside_roots(target, context.roots)
    if target.exists() or target.is_symlink():
        raise PathNotAllowedError(f"{target} already exists; choose a new directory")
    checked_requirements(requirements, context.roots)
    session = Session(context, work_dir(target, requirements), prefix=target)
    base = interpreter_path(interpreter)
    argv = create_argv(
        session.backend, base, target, system_site_packages=system_site_packages, prompt=prompt
    )
    try:
        session.run(argv, "creating the environment")
        env = inspect_environment(target)
        if requirements is not None:
            argv = session.commands(env).install(requirement_files=[Path(requirements)])
            session.run(argv, "installing requirements")
    except BaseException:
        if target.exists() and not target.is_symlink():
            remove_tree(target, context.journal)
        raise
    return session.result("create", target, (), snapshot(env))
