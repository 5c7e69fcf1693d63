"""What a project-format reader makes from a file, kept once per process while the file is
unchanged: the dashboard compares every environment of a project with the same lock at each
rescan, and reading a 300-package uv.lock (tomllib is pure Python) costs more than the whole
comparison; a scan consults the same pyproject.toml for the source choice, the lock's
default groups, its freshness and its ranges.

A value is made again whenever one of the files it was made from may have changed: another
inode, size, mtime or ctime. One made from a file changed less than a second before is not
kept: a rewrite within the same clock tick could keep every one of those (git's "racy
clean" case).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from envcore.locks import LockFile

__all__ = ["Kept", "forget", "read_cached"]

#: Files beside a lock that readers consult (default groups, declared categories).
_SIBLINGS = ("pyproject.toml", "Pipfile")
_SETTLED_NS = 1_000_000_000

V = TypeVar("V")
Stat = tuple[int, int, int, int, int] | None


def _stat(path: Path, follow_symlinks: bool) -> Stat:
    try:
        info = os.stat(path, follow_symlinks=follow_symlinks)
    except OSError:
        return None
    return (info.st_ino, info.st_dev, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


_every: list[Kept[Any]] = []


def forget() -> None:
    """Drop everything kept (benchmarks measure a first read)."""
    for kept in _every:
        kept._kept.clear()


class Kept(Generic[V]):
    """Values each made from files (the first one the file read; the others consulted
    beside it), kept while none of those files changes; at most `size` of them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: dict[Hashable, tuple[tuple[Stat, ...], V]] = {}
        _every.append(self)

    def get(
        self,
        key: Hashable,
        files: Sequence[Path],
        make: Callable[[], V],
        *,
        follow_symlinks: bool = True,
    ) -> V:
        """`make()`, or what it gave for these very files before. A link is judged by
        itself, not by its target, where `follow_symlinks` is false (as the reader, which
        then refuses a link, would read it)."""

        def signature() -> tuple[Stat, ...]:
            return tuple(_stat(path, follow_symlinks) for path in files)

        before = signature()
        if before[0] is None:
            return make()  # the reader says why it cannot be read
        kept = self._kept.get(key)
        if kept is not None and kept[0] == before:
            return kept[1]
        value = make()
        now = time.time_ns()
        settled = all(s is None or now - max(s[3], s[4]) > _SETTLED_NS for s in before)
        if settled and signature() == before:
            if len(self._kept) >= self.size:
                self._kept.pop(next(iter(self._kept)))
            self._kept[key] = (before, value)
        return value


_locks: Kept[LockFile] = Kept(64)


def read_cached(path: Path, reader: Callable[[Path], LockFile]) -> LockFile:
    """`reader(path)`, or the lock it gave for this very file (and the files beside it
    that the reader consults) before."""
    files = (path, *(path.parent / name for name in _SIBLINGS))
    return _locks.get(os.path.abspath(path), files, lambda: reader(path))
