"""`envdash worker`: run queued scans and jobs for this machine (and shared default work).

Several worker processes, on one or several machines, can share the database: each claims
a task under a row lock (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, an IMMEDIATE
transaction on SQLite), and machine-bound work sits in a queue named after the machine.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connection
from django.db.migrations.executor import MigrationExecutor
from django_tasks_db.management.commands.db_worker import Worker

from dashboard.jobs.running import reap_interrupted
from dashboard.queues import machine_queue
from dashboard.worker_startup import run_startup_checks

logger = logging.getLogger("envdash.worker")


#: How often a worker looks for jobs whose worker died (besides at its own start).
REAP_EVERY_SECONDS = 30.0


def _reap_periodically() -> None:
    while True:
        time.sleep(REAP_EVERY_SECONDS)
        try:
            reap_interrupted()
        except DatabaseError:  # the next round tries again
            logger.exception("reaper failed")
        finally:
            close_old_connections()


class Command(BaseCommand):
    help = "Run envdash's background worker (scans and jobs for this machine)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--interval", type=float, default=0.5, help="Seconds between polls when idle."
        )
        parser.add_argument(
            "--batch", action="store_true", help="Exit once the queues are empty (for scripts)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError(
                "the database has unapplied migrations: run `envdash serve` or "
                "`envdash migrate` first"
            )
        run_startup_checks()
        worker_id = f"{socket.gethostname()[:40]}-{os.getpid()}"
        worker = Worker(
            queue_names=["default", machine_queue()],
            interval=options["interval"],
            batch=options["batch"],
            backend_name="default",
            startup_delay=not options["batch"],
            max_tasks=None,
            worker_id=worker_id[:64],
            excluded_queue_names=[],
        )
        worker.configure_signals()
        if not options["batch"]:
            threading.Thread(target=_reap_periodically, name="reaper", daemon=True).start()
        logger.info("worker %s listening on default, %s", worker_id, machine_queue())
        worker.run()
