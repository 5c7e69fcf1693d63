"""Start the real `envdash serve` in a subprocess and read the login URL it prints."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: serve's last line of start-up output (and its only one, see test_serve.py).
URL_LINE = re.compile(r"^envdash: open (http://(\S+):(\d+))/login/\?token=(\S+)$")


@dataclass
class Serving:
    process: subprocess.Popen[str]
    #: Everything serve (and its workers) printed so far, stdout and stderr, line by line.
    output: list[str]
    #: Fills `output`; it ends when serve and every worker have closed the pipe.
    reader: threading.Thread
    base_url: str
    login_url: str
    port: int
    token: str

    def url(self, path: str) -> str:
        return self.base_url + path


def serve_environ(data_dir: Path, token: str, **extra: str) -> dict[str, str]:
    """This process's environment for a serve on its own data directory and token."""
    env = {
        **os.environ,
        "ENVDASH_DATA_DIR": str(data_dir),
        "ENVDASH_TOKEN": token,
        "ENVDASH_SKIP_BOOTSTRAP": "1",
        **extra,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


@contextlib.contextmanager
def serving(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float = 60
) -> Iterator[Serving]:
    """Run `argv` (a serve command) until the block ends; enter once it printed its URL.

    It runs in a session of its own, and the whole session (its workers too) is ended.
    """
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout or ()), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + timeout
        match = None
        while match is None and time.monotonic() < deadline and process.poll() is None:
            match = next((m for line in list(output) if (m := URL_LINE.match(line))), None)
            time.sleep(0.05)
        if match is None:
            raise AssertionError("envdash serve did not start:\n" + "".join(output))
        yield Serving(
            process=process,
            output=output,
            reader=reader,
            base_url=match.group(1),
            login_url=match.group(0).removeprefix("envdash: open "),
            port=int(match.group(3)),
            token=match.group(4),
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
