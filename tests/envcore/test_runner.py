"""envcore.runner against real child processes: streaming, environment, timeout, cancel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from envcore.runner import CancelToken, OutputLine, ProcessIdentity, end_process_tree, run

PY = sys.executable


def _gone(pid: int) -> bool:
    """Dead, or a zombie nobody has reaped yet (in containers PID 1 may be slow to)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(pids: list[int], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_gone(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def test_it_streams_both_pipes_line_by_line_in_arrival_order(tmp_path: Path) -> None:
    """Each line reaches on_line while the child still runs: the child waits for the
    callback to acknowledge a line (a file named after it) before it writes the next one,
    on the other pipe. Delivered only at exit, the child would give up and fail."""
    code = (
        "import pathlib, sys, time\n"
        f"acks = pathlib.Path({str(tmp_path)!r})\n"
        "def wait_for(name):\n"
        "    deadline = time.monotonic() + 20\n"
        "    while not (acks / name).exists():\n"
        "        if time.monotonic() > deadline:\n"
        "            sys.exit(f'{name} was not delivered while I ran')\n"
        "        time.sleep(0.01)\n"
        "print('one', flush=True); wait_for('one')\n"
        "print('two', file=sys.stderr, flush=True); wait_for('two')\n"
        "print('three', flush=True)\n"
    )
    seen: list[tuple[str, str]] = []

    def on_line(stream: str, text: str) -> None:
        seen.append((stream, text))
        (tmp_path / text).touch()

    result = run([PY, "-c", code], timeout=60, on_line=on_line)
    assert result.ok and result.returncode == 0, result.output
    assert seen == [("stdout", "one"), ("stderr", "two"), ("stdout", "three")]
    assert result.output == "one\ntwo\nthree\n"
    assert result.stdout == "one\nthree\n" and result.stderr == "two\n"
    assert result.lines[1] == OutputLine("stderr", "two")
    assert result.argv == (PY, "-c", code)


def test_large_output_on_both_pipes_does_not_deadlock() -> None:
    code = (
        "import sys\n"
        "for i in range(200000):\n"
        "    sys.stdout.write('o' * 40 + '\\n'); sys.stderr.write('e' * 40 + '\\n')\n"
    )
    result = run([PY, "-c", code], timeout=120)
    assert result.ok
    assert sum(1 for line in result.lines if line.stream == "stdout") == 200000
    assert sum(1 for line in result.lines if line.stream == "stderr") == 200000


def test_bad_bytes_are_replaced_not_fatal() -> None:
    code = "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe end\\n' + b'no newline')"
    result = run([PY, "-c", code], timeout=30)
    assert result.stdout == "ok \ufffd\ufffd end\nno newline\n"


def test_child_environment_is_stripped_but_keeps_index_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in (
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "PYTHONHOME",
        "PIP_REQUIRE_VIRTUALENV",
        "CONDA_PREFIX",
    ):
        monkeypatch.setenv(name, "/leak")
    monkeypatch.setenv("PIP_INDEX_URL", "https://mirror.example.invalid/simple")
    code = "import json, os; print(json.dumps(dict(os.environ)))"
    result = run([PY, "-c", code], timeout=30, env_overrides={"EXTRA": "1", "PATH": None})
    environ = json.loads(result.stdout)
    for name in (
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "PYTHONHOME",
        "PIP_REQUIRE_VIRTUALENV",
        "CONDA_PREFIX",
    ):
        assert name not in environ
    assert environ["PIP_INDEX_URL"] == "https://mirror.example.invalid/simple"
    assert environ["PIP_NO_INPUT"] == "1" and environ["EXTRA"] == "1"
    assert "PATH" not in environ


def test_no_child_sees_the_dashboards_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A package's setup.py runs inside pip: it must not read the login or team token."""
    monkeypatch.setenv("ENVDASH_TOKEN", "login-secret")
    monkeypatch.setenv("ENVDASH_TEAM_TOKEN", "team-secret")
    code = "import json, os; print(json.dumps(dict(os.environ)))"
    environ = json.loads(run([PY, "-c", code], timeout=30).stdout)
    assert not [name for name in environ if name.startswith("ENVDASH_")]


def test_child_has_no_stdin_and_its_own_process_group() -> None:
    code = "import os, sys; print(repr(sys.stdin.read())); print(os.getpgid(0) == os.getpid())"
    started: list[int] = []
    result = run([PY, "-c", code], timeout=30, on_start=started.append)
    assert result.stdout == "''\nTrue\n"
    assert started == [result.pid] and result.pid != os.getpgrp()


def test_nonzero_exit_is_reported_not_raised() -> None:
    result = run([PY, "-c", "import sys; print('bad'); sys.exit(3)"], timeout=30)
    assert result.returncode == 3 and not result.ok and result.tail() == "bad"


def test_timeout_ends_the_command() -> None:
    result = run([PY, "-c", "import time; print('go', flush=True); time.sleep(60)"], timeout=0.5)
    assert result.timed_out and not result.ok and not result.cancelled
    assert result.duration < 10 and result.stdout == "go\n"


# A child that starts a grandchild in its group and another that leaves it (setsid).
TREE = """
import subprocess, sys, time
sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
a = subprocess.Popen(sleeper)
b = subprocess.Popen(sleeper, start_new_session=True)
print(a.pid, b.pid, flush=True)
time.sleep(120)
"""


def test_cancel_ends_the_whole_process_tree() -> None:
    token = CancelToken()
    pids: list[int] = []

    def on_line(stream: str, text: str) -> None:
        pids.extend(int(pid) for pid in text.split())
        threading.Timer(0.2, token.cancel).start()  # from another thread, as a worker would

    started: list[int] = []
    result = run(
        [PY, "-c", TREE], timeout=60, on_line=on_line, cancel=token, on_start=started.append
    )
    assert result.cancelled and not result.timed_out and result.duration < 15
    assert len(pids) == 2
    assert _wait_gone([started[0], *pids])


def test_an_exception_in_a_callback_still_ends_the_tree() -> None:
    pids: list[int] = []

    def on_line(stream: str, text: str) -> None:
        pids.extend(int(pid) for pid in text.split())
        raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        run([PY, "-c", TREE], timeout=60, on_line=on_line)
    assert len(pids) == 2 and _wait_gone(pids)


def test_end_process_tree_ends_an_orphaned_tree_and_is_safe_to_repeat() -> None:
    # As after a worker crash: a group running with nobody reading its pipes, and a
    # descendant that left the group (setsid), as a build backend's daemon could.
    leader = subprocess.Popen(
        [PY, "-c", TREE], stdout=subprocess.PIPE, start_new_session=True, text=True
    )
    assert leader.stdout is not None
    in_group, outside = (int(pid) for pid in leader.stdout.readline().split())
    identity = ProcessIdentity.of(leader.pid)
    assert identity is not None
    assert end_process_tree(identity) == 3
    leader.wait(10)
    assert _wait_gone([leader.pid, in_group, outside])
    assert end_process_tree(identity) == 0


def test_end_process_tree_leaves_a_pid_that_started_at_another_time_alone() -> None:
    """The recorded pid now names someone else's process (pid reuse): it must survive."""
    stranger = subprocess.Popen([PY, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        identity = ProcessIdentity.of(stranger.pid)
        assert identity is not None
        assert end_process_tree(ProcessIdentity(stranger.pid, identity.started - 30)) == 0
        assert end_process_tree(ProcessIdentity(stranger.pid, identity.started + 30)) == 0
        time.sleep(0.2)
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_end_process_tree_refuses_our_own_group() -> None:
    for pid in (os.getpgrp(), os.getpid(), 0, 1):
        identity = ProcessIdentity.of(pid) or ProcessIdentity(pid, 0.0)
        assert end_process_tree(identity) == 0
    assert ProcessIdentity.of(2**22 + 12345) is None


def test_a_grandchild_left_holding_the_pipes_does_not_hang_the_run() -> None:
    code = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(p.pid, flush=True)\n"
    )
    result = run([PY, "-c", code], timeout=60)
    assert result.returncode == 0 and not result.timed_out
    assert result.duration < 10
    assert _wait_gone([int(result.stdout)])
