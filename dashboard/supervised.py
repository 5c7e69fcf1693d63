"""The side of a process `serve` supervises (a worker, the watcher): end with serve, and
keep the database connection between looks. See dashboard.supervisor for serve's side."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable

from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor

__all__ = ["follow_parent", "keep_connections", "refuse_unapplied_migrations"]

#: prctl(2) option: a signal for this process when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


def follow_parent(on_gone: Callable[[], None], *, signum: signal.Signals) -> None:
    """Call `on_gone` (in a thread) when serve is gone, even after a kill -9 that gave it no
    chance to say so: serve holds the write end of our stdin, which the kernel closes when
    serve dies, however it dies. On Linux `signum` comes too (the parent-death signal);
    its handler is the caller's."""

    def watch() -> None:
        # os.read on the descriptor, not sys.stdin.buffer: a daemon thread blocked inside a
        # buffered read holds its lock, and the interpreter's shutdown then dies on it
        # ("Fatal Python error: _enter_buffered_busy") every time serve stops a child.
        with contextlib.suppress(OSError):
            while os.read(stdin_fd, 4096):
                pass
        on_gone()

    stdin_fd = sys.stdin.fileno()
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def keep_connections() -> None:
    """Keep this process's database connections between polls and heartbeats.

    CONN_MAX_AGE suits requests; a process that reconnected for every idle look spent most
    of its idle CPU connecting (on SQLite: the file and its WAL opened again, and
    checkpointed and deleted whenever the last connection closed). A broken connection is
    still replaced: close_old_connections() drops unusable ones.
    """
    connections.settings[DEFAULT_DB_ALIAS]["CONN_MAX_AGE"] = None


def refuse_unapplied_migrations() -> None:
    """A worker or watcher started by hand before `migrate` would fail on its first query
    with a traceback: say what to run instead, in one line."""
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CommandError(
            "the database has unapplied migrations: run `envdash serve` or `envdash migrate` first"
        )
