"""serve's supervisor against real child processes: restarts, backoff, reaping, stop."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable

import psutil

from dashboard.supervisor import Supervisor

PY = sys.executable
SLEEPER = [PY, "-c", "import sys; sys.stdin.read()"]  # lives until its pipe closes


def _wait(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_process_that_dies_at_start_is_restarted_with_a_growing_wait() -> None:
    lines: list[tuple[float, str]] = []
    supervisor = Supervisor(
        [PY, "-c", "import sys; sys.exit(3)"],
        1,
        log=lambda line: lines.append((time.monotonic(), line)),
        first_backoff=0.2,
        poll=0.02,
    )
    supervisor.start()
    try:
        _wait(lambda: len(lines) >= 3)
    finally:
        supervisor.stop(grace=5)
    pattern = r"envdash: worker \d+ exited with status 3 after \d+ s; waited ([\d.]+) s; .*"
    waits = [float(re.fullmatch(pattern, line)[1]) for _, line in lines[:3]]  # type: ignore[index]
    assert waits == [0.2, 0.4, 0.8]  # doubling: never a tight loop
    assert lines[2][0] - lines[1][0] >= 0.8


def test_a_killed_process_is_reaped_and_replaced_and_stop_ends_all() -> None:
    lines: list[str] = []
    supervisor = Supervisor(SLEEPER, 2, log=lines.append, first_backoff=0.1, poll=0.02)
    supervisor.start()
    try:
        _wait(lambda: len(supervisor.pids()) == 2)
        first, other = supervisor.pids()
        psutil.Process(first).kill()
        _wait(lambda: first not in supervisor.pids() and len(supervisor.pids()) == 2)
        assert not psutil.pid_exists(first)  # reaped at once: no zombie left behind
        [replacement] = set(supervisor.pids()) - {other}
        assert len(lines) == 1
        assert re.fullmatch(
            rf"envdash: worker {first} was killed by SIGKILL after \d+ s; waited 0.1 s; "
            rf"restarted as worker {replacement}",
            lines[0],
        )
    finally:
        supervisor.stop(grace=5)
    assert not psutil.pid_exists(other) and not psutil.pid_exists(replacement)


def test_an_idle_supervisor_sleeps_until_a_process_ends() -> None:
    """serve runs all day: with nothing dying, its supervisor does not wake up to look."""
    supervisor = Supervisor(SLEEPER, 2, log=lambda line: None, poll=0.02)
    looks: list[int] = []
    check = supervisor._check

    def counted(slot: object) -> None:
        looks.append(1)
        check(slot)  # type: ignore[arg-type]

    supervisor._check = counted  # type: ignore[method-assign]
    supervisor.start()
    try:
        _wait(lambda: len(supervisor.pids()) == 2)
        before = len(looks)
        time.sleep(1)  # a quiet second: polling every 0.02 s would look 100 times
        assert len(looks) - before <= 2
        first = supervisor.pids()[0]
        psutil.Process(first).kill()
        _wait(lambda: first not in supervisor.pids() and len(supervisor.pids()) == 2, 5)
    finally:
        supervisor.stop(grace=5)
