"""`envdash watch`: follow the known environments on disk and keep the database in line
(see dashboard.watcher). `serve` runs one, restarted when it dies, ended with serve."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
from argparse import SUPPRESS, ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor

from dashboard.watcher import Follower, FollowerConfig

logger = logging.getLogger("envdash.watch")

#: prctl(2) option: a signal for this process when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


def _stop_with_parent(stop: threading.Event) -> None:
    """serve holds the write end of our stdin: when serve dies, however it dies, the pipe
    closes and the watcher stops (on Linux the parent-death signal says so too)."""
    stdin_fd = sys.stdin.fileno()

    def watch() -> None:
        with contextlib.suppress(OSError):
            while os.read(stdin_fd, 4096):
                pass
        logger.warning("envdash serve is gone: stopping the watcher")
        stop.set()
        os.kill(os.getpid(), signal.SIGTERM)  # wake the loop from its wait

    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class Command(BaseCommand):
    help = "Follow the known environments on disk: rescan one when it changes."

    def add_arguments(self, parser: ArgumentParser) -> None:
        # `serve` passes it with a pipe on stdin; not for people.
        parser.add_argument("--supervised", action="store_true", help=SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError(
                "the database has unapplied migrations: run `envdash serve` or "
                "`envdash migrate` first"
            )
        # Keep the connection between looks, as the worker does (see its _keep_connections):
        # reconnecting each time (CONN_MAX_AGE suits requests) reopened SQLite's file and
        # WAL every few seconds. close_old_connections() still replaces a broken one.
        connections.settings[DEFAULT_DB_ALIAS]["CONN_MAX_AGE"] = None
        stop = threading.Event()

        def on_term(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, on_term)
        if options["supervised"]:
            _stop_with_parent(stop)
        follower = Follower(FollowerConfig.from_settings())
        with contextlib.suppress(KeyboardInterrupt):
            follower.run(stop)
