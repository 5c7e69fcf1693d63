"""The real `envdash watch` process following a real venv changed from a terminal: a pip
install, an edited requirements file and a broken interpreter link reach the database
within 3 s; a 30-package install is one rescan; polling (chosen, or past the watch limit)
still follows and says why; serve restarts a killed watcher."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.live import revision
from dashboard.models import Activity, Distribution, Environment, Scan, WatchState
from dashboard.scanning import scan_tree
from dashboard.watchstatus import watch_status
from tests.dashboard.conftest import log_in
from tests.dashboard.jobs.conftest import command_environment
from tests.envtools import make_venv
from tests.wheelmaker import write_wheel

pytestmark = pytest.mark.django_db(transaction=True)

#: The issue's promise: a change on disk is in the database (and so on the page) by then.
WITHIN = 3.0
BULK = 30


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One project with a venv that has pip (installs go through its own pip, as in a
    terminal), a bare venv beside it, and a directory of wheels. Shared by the module's
    tests: each installs packages of its own names and asserts only about those."""
    root = tmp_path_factory.mktemp("followed")
    app = root / "app"
    app.mkdir()
    (app / "requirements.txt").write_text("# nothing yet\n")
    venv = make_venv(app / ".venv", with_pip=True)
    other = make_venv(root / "other" / ".venv")
    wheels = tmp_path_factory.mktemp("wheels")
    for name in ("first-seen", "polled-one", "limited-one", "os-limited-one", "restarted-one"):
        write_wheel(wheels, name, "1.0")
    for index in range(BULK):
        write_wheel(wheels, f"bulk-{index:02d}", "1.0")
    return {"root": root, "app": app, "venv": venv, "other": other, "wheels": wheels}


def wait_for(predicate: Callable[[], bool], timeout: float) -> float:
    """Seconds until `predicate()` held; fails after `timeout`."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, "timed out"
        time.sleep(0.02)
    return time.monotonic() - started


def pip_install(venv: Path, wheels: Path, *names: str) -> None:
    """What a user types in a terminal: the venv's own pip, nothing of envdash."""
    argv = [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-index", "--quiet"]
    subprocess.run(
        [*argv, "--find-links", str(wheels), *names],
        check=True,
        timeout=300,
    )


def packages(venv: Path) -> set[str]:
    rows = Distribution.objects.filter(environment__path=str(venv))
    return set(rows.values_list("name", flat=True))


def _watching(pid: int) -> bool:
    state = WatchState.objects.filter(pid=pid).first()
    return state is not None and state.environments > 0


@contextlib.contextmanager
def watcher(
    *, os_watch_limit: int | None = None, **extra: str
) -> Iterator[subprocess.Popen[bytes]]:
    """A real `envdash watch` on the test database; entered once it watches.

    `os_watch_limit`: run it in a user namespace of its own whose inotify watch limit is
    that low (the kernel's own refusal, ENOSPC, without touching the machine's limit)."""
    env = {**command_environment(), "ENVDASH_RESCAN_INTERVAL": "0", **extra}
    argv = [sys.executable, "-m", "dashboard.cli", "watch"]
    if os_watch_limit is not None:
        limit = f"echo {os_watch_limit} > /proc/sys/user/max_inotify_watches"
        argv = ["unshare", "--user", "--map-root-user", "sh", "-c", f'{limit} && exec "$@"', "-"]
        argv += [sys.executable, "-m", "dashboard.cli", "watch"]
    process = subprocess.Popen(argv, env=env)
    try:
        wait_for(lambda: _watching(process.pid), timeout=60)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def scanned(settings: SettingsWrapper, disk: dict[str, Path]) -> dict[str, Path]:
    settings.SCAN_ROOTS = [disk["root"]]
    scan_tree()
    assert Environment.objects.count() == 2
    return disk


def test_a_pip_install_in_a_terminal_is_in_the_database_within_3_s(
    scanned: dict[str, Path],
) -> None:
    venv = scanned["venv"]
    before = revision()
    with watcher():
        pip_install(venv, scanned["wheels"], "first-seen")
        # Stored, and the revision raised (open pages re-fetch): the rows come first, the
        # Scan row that raises the revision a moment later, in the same rescan.
        took = wait_for(
            lambda: "first-seen" in packages(venv) and revision() > before, timeout=WITHIN
        )
    assert took < WITHIN
    row = Environment.objects.get(path=str(venv))
    assert row.package_count == len(packages(venv))
    changed = Activity.objects.filter(kind="changed")
    assert list(changed.values_list("message", flat=True)) == ["app/.venv: first-seen 1.0 added"]


def test_a_30_package_install_is_one_rescan_and_touching_nothing_is_none(
    scanned: dict[str, Path],
) -> None:
    venv = scanned["venv"]
    names = [f"bulk-{index:02d}" for index in range(BULK)]
    with watcher():
        pip_install(venv, scanned["wheels"], *names)
        wait_for(lambda: set(names) <= packages(venv), timeout=WITHIN)
        time.sleep(2.0)  # any later rescan would have happened by now
        assert Scan.objects.filter(target=str(venv)).count() == 1
        assert list(Activity.objects.filter(kind="changed").values_list("message", flat=True)) == [
            "app/.venv: bulk-00 1.0 added, bulk-01 1.0 added, bulk-02 1.0 added and 27 more"
        ]
        # A rewrite of the interpreter's link to the same target changes nothing shown:
        # no Scan row, no raised revision.
        before = revision()
        python = venv / "bin" / "python"
        target = os.readlink(python)
        python.unlink()
        python.symlink_to(target)
        time.sleep(2.0)
        assert Scan.objects.filter(target=str(venv)).count() == 1
        assert revision() == before


def test_an_edited_requirements_file_shows_drift_within_3_s(scanned: dict[str, Path]) -> None:
    venv, requirements = scanned["venv"], scanned["app"] / "requirements.txt"
    assert Environment.objects.get(path=str(venv)).status == "in-sync"
    try:
        with watcher():
            requirements.write_text("never-installed==1.0\n")
            wait_for(
                lambda: Environment.objects.get(path=str(venv)).status == "drifted",
                timeout=WITHIN,
            )
    finally:
        requirements.write_text("# nothing yet\n")
    row = Environment.objects.get(path=str(venv))
    assert row.drift_items.filter(name="never-installed", status="missing").exists()


def test_a_broken_interpreter_link_shows_as_broken_within_3_s(scanned: dict[str, Path]) -> None:
    other = scanned["other"]
    python = other / "bin" / "python"
    target = os.readlink(python)
    try:
        with watcher():
            python.unlink()
            python.symlink_to("/nonexistent/python3")  # relinked to nothing
            wait_for(
                lambda: Environment.objects.get(path=str(other)).status == "broken",
                timeout=WITHIN,
            )
    finally:
        python.unlink()
        python.symlink_to(target)
    assert "no longer exists" in Environment.objects.get(path=str(other)).broken_reason


def test_polling_still_follows_and_the_settings_page_says_why(
    scanned: dict[str, Path], client: Client
) -> None:
    venv = scanned["venv"]
    with watcher(ENVDASH_WATCH="poll", ENVDASH_POLL_INTERVAL="1"):
        pip_install(venv, scanned["wheels"], "polled-one")
        wait_for(lambda: "polled-one" in packages(venv), timeout=WITHIN)
        status = watch_status()
        page = log_in(client).get("/settings/").content.decode()
    assert status["running"] and status["mode"] == "polling"
    assert status["watched_paths"] == 0 and status["polled_paths"] > 0
    summary = f"polling {status['polled_paths']} paths every 1 s: ENVDASH_WATCH=poll"
    assert status["summary"] == summary
    assert "Polling " + summary.removeprefix("polling ") in page


def test_past_the_watch_limit_the_rest_is_polled_reported_and_followed(
    scanned: dict[str, Path], client: Client
) -> None:
    venv = scanned["venv"]
    with watcher(ENVDASH_WATCH_LIMIT="1", ENVDASH_POLL_INTERVAL="1"):
        status = watch_status()
        assert status["mode"] == "mixed"
        assert status["watched_paths"] == 1 and status["polled_paths"] > 1
        # The one OS watch is a site-packages directory (they come first): the other
        # environment's, or this one's; either way both are still followed.
        pip_install(venv, scanned["wheels"], "limited-one")
        wait_for(lambda: "limited-one" in packages(venv), timeout=WITHIN)
        page = log_in(client).get("/settings/").content.decode()
    assert "the watch limit (ENVDASH_WATCH_LIMIT = 1) was reached" in status["reason"]
    assert status["summary"].startswith("watching 1 path with inotify, polling ")
    assert "ENVDASH_WATCH_LIMIT = 1" in page


def test_past_the_oss_own_watch_limit_the_rest_is_polled_reported_and_followed(
    scanned: dict[str, Path],
) -> None:
    venv = scanned["venv"]
    with watcher(os_watch_limit=3, ENVDASH_POLL_INTERVAL="1"):
        status = watch_status()
        pip_install(venv, scanned["wheels"], "os-limited-one")
        wait_for(lambda: "os-limited-one" in packages(venv), timeout=WITHIN)
    assert status["mode"] == "mixed"
    assert status["watched_paths"] == 3 and status["polled_paths"] > 3
    assert status["reason"] == (
        "the OS watch limit (user.max_inotify_watches = 3) was reached: raise it with "
        "`sudo sysctl user.max_inotify_watches=524288` (and a line in /etc/sysctl.d/ to keep it)"
    )


def test_without_a_watcher_the_settings_page_says_not_running(
    scanned: dict[str, Path], client: Client
) -> None:
    # A dead watcher's last row says 300 s: nothing queues that rescan any more.
    WatchState.objects.create(
        machine=django_settings.MACHINE_NAME,
        pid=1,
        started_at=timezone.now() - timedelta(hours=1),
        heartbeat_at=timezone.now() - timedelta(hours=1),
        rescan_interval=300,
    )
    page = log_in(client).get("/settings/").content.decode()
    assert "Not running" in page and "no periodic rescan either" in page
    assert "full rescan every" not in page
    assert watch_status()["mode"] == "not-running"


def _watchers(serve: subprocess.Popen[bytes]) -> list[int]:
    try:
        children = psutil.Process(serve.pid).children()
    except psutil.Error:
        return []
    return [
        child.pid
        for child in children
        if child.status() != psutil.STATUS_ZOMBIE and "watch" in child.cmdline()
    ]


def _gone(pid: int) -> bool:
    """Exited (a zombie nobody reaped yet counts: its parent, serve, is gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_serve_restarts_a_killed_watcher_and_a_killed_serve_ends_it(
    scanned: dict[str, Path], tmp_path: Path
) -> None:
    venv = scanned["venv"]
    env = {**command_environment(), "ENVDASH_RESCAN_INTERVAL": "0"}
    workers: list[psutil.Process] = []
    serve = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "serve", "--port", "0", "--no-scan"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "serve.log").open("wb"),
    )
    try:
        wait_for(lambda: len(_watchers(serve)) == 1, timeout=60)
        [first] = _watchers(serve)
        wait_for(lambda: _watching(first), timeout=60)
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: _watchers(serve) not in ([], [first]), timeout=30)
        [second] = _watchers(serve)
        wait_for(lambda: _watching(second), timeout=60)
        pip_install(venv, scanned["wheels"], "restarted-one")
        wait_for(lambda: "restarted-one" in packages(venv), timeout=WITHIN)
        workers = [p for p in psutil.Process(serve.pid).children() if "worker" in p.cmdline()]
        serve.kill()  # however serve ends, its watcher ends with it
        serve.wait()
        wait_for(lambda: _gone(second), timeout=10)
    finally:
        for worker in workers:  # they end by themselves after their grace; no need to wait
            with contextlib.suppress(psutil.Error):
                worker.kill()
        for pid in _watchers(serve):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        serve.terminate()
        serve.wait(timeout=60)
    log = (tmp_path / "serve.log").read_text()
    assert f"envdash: watcher {first} was killed by SIGKILL" in log
    assert f"restarted as watcher {second}" in log
