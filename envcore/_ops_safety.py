"""Filesystem safety for the operations: allowed paths, backup/trash names, locks, users.

A recreate moves the old environment aside under a recognisable backup name and holds an
exclusive `flock` on a file inside it for as long as it runs. The kernel drops that lock when
the process dies, however it dies, so a later `recover_interrupted` can tell a crashed
recreate (lock free: restore) from one still running in another worker (lock held: leave).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from envcore.errors import EnvironmentBusyError, NotAnEnvironmentError, PathNotAllowedError
from envcore.inspect import Environment, inspect_environment

LOCK_NAME = ".envdash-operation.lock"
_BACKUP = re.compile(r"^\.(?P<name>.+)\.envdash-backup-\d{8}T\d{6}-\d+$")
_TRASH = re.compile(r"^\.(?P<name>.+)\.envdash-trash-\d{8}T\d{6}-\d+$")


def _stamp() -> str:
    return f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{time.monotonic_ns() % 10**9}"


def backup_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.envdash-backup-{_stamp()}")


def trash_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.envdash-trash-{_stamp()}")


def original_of_backup(path: Path) -> Path | None:
    match = _BACKUP.match(path.name)
    return path.with_name(match.group("name")) if match else None


def is_trash(path: Path) -> bool:
    return _TRASH.match(path.name) is not None


def inside_roots(path: Path, roots: Sequence[Path | str]) -> Path:
    """The real path of `path` when it lies strictly inside one of `roots`; refuse otherwise."""
    real = Path(os.path.realpath(path))
    for root in roots:
        real_root = Path(os.path.realpath(root))
        if real != real_root and real.is_relative_to(real_root):
            return real
    shown = ", ".join(str(root) for root in roots) or "(none configured)"
    raise PathNotAllowedError(f"{path} is outside the configured scan roots ({shown})")


def confirmed_environment(path: Path) -> Environment:
    """A real directory (not a symlink) that is an environment by its own files."""
    if path.is_symlink():
        raise PathNotAllowedError(f"{path} is a symlink; give the environment's real directory")
    if not path.is_dir():
        raise NotAnEnvironmentError(f"{path} is not a directory")
    env = inspect_environment(path)
    if env.kind != "conda" and "home" not in env.config:
        raise NotAnEnvironmentError(f"{path} has no pyvenv.cfg with a 'home' entry")
    return env


@contextlib.contextmanager
def exclusive_lock(directory: Path) -> Iterator[Path]:
    """Hold the operation lock file inside `directory` (it follows the directory on rename)."""
    lock_file = directory / LOCK_NAME
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise EnvironmentBusyError(
            f"another envdash operation is already changing {directory}"
        ) from exc
    try:
        yield lock_file
    finally:
        # Removed while still held, so the environment is left without our file in it.
        lock_file.unlink(missing_ok=True)
        os.close(fd)


def lock_is_free(directory: Path) -> bool:
    """True when no living process holds `directory`'s operation lock."""
    try:
        fd = os.open(directory / LOCK_NAME, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def remove_tree(path: Path) -> Path:
    """Rename to a trash name first (the environment vanishes at once), then remove it.

    `shutil.rmtree` works from file descriptors on Linux, so a symlink swapped in under it
    cannot make it delete outside the tree.
    """
    trash = trash_path(path)
    os.rename(path, trash)
    shutil.rmtree(trash, onerror=_ignore_vanished)
    return trash


def _ignore_vanished(
    function: object, path: str, exc_info: tuple[type, BaseException, object]
) -> None:
    # Another cleaner (a recovering worker) may be removing the same trash concurrently.
    if not isinstance(exc_info[1], FileNotFoundError):
        raise exc_info[1]


@dataclass(frozen=True)
class ProcessUse:
    """A running process that uses an environment, and how (exe, argv, cwd or open file)."""

    pid: int
    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name} (pid {self.pid}): {self.reason}"


def _inside(candidate: str | None, real_root: str) -> bool:
    if not candidate or not os.path.isabs(candidate):
        return False
    return os.path.realpath(candidate).startswith(real_root + os.sep) or (
        # A venv's bin/python is a symlink to the base interpreter: compare unresolved too.
        os.path.normpath(candidate).startswith(real_root + os.sep)
    )


def processes_using(env_path: Path | str) -> tuple[ProcessUse, ...]:
    """Processes (that we may see) running from the environment or keeping files open in it."""
    real_root = os.path.realpath(env_path)
    plain_root = os.path.normpath(os.path.abspath(env_path))
    found: list[ProcessUse] = []
    for process in psutil.process_iter(["pid", "name", "exe", "cmdline", "cwd"]):
        if process.pid == os.getpid():
            continue
        info = process.info
        reason = ""
        argv = info.get("cmdline") or []
        if any(_inside(info.get("exe"), root) for root in (real_root, plain_root)):
            reason = f"runs {info['exe']}"
        elif any(_inside(arg, root) for arg in argv[:2] for root in (real_root, plain_root)):
            reason = f"runs {' '.join(argv[:2])}"
        elif any(_inside(info.get("cwd"), root) for root in (real_root, plain_root)):
            reason = f"working directory {info['cwd']}"
        else:
            try:
                opened = [f.path for f in process.open_files()]
            except psutil.Error:
                opened = []
            hit = next((p for p in opened if _inside(p, real_root)), None)
            if hit:
                reason = f"has {hit} open"
        if reason:
            found.append(ProcessUse(process.pid, info.get("name") or "?", reason))
    return tuple(found)


def leftovers(paths: Iterable[Path | str], *, max_depth: int = 4) -> list[Path]:
    """Backup and trash directories under `paths` (or the paths themselves), depth-limited."""
    found: list[Path] = []
    for start in map(Path, paths):
        if original_of_backup(start) or is_trash(start):
            found.append(start)
            continue
        if start.is_dir() and not start.is_symlink():
            # An environment's own parent is where its backup would sit.
            for sibling in _children(start.parent):
                if sibling.name.startswith(f".{start.name}.envdash-"):
                    found.append(sibling)
        base_depth = len(start.parts)
        for directory, subdirs, _files in os.walk(start):
            here = Path(directory)
            keep = []
            for name in subdirs:
                child = here / name
                if original_of_backup(child) or is_trash(child):
                    found.append(child)
                elif (
                    len(child.parts) - base_depth < max_depth
                    and not (child / "pyvenv.cfg").exists()
                    and name not in {"node_modules", ".git", "__pycache__", "site-packages"}
                ):
                    keep.append(name)
            subdirs[:] = keep
    return sorted(set(found))


def _children(directory: Path) -> list[Path]:
    try:
        return [directory / name for name in os.listdir(directory)]
    except OSError:
        return []
