"""What every operation shares: the result type, the command session and the small checks
each one starts with."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from envcore._pep508 import is_project_name
from envcore.distributions import read_inventory
from envcore.environment import Environment, inspect_environment
from envcore.errors import (
    CancelledError,
    CommandFailedError,
    InvalidSpecError,
    NotAnEnvironmentError,
)
from envcore.ops.context import Context
from envcore.ops.installers import (
    UV_SETTING_VARIABLES,
    Backend,
    Commands,
    choose_backend,
    env_has_pip,
)
from envcore.ops.safety import confirmed_environment
from envcore.runner import CommandResult, run
from envcore.text import shown_argv

if TYPE_CHECKING:  # the interpreter list is create's, drift is read after a change: not a plan's
    from envcore.drift import DriftReport
    from envcore.interpreters import Interpreter

Snapshot = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class OperationResult:
    """What an operation did: the commands it ran and the installed set before and after."""

    operation: str
    environment: Path
    backend: Backend
    commands: tuple[CommandResult, ...]
    before: Snapshot = ()
    after: Snapshot = ()
    drift: DriftReport | None = field(default=None, compare=False)
    freeze_text: str = field(default="", repr=False)

    @property
    def changes(self) -> tuple[str, ...]:
        """`+ name version`, `- name version`, `~ name old -> new`, sorted by name."""
        before, after = dict(self.before), dict(self.after)
        lines = []
        for name in sorted(before.keys() | after.keys()):
            old, new = before.get(name), after.get(name)
            if old is None:
                lines.append(f"+ {name} {new}")
            elif new is None:
                lines.append(f"- {name} {old}")
            elif old != new:
                lines.append(f"~ {name} {old} -> {new}")
        return tuple(lines)


class Session:
    """Runs one operation's commands through the runner with the context's installer, index
    and log, recording them in order; `result` sums them up.

    The installer is chosen once, for the environment at `prefix` (whose own pip.conf
    counts), and reported through `log.on_installer` before anything runs. A uv command
    runs without uv's own UV_ settings (`UV_SETTING_VARIABLES`): it gets the user's pip
    configuration as flags instead.
    """

    def __init__(
        self, context: Context, cwd: Path | None = None, *, prefix: Path | None = None
    ) -> None:
        self.log = context.log
        self.index = context.index
        self.choice = choose_backend(context.installer, prefix=prefix, index=context.index)
        self.backend: Backend = self.choice.backend
        self.cwd = cwd
        self.ran: list[CommandResult] = []
        if self.log.on_installer is not None:
            self.log.on_installer(self.choice)

    def commands(self, env: Environment) -> Commands:
        """The argv builders for `env` with this session's backend and index."""
        return Commands(
            self.backend,
            env.interpreter,
            env_has_pip(env.site_packages),
            self.index,
            self.choice.uv_args if self.backend == "uv" else None,
        )

    def result(
        self,
        operation: str,
        environment: Path,
        before: Snapshot,
        after: Snapshot,
        *,
        drift: DriftReport | None = None,
        freeze_text: str = "",
    ) -> OperationResult:
        return OperationResult(
            operation,
            environment,
            self.backend,
            tuple(self.ran),
            before,
            after,
            drift=drift,
            freeze_text=freeze_text,
        )

    def check_cancel(self) -> None:
        if self.log.cancel is not None and self.log.cancel.cancelled:
            raise CancelledError("the operation was cancelled")

    def run(self, argv: Sequence[str], what: str) -> CommandResult:
        self.check_cancel()
        if self.log.on_command is not None:
            self.log.on_command(shown_argv(argv))  # logged and shown: no credentials
        try:
            result = run(
                argv,
                cwd=self.cwd,
                env_overrides=dict.fromkeys(UV_SETTING_VARIABLES) if self.backend == "uv" else None,
                timeout=self.log.timeout,
                on_line=self.log.on_line,
                cancel=self.log.cancel,
                on_start=self.log.on_start,
            )
        except OSError as exc:
            raise CommandFailedError(f"{what}: cannot run {argv[0]}: {exc.strerror}") from exc
        self.ran.append(result)
        if result.cancelled:
            raise CancelledError(f"{what} was cancelled; its processes were stopped")
        if result.timed_out:
            raise CommandFailedError(f"{what} timed out after {result.duration:.0f} s")
        if result.returncode != 0:
            raise CommandFailedError(
                f"{what} failed (exit {result.returncode}): {result.tail(3) or 'no output'}"
            )
        return result


def project_name(name: str) -> str:
    """`name` as given when it is a valid distribution name (no versions, options or paths)."""
    if not is_project_name(name):
        raise InvalidSpecError(f"{name!r} is not a valid distribution name")
    return name


def snapshot(env: Environment) -> Snapshot:
    inventory = read_inventory(env)
    return tuple(sorted((d.canonical_name, d.display_version) for d in inventory.distributions))


def usable(path: Path | str) -> Environment:
    env = confirmed_environment(Path(path).absolute())
    if env.broken:
        raise NotAnEnvironmentError(f"{env.path} is broken ({env.broken_reason})")
    return env


def work_dir(env: Environment | Path, requirements: Path | None = None) -> Path:
    """Where commands run. pip reads relative paths in requirements files (`-e .`) against
    its working directory and uv reads project configuration from it: use the project of
    the environment (as drift does), else the requirements file's directory, else the
    environment's parent, never wherever the worker happened to start. An environment
    already inspected (`usable`) is not inspected again; a path (create, recreate) is."""
    if isinstance(env, Environment):
        env_path, project = env.path, env.project
    else:
        env_path = env
        try:
            project = inspect_environment(env_path).project if env_path.exists() else None
        except NotAnEnvironmentError:
            project = None
    if project is not None:
        return project
    if requirements is not None:
        return Path(requirements).absolute().parent
    existing = env_path.parent
    while not existing.is_dir() and existing != existing.parent:  # create makes parents
        existing = existing.parent
    return existing


def interpreter_path(interpreter: Interpreter | Path | str) -> Path:
    path = Path(interpreter) if isinstance(interpreter, Path | str) else interpreter.path
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise NotAnEnvironmentError(f"interpreter {path} does not exist or is not executable")
    return path.absolute()
