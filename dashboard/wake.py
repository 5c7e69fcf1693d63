"""Idle workers wake at once when work is queued, so they can poll the queue rarely.

An idle worker waits on a FIFO in the data directory between its polls of the queue;
queuing a task from any process on this machine (the web server, the watcher, the command
line) writes a byte to it once the task is committed, and an idle worker takes the byte
and polls at once (one byte each: two tasks queued together wake two workers). Nothing is
lost when a byte is: workers on other machines sharing the database, or a FIFO that could
not be made, fall back on the polls alone (see the worker's --max-interval).
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import stat
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

__all__ = ["Waker", "fifo_path", "wake_on_commit", "wake_workers"]


def fifo_path() -> Path:
    """The FIFO of this data directory (workers and web server share it through `serve`)."""
    return Path(settings.DATA_DIR) / "worker-wake"


def _read(fd: int, size: int) -> None:
    with contextlib.suppress(BlockingIOError):  # another worker took it first
        os.read(fd, size)


class Waker:
    """The worker's end: `wait(timeout)` returns early when a task was queued or `interrupt()`
    was called (from a signal handler, say: it only writes to a pipe)."""

    def __init__(self, path: Path) -> None:
        with contextlib.suppress(FileExistsError):
            os.mkfifo(path, 0o600)
        # Read and write: the FIFO always has a writer, so select() never sees an end of
        # file between two wake-ups (it would return at once, forever). No link followed,
        # nothing but a FIFO used (the data directory is private, still).
        fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError(errno.EINVAL, f"{path} is not a FIFO")
        self._fifo = fd
        self._read, self._write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds; True when woken before it."""
        ready, _, _ = select.select([self._fifo, self._read], [], [], timeout)
        if self._fifo in ready:
            _read(self._fifo, 1)  # the others are for the other idle workers
        if self._read in ready:
            _read(self._read, 4096)
        return bool(ready)

    def interrupt(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.write(self._write, b"!")

    def close(self) -> None:
        for fd in (self._fifo, self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)


def wake_workers() -> None:
    """Tell this machine's idle workers to poll now; a no-op when none is listening."""
    try:
        fd = os.open(fifo_path(), os.O_WRONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return  # no worker ever ran here (no FIFO), or none runs now (ENXIO: no reader)
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            # Full (workers busy for a long time, bytes unread): they poll when done anyway.
            with contextlib.suppress(BlockingIOError):
                os.write(fd, b".")
    finally:
        os.close(fd)


def wake_on_commit(sender: object, **kwargs: Any) -> None:
    """task_enqueued receiver: the task row must be visible when the worker looks."""
    transaction.on_commit(wake_workers)
