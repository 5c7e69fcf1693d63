"""A lock reader being written: until it lands, its files are refused with a reason."""

from __future__ import annotations

from pathlib import Path

from envcore.errors import RequirementsError
from envcore.locks import LockFile


def read_pipfile_lock(path: Path) -> LockFile:
    raise RequirementsError(f"{path}: reading Pipfile.lock files is not supported yet")
