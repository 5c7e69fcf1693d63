"""The real `envdash serve` in a subprocess: what its web server refuses before the app runs."""

from __future__ import annotations

import contextlib
import http.client
import secrets
import select
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving import Serving, serve_environ, serving

REPO = Path(__file__).resolve().parents[2]
LIMIT = 64 * 1024


def _environ(data_dir: Path, token: str) -> dict[str, str]:
    return serve_environ(
        data_dir,
        token,
        ENVDASH_SCAN_ROOTS=str(data_dir),
        ENVDASH_TEAM_MAX_SNAPSHOT_BYTES=str(LIMIT),
        DATABASE_URL="",
    )


@contextlib.contextmanager
def _serving(data_dir: Path) -> Iterator[Serving]:
    """`serve --port 0` without workers or scan, on SQLite in `data_dir`."""
    argv = [
        sys.executable,
        "-m",
        "dashboard.cli",
        "serve",
        "--port",
        "0",
        "--no-worker",
        "--no-scan",
    ]
    with serving(argv, cwd=REPO, env=_environ(data_dir, secrets.token_urlsafe(24))) as served:
        yield served


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    with _serving(tmp_path_factory.mktemp("serve-data")) as served:
        yield served


def test_a_body_over_the_limit_is_refused_before_it_is_read(served: Serving) -> None:
    total = 200 * 1024 * 1024
    chunk = b"x" * (64 * 1024)
    sent = 0
    answer = b""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as conn:
        conn.sendall(
            b"POST /api/snapshots HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n" + f"Content-Length: {total}\r\n\r\n".encode()
        )
        try:
            while sent < total:
                readable, _, _ = select.select([conn], [], [], 0)
                if readable:
                    break
                conn.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused and closed while we were still sending: what we want
        try:
            answer = conn.recv(4096)
        except ConnectionResetError:
            answer = b""
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < total // 10, f"the server let {sent} bytes in before answering"
    assert elapsed < 10


def test_the_session_cookie_is_named_after_the_port_serve_picked(served: Serving) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    conn.request("GET", f"/login/?token={served.token}")
    response = conn.getresponse()
    cookies = response.headers.get_all("Set-Cookie") or []
    conn.close()
    assert response.status == 302
    assert any(c.startswith(f"envdash_session_{served.port}=") for c in cookies), cookies


def test_serve_clears_expired_sessions_at_start(tmp_path: Path) -> None:
    migrate = [sys.executable, "-m", "dashboard.cli", "migrate", "--verbosity", "0"]
    subprocess.run(migrate, cwd=REPO, env=_environ(tmp_path, "unused"), check=True)
    database = sqlite3.connect(tmp_path / "envdash.sqlite3")
    with database:
        database.executemany(
            "INSERT INTO django_session (session_key, session_data, expire_date) VALUES (?, ?, ?)",
            [("expired", "x", "2000-01-01 00:00:00"), ("current", "x", "2999-01-01 00:00:00")],
        )
    database.close()
    with _serving(tmp_path):
        database = sqlite3.connect(tmp_path / "envdash.sqlite3")
        keys = [row[0] for row in database.execute("SELECT session_key FROM django_session")]
        database.close()
    assert keys == ["current"]


def test_the_sqlite_database_is_private_whatever_the_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    database = data_dir / "envdash.sqlite3"
    migrate = [sys.executable, "-m", "dashboard.cli", "migrate", "--verbosity", "0"]
    subprocess.run(migrate, cwd=REPO, env=_environ(data_dir, "unused"), check=True)
    assert database.stat().st_mode & 0o777 == 0o600
    database.chmod(0o644)  # as an earlier version left it
    with _serving(data_dir):
        modes = {path.name: path.stat().st_mode & 0o777 for path in data_dir.glob("envdash*")}
    assert modes["envdash.sqlite3"] == 0o600
    assert set(modes.values()) == {0o600}


def test_start_up_prints_the_login_url_and_nothing_else(tmp_path: Path) -> None:
    """With a worker and the first scan: a worker's start-up says nothing after the URL."""
    env = {**_environ(tmp_path, secrets.token_urlsafe(24)), "ENVDASH_JOB_CONCURRENCY": "1"}
    env.pop("ENVDASH_LOG_LEVEL", None)
    argv = [sys.executable, "-m", "dashboard.cli", "serve", "--port", "0"]
    with serving(argv, cwd=REPO, env=env) as served:
        # The worker logs its start before it takes the first scan: once that scan is done,
        # all it would have said at start is in the output.
        deadline = time.monotonic() + 60
        done: list[tuple[str]] = []
        while not done and time.monotonic() < deadline:
            time.sleep(0.2)
            database = sqlite3.connect(tmp_path / "envdash.sqlite3", timeout=10)
            done = database.execute(
                "SELECT state FROM dashboard_scan WHERE state = 'done'"
            ).fetchall()
            database.close()
        assert done, "the worker did not scan:\n" + "".join(served.output)
        assert served.output == [f"envdash: open {served.login_url}\n"]


def test_stopping_serve_ends_its_workers_without_a_crash(tmp_path: Path) -> None:
    """`kill PID` of serve: it and its worker exit, and no interpreter dies on the way out
    (a worker thread blocked reading serve's pipe must not break the worker's shutdown)."""
    env = {**_environ(tmp_path, secrets.token_urlsafe(24)), "ENVDASH_JOB_CONCURRENCY": "1"}
    argv = [sys.executable, "-m", "dashboard.cli", "serve", "--port", "0"]
    with serving(argv, cwd=REPO, env=env) as served:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the worker is up once it took the first scan
            database = sqlite3.connect(tmp_path / "envdash.sqlite3", timeout=10)
            scanned = database.execute("SELECT 1 FROM dashboard_scan WHERE state = 'done'")
            done = scanned.fetchall()
            database.close()
            if done:
                break
            time.sleep(0.2)
        assert done, "the worker did not scan:\n" + "".join(served.output)
        served.process.terminate()  # serve alone, as `kill PID` does
        assert served.process.wait(timeout=60) == 0
        # The output pipe closes when the worker, its last writer, has exited too.
        served.reader.join(timeout=60)
        assert not served.reader.is_alive(), "a worker outlived serve"
        output = "".join(served.output)
        assert "Fatal Python error" not in output
        assert "Traceback" not in output


def test_a_port_in_use_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """Another program listening on the port: serve says so in one line and exits 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = [sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port), "--no-worker"]
        env = _environ(tmp_path, secrets.token_urlsafe(24))
        done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in lines[0]
    assert "--port" in lines[0]
    assert done.stdout == ""
    # Nothing was queued for a worker that never started.
    database = sqlite3.connect(tmp_path / "envdash.sqlite3", timeout=10)
    assert database.execute("SELECT COUNT(*) FROM dashboard_scan").fetchone() == (0,)
    database.close()
