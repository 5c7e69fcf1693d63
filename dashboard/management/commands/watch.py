"""`envdash watch`: follow the known environments on disk and keep the database in line
(see dashboard.watcher). `serve` runs one, restarted when it dies, ended with serve."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from argparse import SUPPRESS, ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from dashboard.supervised import follow_parent, keep_connections, refuse_unapplied_migrations
from dashboard.watcher import Follower, FollowerConfig

logger = logging.getLogger("envdash.watch")


def _stop_with_parent(stop: threading.Event) -> None:
    """When serve is gone, however it went, the watcher stops."""

    def gone() -> None:
        logger.warning("envdash serve is gone: stopping the watcher")
        stop.set()
        os.kill(os.getpid(), signal.SIGTERM)  # wake the loop from its wait

    follow_parent(gone, signum=signal.SIGTERM)


class Command(BaseCommand):
    help = "Follow the known environments on disk: rescan one when it changes."

    def add_arguments(self, parser: ArgumentParser) -> None:
        # `serve` passes it with a pipe on stdin; not for people.
        parser.add_argument("--supervised", action="store_true", help=SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_unapplied_migrations()
        keep_connections()
        stop = threading.Event()

        def on_term(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, on_term)
        if options["supervised"]:
            _stop_with_parent(stop)
        follower = Follower(FollowerConfig.from_settings())
        with contextlib.suppress(KeyboardInterrupt):
            follower.run(stop)
