"""`serve`'s worker processes: started, reaped and restarted when they die, ended with serve.

A dead worker is reaped at once (a zombie would still look alive to the reaper's "is the
process gone" check) and started again; one that keeps dying soon after its start waits
longer each time (up to a minute) rather than being restarted in a tight loop. Each worker
reads a pipe from serve on its stdin: when serve dies, however it dies, the pipe closes
and the worker ends too (see the worker's `--supervised`).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Supervisor"]

#: The longest _wait() sleeps without a reason to wake up (a safety net, not a poll).
_LONGEST_SLEEP = 30.0


@dataclass
class _Slot:
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    #: Deaths in a row, each soon after its start; a long run resets it.
    failures: int = 0
    restart_at: float = 0.0
    #: What happened to the last process, for the restart's log line.
    ended: str = ""


def _how(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


class Supervisor:
    """Keeps `count` processes of `argv` running until `stop()`."""

    def __init__(
        self,
        argv: Sequence[str],
        count: int,
        *,
        log: Callable[[str], None],
        env: Mapping[str, str] | None = None,
        first_backoff: float = 1.0,
        max_backoff: float = 60.0,
        healthy_after: float = 60.0,
        poll: float = 0.2,
        name: str = "worker",
    ) -> None:
        self.argv = list(argv)
        #: What the processes are called in the log lines ("worker", "watcher").
        self.name = name
        self.log = log
        self.env = dict(env) if env is not None else None
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.healthy_after = healthy_after
        self.poll = poll
        self._slots = [_Slot() for _ in range(count)]
        self._stopping = threading.Event()
        # stop() ends _wait()'s select at once through this pipe.
        self._wake_read, self._wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._grace = 30.0
        self._lock = threading.Lock()
        # The thread that starts the workers must live as long as they do: Linux sends the
        # parent-death signal when the *thread* that forked a child ends.
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def pids(self) -> list[int]:
        with self._lock:
            return [slot.process.pid for slot in self._slots if slot.process is not None]

    def stop(self, grace: float = 30.0) -> None:
        """Ask the workers to finish their task (SIGTERM); after `grace`, close their pipes
        (their job is interrupted and they exit); kill what is left."""
        if self._stopping.is_set():
            return
        self._grace = grace
        self._stopping.set()
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_write, b"!")
        if self._thread.is_alive():
            self._thread.join()
        os.close(self._wake_read)
        os.close(self._wake_write)

    def _run(self) -> None:
        try:
            while True:
                for slot in self._slots:
                    self._check(slot)
                if self._wait():
                    break
        finally:
            self._end_all()

    def _wait(self) -> bool:
        """Sleep until a process ends, a restart is due or stop() is called (True then).

        On Linux each process is waited on through a pidfd, so an idle serve does not wake
        up to look; elsewhere (or without pidfd_open) it looks every `poll` seconds.
        """
        with self._lock:
            processes = [slot.process for slot in self._slots if slot.process is not None]
        pending = [slot.restart_at for slot in self._slots if slot.process is None]
        fds: list[int] = []
        try:
            for process in processes:
                fds.append(os.pidfd_open(process.pid))
        except (AttributeError, OSError):
            for fd in fds:
                os.close(fd)
            return self._stopping.wait(self.poll)
        timeout = _LONGEST_SLEEP
        if pending:
            timeout = max(0.0, min(timeout, min(pending) - time.monotonic()))
        try:
            if not self._stopping.is_set():
                select.select([*fds, self._wake_read], [], [], timeout)
        finally:
            for fd in fds:
                os.close(fd)
        return self._stopping.is_set()

    def _check(self, slot: _Slot) -> None:
        now = time.monotonic()
        if slot.process is not None:
            returncode = slot.process.poll()  # also reaps it: no zombie is left behind
            if returncode is None:
                return
            ran = now - slot.started
            slot.failures = 0 if ran >= self.healthy_after else slot.failures + 1
            delay = 0.0
            if slot.failures:
                delay = min(self.max_backoff, self.first_backoff * 2 ** (slot.failures - 1))
            slot.ended = f"{self.name} {slot.process.pid} {_how(returncode)} after {ran:.0f} s"
            if delay:
                slot.ended += f"; waited {delay:g} s"
            self._close(slot.process)
            with self._lock:
                slot.process = None
            slot.restart_at = now + delay
        if now < slot.restart_at:
            return
        try:
            process = subprocess.Popen(self.argv, stdin=subprocess.PIPE, env=self.env)
        except OSError as exc:
            slot.failures += 1
            slot.restart_at = now + min(self.max_backoff, self.first_backoff * 2**slot.failures)
            self.log(f"envdash: cannot start a {self.name}: {exc}")
            return
        with self._lock:
            slot.process, slot.started = process, now
        if slot.ended:
            self.log(f"envdash: {slot.ended}; restarted as {self.name} {process.pid}")

    def _end_all(self) -> None:
        with self._lock:
            processes = [slot.process for slot in self._slots if slot.process is not None]
        for process in processes:
            with contextlib.suppress(OSError):
                process.terminate()
        deadline = time.monotonic() + self._grace
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.0, deadline - time.monotonic()))
        for process in processes:
            self._close(process)  # the worker interrupts its job and exits
        deadline = time.monotonic() + self._grace
        for process in processes:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    @staticmethod
    def _close(process: subprocess.Popen[bytes]) -> None:
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
