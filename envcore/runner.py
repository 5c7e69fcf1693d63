"""Run one command (pip, uv, venv) safely: argv only, own process group, streamed, killable.

The child gets no stdin, a clean environment (none of the dashboard's own virtualenv or
Python path settings leak into it) and its own session, so a timeout or a cancel can end the
whole tree it started, and a reaper in another process can end it after a crash.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

if TYPE_CHECKING:  # imported where a process is looked at: a run that ends by itself
    import psutil  # never needs it, and `python -m envcore plan` starts without it

__all__ = [
    "CancelToken",
    "CommandResult",
    "OutputLine",
    "ProcessIdentity",
    "clean_environment",
    "end_process_tree",
    "minimal_environment",
    "replaced_since",
    "run",
]

Stream = Literal["stdout", "stderr"]

#: Variables that would make the child see the dashboard's interpreter, or install elsewhere
#: than the environment it was asked to change. The user's index settings (PIP_INDEX_URL...)
#: are kept: they are how the user reaches their packages.
STRIPPED_VARIABLES = frozenset(
    {
        "VIRTUAL_ENV",
        "VIRTUAL_ENV_PROMPT",
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONSTARTUP",
        "PYTHONUSERBASE",
        "PYTHONEXECUTABLE",
        "PYTHONNOUSERSITE",
        "PYTHONSAFEPATH",
        "__PYVENV_LAUNCHER__",
        "CONDA_PREFIX",
        "CONDA_DEFAULT_ENV",
        "CONDA_PYTHON_EXE",
        "CONDA_SHLVL",
        "PIP_REQUIRE_VIRTUALENV",
        "PIP_PYTHON",
        "PIP_USER",
        "PIP_TARGET",
        "PIP_PREFIX",
        "PIP_ROOT",
        "PIP_EDITABLE",
        "UV_PYTHON",
        "UV_SYSTEM_PYTHON",
        "UV_PROJECT_ENVIRONMENT",
    }
)
#: Variables with this prefix are the dashboard's own settings (its login token, the team
#: token, the database URL): no child needs them, and a package's setup.py must not see them.
STRIPPED_PREFIX = "ENVDASH_"
#: All a probe of an interpreter keeps (`minimal_environment`): enough to start Python.
_MINIMAL_VARIABLES = ("HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR")
_MINIMAL_PATH = "/usr/bin:/bin"
#: Set for every child: never prompt, no version nag, lines flushed as they are written.
FORCED_VARIABLES = {
    "PIP_NO_INPUT": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PYTHONUNBUFFERED": "1",
    "PYTHONIOENCODING": "utf-8",
    "NO_COLOR": "1",
}
#: Longest piece read as one line; a longer line arrives in pieces instead of eating memory.
_MAX_LINE = 1 << 20
#: After SIGTERM, how long the group gets to exit before SIGKILL.
_TERM_GRACE = 3.0
#: After the child exits, how long grandchildren holding its pipes may keep them open.
_PIPE_GRACE = 1.0


class CancelToken:
    """Set from any thread (a worker's cancel button) to stop the command running with it."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled or `timeout`; True when cancelled."""
        return self._event.wait(timeout)

    def __repr__(self) -> str:
        return f"CancelToken(cancelled={self.cancelled})"


@dataclass(frozen=True, slots=True)
class OutputLine:
    stream: Stream
    text: str


@dataclass(frozen=True)
class CommandResult:
    """What one finished command did; `output` is both streams in the order lines arrived."""

    argv: tuple[str, ...]
    returncode: int
    duration: float
    lines: tuple[OutputLine, ...]
    pid: int
    timed_out: bool = False
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.cancelled

    @property
    def output(self) -> str:
        return "".join(f"{line.text}\n" for line in self.lines)

    @property
    def stdout(self) -> str:
        return "".join(f"{line.text}\n" for line in self.lines if line.stream == "stdout")

    @property
    def stderr(self) -> str:
        return "".join(f"{line.text}\n" for line in self.lines if line.stream == "stderr")

    def tail(self, count: int = 5) -> str:
        """The last non-empty lines, for a one-line error message."""
        texts = [line.text.strip() for line in self.lines if line.text.strip()]
        return " | ".join(texts[-count:])


def clean_environment(
    base: Mapping[str, str] | None = None, overrides: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """The environment a child runs with: `base` minus STRIPPED_VARIABLES, plus the forced ones.

    An override of None removes that variable.
    """
    environ = {
        key: value
        for key, value in (os.environ if base is None else base).items()
        if key not in STRIPPED_VARIABLES and not key.startswith(STRIPPED_PREFIX)
    }
    environ.update(FORCED_VARIABLES)
    for key, value in (overrides or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return environ


def minimal_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Only a fixed PATH, HOME, the locale and TMPDIR from `base`: for running a program
    only to ask it something (an interpreter's version), which needs nothing else."""
    source = os.environ if base is None else base
    environ = {key: source[key] for key in _MINIMAL_VARIABLES if key in source}
    environ["PATH"] = _MINIMAL_PATH
    return environ


def _pump(pipe: IO[bytes], stream: Stream, sink: queue.Queue[OutputLine | Stream]) -> None:
    """Read one pipe line by line until EOF; each line goes to `sink` as soon as it is read."""
    try:
        while True:
            raw = pipe.readline(_MAX_LINE)
            if not raw:
                break
            text = raw.decode("utf-8", errors="replace")
            sink.put(OutputLine(stream, text.rstrip("\r\n")))
    except (OSError, ValueError):  # the pipe was closed under us after a kill
        pass
    finally:
        sink.put(stream)  # end-of-stream marker


#: Two start times of one process read by two processes may differ by the system clock's
#: adjustments (psutil adds the boot time, kept in whole seconds); a pid reused within this
#: much of the first process's start would need the pid counter to wrap around meanwhile.
_SAME_START = 1.0


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    """A process as another process can find it again: a pid alone may, once the process is
    gone, name someone else's; the pid with its start time names only that one."""

    pid: int
    started: float

    @classmethod
    def of(cls, pid: int) -> ProcessIdentity | None:
        """The identity of the running (or not yet reaped) process `pid`; None when gone."""
        import psutil

        try:
            return cls(pid, psutil.Process(pid).create_time())
        except psutil.Error:
            return None


def replaced_since(pid: int, moment: float) -> bool:
    """True when the process that had `pid` at `moment` is gone: no process has the pid,
    it is a zombie nobody reaped yet, or the pid now names a process started after it."""
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return True
        return process.create_time() > moment + _SAME_START
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:  # not ours to look at: assume it still runs
        return False


def _group_members(pgid: int, born_after: float) -> list[psutil.Process]:
    import psutil

    members = []
    for process in psutil.process_iter():
        try:
            if (
                os.getpgid(process.pid) == pgid
                and _still_running(process)
                and process.create_time() >= born_after - _SAME_START
            ):
                members.append(process)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return members


def _tree(pgid: int, born_after: float) -> list[psutil.Process]:
    """The group's live members and all their descendants, even those that left the group."""
    import psutil

    found = {process.pid: process for process in _group_members(pgid, born_after)}
    for member in list(found.values()):
        with contextlib.suppress(psutil.Error):
            for child in member.children(recursive=True):
                found.setdefault(child.pid, child)
    return list(found.values())


def _still_running(process: psutil.Process) -> bool:
    import psutil

    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait_dead(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Those still running after `timeout`. A zombie counts as dead: once reparented, its
    reaping is init's business (and a container's PID 1 may never do it)."""
    deadline = time.monotonic() + timeout
    alive = [process for process in processes if _still_running(process)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.02)
        alive = [process for process in alive if _still_running(process)]
    return alive


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _terminate(pgid: int, tree: list[psutil.Process], grace: float) -> list[psutil.Process]:
    """SIGTERM the group and the tree, SIGKILL what is left after `grace`; returns survivors."""
    import psutil

    _signal_group(pgid, signal.SIGTERM)
    for process in tree:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    if not _wait_dead(tree, grace):
        return []
    _signal_group(pgid, signal.SIGKILL)
    for process in tree:
        with contextlib.suppress(psutil.Error):
            process.kill()
    return _wait_dead(tree, grace)


def _end_tree(process: subprocess.Popen[bytes]) -> None:
    """End our own child's group and every descendant (start_new_session made it the leader)."""
    _terminate(process.pid, _tree(process.pid, born_after=0.0), _TERM_GRACE)
    process.wait()


def end_process_tree(leader: ProcessIdentity, *, grace: float = _TERM_GRACE) -> int:
    """End a command another process started (a dead worker's job): its process group and
    every descendant, even ones that left the group; returns how many were running.

    A leader whose pid now has another start time is someone else's process: nothing is
    touched. Once the leader has exited, only group members started after it count. Our
    own group is refused, so a stale record can never make a reaper kill itself.
    """
    import psutil

    if leader.pid <= 1 or leader.pid in {os.getpid(), os.getpgrp()}:
        return 0
    try:
        if abs(psutil.Process(leader.pid).create_time() - leader.started) >= _SAME_START:
            return 0
    except psutil.NoSuchProcess:
        pass  # the leader exited; members of its group may still run
    except psutil.Error:
        return 0
    tree = _tree(leader.pid, born_after=leader.started)
    if tree:
        _terminate(leader.pid, tree, grace)
    return len(tree)


def _lines_until_done(
    process: subprocess.Popen[bytes],
    sink: queue.Queue[OutputLine | Stream],
    deadline: float | None,
    cancel: CancelToken | None,
) -> Iterator[OutputLine | Literal["timeout", "cancel"]]:
    """Yield lines as they arrive; yield 'timeout' / 'cancel' once when that happens."""
    open_streams = 2
    exited_at: float | None = None
    while open_streams:
        try:
            item = sink.get(timeout=0.05)
        except queue.Empty:
            item = None
        if isinstance(item, OutputLine):
            yield item
            continue
        if item is not None:
            open_streams -= 1
            continue
        now = time.monotonic()
        if cancel is not None and cancel.cancelled:
            yield "cancel"
            return
        if deadline is not None and now >= deadline:
            yield "timeout"
            return
        if process.poll() is not None:
            # The child is gone but something it started still holds a pipe: end it too.
            exited_at = exited_at or now
            if now - exited_at > _PIPE_GRACE:
                _end_tree(process)
                exited_at = now + 3600.0  # only once


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | str | None = None,
    env_overrides: Mapping[str, str | None] | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float | None,
    on_line: Callable[[str, str], None] | None = None,
    cancel: CancelToken | None = None,
    on_start: Callable[[int], None] | None = None,
) -> CommandResult:
    """Run `argv` (never through a shell) and return once it and its streams have finished.

    `on_line(stream, text)` is called in this thread for every line as it arrives;
    `on_start(pid)` right after the start (the pid is also the process group id).
    The child's environment is `environ` (default: ours) cleaned by `clean_environment`.
    A timeout or a cancel ends the whole process tree; the result says which happened.
    """
    args = tuple(os.fspath(arg) for arg in argv)
    if not args:
        raise ValueError("run() needs a command")
    started = time.monotonic()
    process = subprocess.Popen(
        args,
        cwd=cwd,
        env=clean_environment(environ, overrides=env_overrides),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        close_fds=True,
    )
    if on_start is not None:
        on_start(process.pid)
    sink: queue.Queue[OutputLine | Stream] = queue.Queue()
    if process.stdout is None or process.stderr is None:  # pragma: no cover - PIPE given
        raise RuntimeError("subprocess pipes were not created")
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, "stdout", sink), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, "stderr", sink), daemon=True),
    ]
    for reader in readers:
        reader.start()
    deadline = None if timeout is None else started + timeout
    lines: list[OutputLine] = []
    timed_out = cancelled = streams_done = False
    try:
        for item in _lines_until_done(process, sink, deadline, cancel):
            if item == "timeout":
                timed_out = True
            elif item == "cancel":
                cancelled = True
            elif isinstance(item, OutputLine):
                lines.append(item)
                if on_line is not None:
                    on_line(item.stream, item.text)
        streams_done = not (timed_out or cancelled)
        # Both pipes are closed; a child that lingers after that still obeys timeout/cancel.
        while streams_done and process.poll() is None:
            if cancel is not None and cancel.wait(0.05):
                cancelled = True
            elif deadline is not None and time.monotonic() >= deadline:
                timed_out = True
            if timed_out or cancelled:
                break
            if cancel is None:
                time.sleep(0.05)
    finally:
        # Also reached when on_line raised: never leave the tree running behind us.
        if process.poll() is None or timed_out or cancelled:
            _end_tree(process)
        for reader in readers:
            reader.join(_PIPE_GRACE)
        process.stdout.close()
        process.stderr.close()
    # Lines read after a kill are still worth keeping (the last words of the command).
    while True:
        try:
            late = sink.get_nowait()
        except queue.Empty:
            break
        if isinstance(late, OutputLine):
            lines.append(late)
            if on_line is not None:
                on_line(late.stream, late.text)
    returncode = process.wait()
    return CommandResult(
        argv=args,
        returncode=returncode,
        duration=time.monotonic() - started,
        lines=tuple(lines),
        pid=process.pid,
        timed_out=timed_out,
        cancelled=cancelled,
    )
