"""`envdash worker`: run queued scans and jobs for this machine (and shared default work).

Several worker processes, on one or several machines, can share the database: each claims
a task under a row lock (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, an IMMEDIATE
transaction on SQLite), and machine-bound work sits in a queue named after the machine.

An idle worker polls the queue 0.1 s after its last task, then less and less often (up to
--max-interval): a task queued on this machine wakes it at once (dashboard.wake), so the
rare polls cost jobs no time to start, and a worker left idle all day costs almost no CPU.

Every few seconds a worker says it is alive and looks for jobs whose worker died (on this
machine that is seen at once: the process is gone). Started by `serve` (`--supervised`),
it also stops when serve does, even when serve was killed.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import sys
import threading
import time
from argparse import SUPPRESS, ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.db import (
    DatabaseError,
    OperationalError,
    close_old_connections,
)
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from dashboard import liveness
from dashboard.jobs.reaper import reap_interrupted
from dashboard.jobs.run import interrupt_running
from dashboard.queues import machine_queue
from dashboard.supervised import follow_parent, keep_connections, refuse_unapplied_migrations
from dashboard.wake import Waker, fifo_path
from dashboard.worker_startup import run_startup_checks

logger = logging.getLogger("envdash.worker")

#: After serve is gone, how long the job in hand gets to end its commands and say so.
ORPHAN_GRACE_SECONDS = 15.0


class IdleWorker(Worker):
    """db_worker's Worker whose idle polls back off and whose sleep a queued task ends.

    `run` is the loop of django-tasks-db's `Worker.run` (0.13) with its fixed sleep
    replaced: after an empty poll the worker waits `interval`, doubled after each empty
    poll up to `max_interval`, and back to `interval` after a task or a wake-up.
    """

    def __init__(self, *, max_interval: float, waker: Waker | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_interval = max(max_interval, self.interval)
        self.waker = waker

    def stop(self) -> None:
        """End the loop at its next turn, without waiting out the idle wait (signal-safe)."""
        self.running = False
        if self.waker is not None:
            self.waker.interrupt()

    def claim(self) -> tuple[DBTaskResult[Any, Any] | None, bool]:
        """(the task claimed or None, whether the queue could be read at all)."""
        tasks = DBTaskResult.objects.ready().filter(
            backend_name=self.backend_name, queue_name__in=self.queue_names
        )
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
            except OperationalError as exc:
                if not is_locked_database_exception(exc):
                    raise
                return None, False  # SQLite busy: it unlocks soon, poll again
        return task_result, True

    def idle(self, timeout: float) -> bool:
        """Wait up to `timeout`; True when a queued task (or stop) woke the worker."""
        if self.waker is None:
            time.sleep(timeout)
            return False
        return self.waker.wait(timeout)

    def run(self) -> None:
        if self.startup_delay and self.interval:
            time.sleep(random.random())  # noqa: S311 - several workers start together
        wait = self.interval
        while self.running:
            close_old_connections()
            task_result, read = self.claim()
            if task_result is not None:
                self.run_task(task_result)
                wait = self.interval
            elif self.batch and read:
                return
            close_old_connections()
            if self.running and task_result is None:
                woken = self.idle(wait)
                wait = self.interval if woken else min(wait * 2, self.max_interval)


def _beat_and_reap() -> None:
    """Say this worker is alive; end and mark jobs whose worker died."""
    started_at = timezone.now()
    while True:
        try:
            liveness.beat(started_at)
            reap_interrupted()
        except DatabaseError:  # the next round tries again
            logger.exception("heartbeat or reaper failed")
        finally:
            close_old_connections()
        time.sleep(liveness.BEAT_SECONDS)


def _die_with_parent(worker: IdleWorker) -> None:
    """Stop when serve stops, even after a kill -9 that gave it no chance to say so.

    Linux sends SIGHUP when the parent dies (prctl); everywhere, serve holds the write end
    of our stdin, which the kernel closes when serve dies, however it dies. Either way the
    job in hand is ended (its commands killed, the job marked interrupted) and we exit.
    """
    once = threading.Lock()

    def serve_gone() -> None:
        if not once.acquire(blocking=False):
            return
        logger.warning("envdash serve is gone: stopping this worker")
        worker.stop()
        interrupt_running("envdash serve stopped")
        time.sleep(ORPHAN_GRACE_SECONDS)
        os._exit(1)  # the job did not end in time; the next worker's reaper finishes it

    def on_hangup(signum: int, frame: object) -> None:
        # A handler runs between two bytecodes of the main thread: take no lock here, and
        # do not exit from here either (a reaper may be half-way through its work): the
        # main loop stops at its next turn, at once when idle.
        worker.stop()
        threading.Thread(target=serve_gone, name="serve-gone", daemon=True).start()

    if sys.platform == "linux":
        signal.signal(signal.SIGHUP, on_hangup)
    follow_parent(serve_gone, signum=signal.SIGHUP)


class Command(BaseCommand):
    help = "Run envdash's background worker (scans and jobs for this machine)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        # A job queued on this machine wakes an idle worker at once; the polls find work
        # queued elsewhere (another machine's web server, a task due later), and each is a
        # few queries: 0.1 s apart right after a task, growing to --max-interval when idle.
        parser.add_argument(
            "--interval", type=float, default=0.1, help="Seconds between polls after a task."
        )
        parser.add_argument(
            "--max-interval",
            type=float,
            default=2.0,
            help="Seconds between polls when idle (a task queued on this machine wakes it).",
        )
        parser.add_argument(
            "--batch", action="store_true", help="Exit once the queues are empty (for scripts)."
        )
        # `serve` passes it with a pipe on stdin; not for people.
        parser.add_argument("--supervised", action="store_true", help=SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        worker_id = f"{socket.gethostname()[:40]}-{os.getpid()}"
        waker = None
        if not options["batch"]:
            try:
                waker = Waker(fifo_path())
            except OSError as exc:
                logger.warning("cannot listen for queued tasks (%s): polling only", exc)
        worker = IdleWorker(
            max_interval=options["max_interval"],
            waker=waker,
            queue_names=["default", machine_queue()],
            interval=options["interval"],
            batch=options["batch"],
            backend_name="default",
            startup_delay=not options["batch"],
            max_tasks=None,
            worker_id=worker_id[:64],
            excluded_queue_names=[],
        )
        if options["supervised"]:
            _die_with_parent(worker)
        if not options["batch"]:
            keep_connections()
        refuse_unapplied_migrations()
        run_startup_checks()
        worker.configure_signals()
        if not options["batch"]:
            threading.Thread(target=_beat_and_reap, name="heartbeat", daemon=True).start()
        logger.info("worker %s listening on default, %s", worker_id, machine_queue())
        try:
            worker.run()
        finally:
            if not options["batch"]:
                liveness.forget()
            if waker is not None:
                waker.close()
