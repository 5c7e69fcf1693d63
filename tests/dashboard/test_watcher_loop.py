"""The watcher's loop in this process, on real environments and the real database: what
it falls back to and says, the batched team push, the update checks it queues again.
(The whole `envdash watch` process is tested in test_watcher.py.)"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.jobs.models import Job
from dashboard.models import Activity, Distribution, Environment, WatchState
from dashboard.scanning import scan_tree
from dashboard.watchduties import PUSH_AFTER
from dashboard.watcher import Follower, FollowerConfig
from dashboard.watchsources import Failure
from dashboard.watchstatus import watch_status
from envcore.environment import inspect_environment
from tests.envtools import install, make_venv

pytestmark = pytest.mark.django_db(transaction=True)


class Clock:
    """time.monotonic, plus what the test moved it forward by."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


@pytest.fixture
def tree(settings: SettingsWrapper, tmp_path: Path) -> Path:
    settings.SCAN_ROOTS = [tmp_path]
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "requirements.txt").write_text("alpha\n")
    make_venv(tmp_path / "app" / ".venv")
    scan_tree()
    return tmp_path


@pytest.fixture
def follower(tree: Path) -> Iterator[Follower]:
    follower = Follower(FollowerConfig(machine="here", rescan_interval=0), clock=Clock())
    yield follower
    follower.close()


def _follow_until(follower: Follower, done: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        follower.step()


def _names(env: Path) -> set[str]:
    return set(
        Distribution.objects.filter(environment__path=str(env)).values_list("name", flat=True)
    )


def test_a_network_file_system_is_polled_and_the_reason_stored(
    tree: Path, wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    mountinfo = tmp_path_factory.mktemp("proc") / "mountinfo"
    mountinfo.write_text(
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        f"40 22 0:35 / {tree} rw,relatime shared:20 - nfs4 srv:/export rw\n"
    )
    config = FollowerConfig(machine="here", rescan_interval=0, poll_interval=1)
    follower = Follower(replace(config, mountinfo=mountinfo), clock=Clock())
    try:
        follower.rebuild()
        plan = follower.plan
        assert plan.polled and all(path.startswith(str(tree)) for path in plan.polled)
        assert not any(path.startswith(str(tree)) for path in plan.watched)
        state = WatchState.objects.get(machine="here")
        assert state.reason.startswith(f"{len(plan.polled)} paths are on a network file system")
        assert "(nfs4)" in state.reason
        env = tree / "app" / ".venv"
        install(env, ["alpha==1.0"], wheelhouse=wheelhouse)
        _follow_until(follower, lambda: "alpha" in _names(env))
    finally:
        follower.close()


@pytest.mark.parametrize("kind", ["install", "plan"])
def test_a_change_during_a_job_is_rescanned_once_the_job_ended(
    tree: Path, follower: Follower, wheelhouse: Path, kind: str
) -> None:
    # A plan (or a freeze preview) never rescans at its end: the change made meanwhile in
    # a terminal must not wait for the periodic rescan.
    follower.rebuild()
    env = tree / "app" / ".venv"
    job = Job.objects.create(kind=kind, env_path=str(env), machine="here", state=Job.State.RUNNING)
    install(env, ["alpha==1.0"], wheelhouse=wheelhouse)
    _follow_until(follower, lambda: bool(follower.pending))
    held_until = time.monotonic() + 2.5  # past QUIET, LONGEST and a BUSY_RECHECK
    _follow_until(follower, lambda: time.monotonic() > held_until)
    assert follower.rescans == 0 and "alpha" not in _names(env)
    assert env in follower.pending
    job.state = Job.State.SUCCEEDED
    job.save()
    _follow_until(follower, lambda: follower.rescans == 1)
    assert "alpha" in _names(env) and not follower.pending


def test_a_new_environment_found_by_a_scan_is_watched(
    tree: Path, follower: Follower, wheelhouse: Path
) -> None:
    follower.rebuild()
    before = set(follower.plan.watched)
    fresh = make_venv(tree / "fresh" / ".venv")
    follower.step()
    assert set(follower.plan.watched) == before  # not known yet
    scan_tree()
    follower._next_housekeeping = 0.0
    follower.step()
    assert str(fresh) in follower.plan.watched
    install(fresh, ["alpha==1.0"], wheelhouse=wheelhouse)
    _follow_until(follower, lambda: "alpha" in _names(fresh))


def test_a_removed_environment_is_marked_gone_and_back_when_made_again(
    tree: Path, follower: Follower
) -> None:
    follower.rebuild()
    env = tree / "app" / ".venv"
    shutil.rmtree(env)
    row = Environment.objects.get(path=str(env))
    _follow_until(follower, lambda: Environment.objects.get(pk=row.pk).gone_at is not None)
    follower._next_housekeeping = 0.0
    follower.step()  # the watch set follows: the environment's parent stays watched
    assert str(env.parent) in follower.plan.watched
    make_venv(env)
    _follow_until(follower, lambda: Environment.objects.get(pk=row.pk).gone_at is None)
    assert list(Activity.objects.filter(environment=row).values_list("kind", flat=True)[:2]) == [
        "back",
        "gone",
    ]


def test_a_removed_base_interpreter_shows_as_broken(
    tree: Path, follower: Follower, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # An environment whose pyvenv.cfg `home` is a directory of the test's own (holding a
    # link to this Python, which bin/python points at), so that removing it breaks
    # nothing else on the machine.
    home = tmp_path_factory.mktemp("python-home") / "bin"
    home.mkdir()
    (home / "python3").symlink_to(Path(sys.executable).resolve())
    env = make_venv(tree / "based" / ".venv")
    config = env / "pyvenv.cfg"
    lines = config.read_text().splitlines()
    config.write_text(
        "\n".join(f"home = {home}" if line.startswith("home") else line for line in lines)
    )
    (env / "bin" / "python").unlink()
    (env / "bin" / "python").symlink_to(home / "python3")
    scan_tree()
    assert Environment.objects.get(path=str(env)).status != "broken"
    follower.rebuild()
    assert str(home) in follower.plan.watched
    shutil.rmtree(home)
    _follow_until(follower, lambda: Environment.objects.get(path=str(env)).status == "broken")
    assert str(home) in Environment.objects.get(path=str(env)).broken_reason


def test_the_team_push_waits_for_changes_to_settle_and_happens_once(
    tree: Path, follower: Follower, settings: SettingsWrapper, wheelhouse: Path
) -> None:
    settings.TEAM_URL, settings.TEAM_TOKEN = "http://127.0.0.1:9", "envdash_team_x"
    follower.rebuild()
    env = tree / "app" / ".venv"
    pushes = DBTaskResult.objects.filter(task_path="dashboard.team.tasks.push_snapshot")
    install(env, ["alpha==1.0"], wheelhouse=wheelhouse)
    _follow_until(follower, lambda: follower.rescans == 1)
    install(env, ["beta==1.0"], wheelhouse=wheelhouse)
    _follow_until(follower, lambda: follower.rescans == 2)
    follower.step()
    assert pushes.count() == 0  # changes just happened: not yet
    assert isinstance(follower.clock, Clock)
    follower.clock.offset += PUSH_AFTER
    follower.step()
    assert pushes.count() == 1
    follower.clock.offset += PUSH_AFTER
    follower.step()
    assert pushes.count() == 1  # nothing changed since


def test_the_periodic_rescan_is_queued_every_interval_unless_one_is_pending(tree: Path) -> None:
    clock = Clock()
    follower = Follower(FollowerConfig(machine="here", rescan_interval=60), clock=clock)
    scans = DBTaskResult.objects.filter(task_path="dashboard.tasks.scan")
    try:
        follower.rebuild()
        follower.step()  # serve queued one at its start: the first is an interval away
        assert scans.count() == 0
        clock.offset += 60
        follower._next_housekeeping = 0.0
        follower.step()
        assert scans.count() == 1
        assert WatchState.objects.get(machine="here").last_rescan_at is not None
        clock.offset += 60
        follower._next_housekeeping = 0.0
        follower.step()
        assert scans.count() == 1  # the first still waits for a worker
    finally:
        follower.close()


def test_expired_and_replaced_update_checks_are_queued_again_once(
    tree: Path, follower: Follower
) -> None:
    checks = DBTaskResult.objects.filter(task_path="dashboard.updates.update_check")
    row = Environment.objects.get()
    now = timezone.now()
    Environment.objects.filter(pk=row.pk).update(updates_checked_at=now, last_changed=now)
    follower._update_checks()
    assert checks.count() == 0  # fresh
    expired = now - timedelta(seconds=follower.config.index_ttl + 1)
    Environment.objects.filter(pk=row.pk).update(updates_checked_at=expired, last_changed=expired)
    follower._update_checks()
    follower._update_checks()
    assert checks.count() == 1
    assert checks.get().args_kwargs["args"] == [row.pk]


def test_rows_replaced_after_a_check_are_checked_again(tree: Path, follower: Follower) -> None:
    checks = DBTaskResult.objects.filter(task_path="dashboard.updates.update_check")
    now = timezone.now()
    Environment.objects.update(updates_checked_at=now - timedelta(seconds=5), last_changed=now)
    follower._update_checks()
    assert checks.count() == 1


def test_offline_update_checks_are_not_queued(tree: Path) -> None:
    follower = Follower(FollowerConfig(machine="here", offline=True))
    Environment.objects.update(updates_checked_at=timezone.now() - timedelta(days=2))
    follower._update_checks()
    assert not DBTaskResult.objects.exists()


def test_off_says_off_and_watches_nothing(tree: Path) -> None:
    follower = Follower(FollowerConfig(machine=str(django_settings.MACHINE_NAME), mode="off"))
    follower.rebuild()
    try:
        assert follower.plan.watched == [] and follower.plan.polled == []
        assert watch_status()["summary"] == (
            "off: ENVDASH_WATCH=off; changes made outside envdash show after a rescan"
        )
    finally:
        follower.close()


def test_a_directory_gone_before_its_watch_is_left_out_and_the_rest_still_os_watched(
    tree: Path, follower: Follower
) -> None:
    # A venv recreated while the watch set is built: its directory vanishes between the
    # plan and the watches. watchfiles then raises FileNotFoundError, not a limit.
    env = tree / "app" / ".venv"
    plan = follower._plan(follower._known())
    gone = next(d for d in plan.watched if d.startswith(str(env / "bin")))
    shutil.rmtree(gone)
    follower.sources = follower._start_sources(plan)
    assert gone not in plan.watched and gone not in plan.polled
    assert plan.watched and not plan.polled and plan.reason == ""
    assert env in follower.pending


def test_a_long_install_is_one_progress_rescan_and_one_when_it_settled(
    tree: Path, follower: Follower
) -> None:
    # An install whose files keep arriving for 6 s (as a long `pip install` does): the
    # first rescan comes within LONGEST, then one once it settled, not one per 1.5 s.
    follower.rebuild()
    env = tree / "app" / ".venv"
    site = next(env.glob("lib/python*/site-packages"))
    names = [f"pkg{number}" for number in range(40)]

    def installing() -> None:
        for name in names:
            info = site / f"{name}-1.0.dist-info"
            info.mkdir()
            (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
            time.sleep(0.15)

    writer = threading.Thread(target=installing)
    writer.start()
    _follow_until(follower, lambda: follower.rescans >= 1, timeout=5.0)
    _follow_until(follower, lambda: not writer.is_alive() and not follower.pending, timeout=20.0)
    writer.join()
    assert set(names) <= _names(env)
    assert follower.rescans == 2
    assert Activity.objects.filter(kind="changed").count() == 2


def test_a_change_made_while_no_watcher_ran_is_rescanned_at_its_start(
    tree: Path, follower: Follower, wheelhouse: Path
) -> None:
    # After a crash and a restart, or with `envdash watch` started alone: nothing waits
    # for the periodic rescan.
    env = tree / "app" / ".venv"
    install(env, ["alpha==1.0"], wheelhouse=wheelhouse)
    follower.rebuild()
    _follow_until(follower, lambda: "alpha" in _names(env))
    assert follower.rescans == 1
    follower.rebuild()  # the same watch set: nothing to rescan
    assert not follower.pending


def test_os_watches_failing_twice_at_run_time_are_polled_and_the_reason_stored(
    tree: Path, follower: Follower, wheelhouse: Path
) -> None:
    # What a source's thread puts on the queue when notify's watcher errors at run time.
    follower.rebuild()
    assert follower.plan.watched and not follower.plan.polled
    follower.events.put(Failure(False, "OSError: error in underlying watcher"))
    follower.step()
    assert follower.plan.watched and not follower.plan.polled  # once: OS watches again
    follower.events.put(Failure(False, "OSError: error in underlying watcher"))
    follower.step()
    assert follower._failed_sources  # not rebuilt in a loop: once per HOUSEKEEPING
    follower._next_failed_rebuild = 0.0
    follower.step()
    assert follower.plan.polled and not follower.plan.watched
    state = WatchState.objects.get(machine="here")
    assert state.reason.startswith("the OS's notifications failed at run time: OSError")
    env = tree / "app" / ".venv"
    install(env, ["alpha==1.0"], wheelhouse=wheelhouse)
    _follow_until(follower, lambda: "alpha" in _names(env))


def test_the_base_interpreters_directory_is_never_polled(tree: Path) -> None:
    # Polling stats every entry of a directory every interval: /usr/bin is not ours to
    # bound. The periodic rescan covers it when it cannot be OS-watched.
    follower = Follower(FollowerConfig(machine="here", mode="poll", rescan_interval=0))
    try:
        follower.rebuild()
        home = inspect_environment(tree / "app" / ".venv").home
        assert home is not None and str(home) in follower.plan.os_only
        assert follower.plan.polled and str(home) not in follower.plan.polled
    finally:
        follower.close()
