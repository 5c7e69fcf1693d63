"""serve's supervisor against real child processes: restarts, backoff, reaping, stop."""

from __future__ import annotations

import sys
import time

import psutil

from dashboard.supervisor import Supervisor

PY = sys.executable
SLEEPER = [PY, "-c", "import sys; sys.stdin.read()"]  # lives until its pipe closes


def test_a_process_that_dies_at_start_is_restarted_with_a_growing_wait() -> None:
    lines: list[str] = []
    supervisor = Supervisor(
        [PY, "-c", "import sys; sys.exit(3)"], 1, log=lines.append, first_backoff=0.2, poll=0.02
    )
    supervisor.start()
    time.sleep(2.5)
    supervisor.stop(grace=5)
    # Waits of 0.2, 0.4, 0.8 s then 1.6 s: a handful of restarts, not a tight loop.
    assert 3 <= len(lines) <= 4, lines
    assert all(" exited with status 3 after 0 s; waited " in line for line in lines)
    assert [line.split("waited ")[1].split(" s")[0] for line in lines[:3]] == ["0.2", "0.4", "0.8"]


def test_a_killed_process_is_reaped_and_replaced_and_stop_ends_all() -> None:
    lines: list[str] = []
    supervisor = Supervisor(SLEEPER, 2, log=lines.append, first_backoff=0.1, poll=0.02)
    supervisor.start()
    deadline = time.monotonic() + 10
    while len(supervisor.pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    first, other = supervisor.pids()
    psutil.Process(first).kill()
    while first in supervisor.pids() or len(supervisor.pids()) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert not psutil.pid_exists(first)  # reaped at once: no zombie left behind
    [replacement] = set(supervisor.pids()) - {other}
    assert lines == [
        f"envdash: worker {first} was killed by SIGKILL after 0 s; waited 0.1 s; "
        f"restarted as worker {replacement}"
    ]
    supervisor.stop(grace=5)
    assert not psutil.pid_exists(other) and not psutil.pid_exists(replacement)
