"""What every operation is told besides its own inputs: the installer, the index, the roots it
may touch, where it reports (`Log`) and where it records what it moves aside (`Journal`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from envcore.ops.installers import BackendChoice, IndexOptions, InstallerChoice
from envcore.ops.journal import Journal, MemoryJournal
from envcore.runner import CancelToken

#: Default limit for one pip/uv command; a hung index must not hold an environment forever.
DEFAULT_TIMEOUT = 1800.0


@dataclass(frozen=True)
class Log:
    """Where an operation reports as it goes; every field is optional.

    on_line(stream, text) for each output line, on_command(argv) before each command,
    on_start(pgid) once each command has started (so a reaper can end it after a crash),
    on_installer(choice) once the installer is chosen, before any command (which one, why).
    """

    on_line: Callable[[str, str], None] | None = None
    on_command: Callable[[tuple[str, ...]], None] | None = None
    on_start: Callable[[int], None] | None = None
    on_installer: Callable[[BackendChoice], None] | None = None
    cancel: CancelToken | None = None
    timeout: float | None = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Context:
    """The settings one caller gives every operation, built once (a dashboard job, a script).

    installer: "auto" (uv when found, else pip), "pip" or "uv".
    index: where packages come from; None lets pip read the user's own configuration.
    roots: the directories operations may change or read requirements from; None checks
      nothing (a script trusting its caller). `delete` refuses everything without roots.
    log: where output, commands and process groups are reported; also the cancel token.
    journal: where directories moved aside are recorded before the rename, so
      `recover_interrupted` can finish after a crash; the default forgets at exit.
    """

    installer: InstallerChoice | str = "auto"
    index: IndexOptions | None = None
    roots: Sequence[Path | str] | None = None
    log: Log = Log()
    journal: Journal = field(default_factory=MemoryJournal)
