"""envcore's exceptions: one base class, messages a user can act on, one line each."""

from __future__ import annotations

__all__ = [
    "CancelledError",
    "CommandFailedError",
    "EnvcoreError",
    "EnvironmentBusyError",
    "IndexUnavailableError",
    "InvalidSpecError",
    "MarkerError",
    "MetadataError",
    "NotAnEnvironmentError",
    "PathNotAllowedError",
    "PinnedByLockError",
    "PipConfigError",
    "PlanOutdatedError",
    "RequirementsError",
    "SnapshotError",
]


class EnvcoreError(Exception):
    """Base of every error envcore raises on purpose; ``str(error)`` is shown to the user."""


class NotAnEnvironmentError(EnvcoreError):
    """A path that is not a Python environment (no pyvenv.cfg with home, no conda-meta/)."""


class MetadataError(EnvcoreError):
    """A distribution's metadata is unreadable or corrupt."""


class MarkerError(EnvcoreError):
    """A marker packaging parses but cannot evaluate for an environment (`~=` with no
    version beside it, a name that is no marker variable there)."""


class RequirementsError(EnvcoreError):
    """A requirements source cannot be read at all (missing, not text, include cycle)."""


class InvalidSpecError(EnvcoreError):
    """A package spec given by a user is refused (not PEP 508, or an option in disguise)."""


class PathNotAllowedError(EnvcoreError):
    """A path outside the configured scan roots, or a symlink where a directory is required."""


class EnvironmentBusyError(EnvcoreError):
    """Processes are running from an environment we were asked to remove or replace."""


class CommandFailedError(EnvcoreError):
    """A subprocess (pip, uv, venv) exited with a failure."""


class CancelledError(EnvcoreError):
    """The operation was cancelled by the user; everything it started has been stopped."""


class IndexUnavailableError(EnvcoreError):
    """A package index could not be queried (network, HTTP error, bad answer)."""


class SnapshotError(EnvcoreError):
    """A team snapshot is refused: not JSON, a wrong schema version, or an invalid field."""


class PipConfigError(EnvcoreError):
    """pip's configuration cannot be used: an unreadable config file or an invalid value."""


class PlanOutdatedError(EnvcoreError):
    """An environment changed after a plan for it was made; the plan must be made again."""


class PinnedByLockError(EnvcoreError):
    """An upgrade of a package the environment's lock file pins: the lock's tool moves it
    (`uv lock --upgrade-package`, `poetry update`), then a sync installs it."""
