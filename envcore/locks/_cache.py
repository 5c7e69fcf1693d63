"""Locks read once per process while unchanged: the dashboard compares every environment of
a project with the same lock at each rescan, and reading a 300-package uv.lock (tomllib is
pure Python) costs more than the whole comparison.

A lock is read again whenever it, or the files beside it that its reader consults
(pyproject.toml, Pipfile), may have changed: another inode, size, mtime or ctime. A file
changed less than a second before it was read is not kept: a rewrite within the same clock
tick could keep every one of those (git's "racy clean" case).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envcore.locks import LockFile

__all__ = ["read_cached"]

#: Files beside a lock that readers consult (default groups, declared categories).
_SIBLINGS = ("pyproject.toml", "Pipfile")
_KEPT = 64
_SETTLED_NS = 1_000_000_000

Signature = tuple[tuple[int, int, int, int, int] | None, ...]
_cache: dict[str, tuple[Signature, LockFile]] = {}


def _stat(path: Path) -> tuple[int, int, int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_dev, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _signature(path: Path) -> Signature:
    return (_stat(path), *(_stat(path.parent / name) for name in _SIBLINGS))


def read_cached(path: Path, reader: Callable[[Path], LockFile]) -> LockFile:
    """`reader(path)`, or the lock it gave for this very file before."""
    key = os.path.abspath(path)
    signature = _signature(path)
    if signature[0] is None:
        return reader(path)  # the reader says why it cannot be read
    kept = _cache.get(key)
    if kept is not None and kept[0] == signature:
        return kept[1]
    lock = reader(path)
    now = time.time_ns()
    settled = all(s is None or now - max(s[3], s[4]) > _SETTLED_NS for s in signature)
    if settled and _signature(path) == signature:
        if len(_cache) >= _KEPT:
            _cache.pop(next(iter(_cache)))
        _cache[key] = (signature, lock)
    return lock
