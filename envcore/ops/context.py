"""How an operation reports as it goes: the Log callbacks, the cancel token and the time limit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from envcore.runner import CancelToken

#: Default limit for one pip/uv command; a hung index must not hold an environment forever.
DEFAULT_TIMEOUT = 1800.0


@dataclass(frozen=True)
class Log:
    """Where an operation reports as it goes; every field is optional.

    on_line(stream, text) for each output line, on_command(argv) before each command,
    on_start(pgid) once each command has started (so a reaper can end it after a crash).
    """

    on_line: Callable[[str, str], None] | None = None
    on_command: Callable[[tuple[str, ...]], None] | None = None
    on_start: Callable[[int], None] | None = None
    cancel: CancelToken | None = None
    timeout: float | None = DEFAULT_TIMEOUT
