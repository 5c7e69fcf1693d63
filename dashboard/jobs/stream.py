"""A running job's log stream: output lines buffered and written in small batches by a
thread that also beats the job's heartbeat and notices a cancel request.

No transaction is held while pip runs: each batch is one INSERT in autocommit, and the
page reads them with a cursor (the lines' `seq`).
"""

from __future__ import annotations

import shlex
import threading
from datetime import datetime

from django.db import connection
from django.utils import timezone

from dashboard.jobs.models import Job, JobLine
from envcore.ops import BackendChoice
from envcore.runner import CancelToken, ProcessIdentity

__all__ = ["FLUSH_SECONDS", "LINES_PER_POLL", "LogStream", "job_commands", "lines_after"]

#: How often buffered output reaches the page and the heartbeat is renewed.
FLUSH_SECONDS = 0.3
#: The most lines one poll of the log returns (the job page's and the API's).
LINES_PER_POLL = 2000


def lines_after(job: Job, after: int) -> tuple[list[JobLine], int]:
    """The log lines after the cursor `after` (a line's `seq`), and the cursor to send next:
    what the job page polls for, and what the API returns."""
    lines = list(job.lines.filter(seq__gt=after)[:LINES_PER_POLL])
    return lines, lines[-1].seq if lines else after


def job_commands(job: Job) -> list[str]:
    """Every command the job ran, in order, as the log recorded it (shell-quoted argv)."""
    texts = job.lines.filter(stream="cmd").values_list("text", flat=True)
    return [text.removeprefix("$ ") for text in texts]


class LogStream:
    """Buffers output lines; a thread writes them in batches and beats the heartbeat.

    A line that ends a silence (pip's first) is written at once; the lines after it wait
    up to FLUSH_SECONDS to share one INSERT.
    """

    def __init__(self, job: Job, cancel: CancelToken) -> None:
        self.job_id = job.pk
        self.cancel = cancel
        self.pending: list[tuple[str, str, datetime]] = []
        self.seq = 0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"job-{job.pk}-log", daemon=True)

    def line(self, stream: str, text: str) -> None:
        with self.lock:
            self.pending.append((stream, text, timezone.now()))
        self.wake.set()

    def command(self, argv: tuple[str, ...]) -> None:
        # Quoted as a shell would need it: the exact argv can be read back from the line.
        self.line("cmd", "$ " + shlex.join(argv))

    def installer(self, choice: BackendChoice) -> None:
        """Say in the log which installer runs and why, and keep both for the job's page."""
        self.line("info", choice.describe())
        Job.objects.filter(pk=self.job_id).update(
            installer=choice.backend, installer_reason=choice.reason[:1024]
        )

    def started(self, pid: int) -> None:
        """Record the command's group leader by pid and start time, for a reaper."""
        leader = ProcessIdentity.of(pid)
        started = leader.started if leader is not None else None
        Job.objects.filter(pk=self.job_id).update(pgid=pid, leader_started=started)

    def flush(self) -> None:
        with self.lock:
            batch, self.pending = self.pending, []
        rows = []
        for stream, text, at in batch:
            self.seq += 1
            rows.append(
                JobLine(job_id=self.job_id, seq=self.seq, stream=stream, text=text[:4000], at=at)
            )
        if rows:
            JobLine.objects.bulk_create(rows)
        Job.objects.filter(pk=self.job_id).update(heartbeat_at=timezone.now())
        if Job.objects.filter(pk=self.job_id, cancel_requested=True).exists():
            self.cancel.cancel()

    def _loop(self) -> None:
        try:
            while not self.done.is_set():
                self.wake.wait(FLUSH_SECONDS)
                self.wake.clear()
                self.flush()
                self.done.wait(FLUSH_SECONDS)
        finally:
            connection.close()

    def __enter__(self) -> LogStream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.wake.set()
        self.thread.join()
        self.flush()
