"""Scanning real environments into the database: statuses, skip-if-unchanged, gone and back."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.jobs.models import RecoveryRecord
from dashboard.models import Activity, Distribution, DriftItem, Environment, Project, ScanRoot
from dashboard.scanning import is_inside_roots, scan_environment, scan_plan, scan_tree
from dashboard.scanrecord import record_environment
from dashboard.team.local import machine_snapshot, stored_snapshot
from tests.dashboard.conftest import row
from tests.envtools import install, make_venv
from tests.trees import Tree


def test_first_scan_records_every_environment_with_its_status(scanned: Tree) -> None:
    assert row(scanned.drifted).status == "drifted"
    assert row(scanned.in_sync).status == "in-sync"
    assert row(scanned.loose).status == "no-requirements"
    broken = row(scanned.broken)
    assert broken.status == "broken"
    assert "no longer exists" in broken.broken_reason


def test_drift_items_and_distributions_are_stored(scanned: Tree) -> None:
    env = row(scanned.drifted)
    verdicts = {item.name: item.status for item in DriftItem.objects.filter(environment=env)}
    assert verdicts["alpha"] == "mismatch"
    assert verdicts["beta"] == "missing"
    assert verdicts["Delta_Pkg.Two"] == "untracked"
    assert env.drift_counts == {"mismatch": 1, "missing": 1, "untracked": 1}
    assert env.attention == 2
    names = set(Distribution.objects.filter(environment=env).values_list("name", flat=True))
    assert {"alpha", "delta-pkg-two"} <= names
    assert env.package_count == len(names)
    assert "alpha==1.1" in env.freeze_text
    assert env.size_bytes > 0


def test_projects_group_their_environments(scanned: Tree) -> None:
    project = Project.objects.get(path=str(scanned.drifted.parent))
    assert project.name == "proj-a"
    assert project.requirements_source.endswith("proj-a/requirements.txt")
    assert list(project.environments.values_list("path", flat=True)) == [str(scanned.drifted)]


def test_a_dot_project_file_leading_out_of_the_roots_links_nothing(
    db: None, settings: SettingsWrapper, tmp_path: Path
) -> None:
    """review16 #14: a planted `.project` made a Project row for any directory."""
    root = tmp_path / "root"
    outside = tmp_path / "outside" / "oproj"
    outside.mkdir(parents=True)
    (outside / "requirements.txt").write_text("alpha==1.0\n")
    env = make_venv(root / "dotp" / "venvx")
    (env / ".project").write_text(f"{outside}\n")
    settings.SCAN_ROOTS = [root]
    assert scan_tree().state == "done"
    assert row(env).project is None and row(env).requirements_source == ""
    assert not Project.objects.exists()


def test_rescan_of_an_unchanged_tree_skips_every_environment(scanned: Tree) -> None:
    before = {env.pk: env.last_scanned for env in Environment.objects.all()}
    again = scan_tree()
    assert (again.found, again.changed, again.unchanged) == (4, 0, 4)
    after = {env.pk: env.last_scanned for env in Environment.objects.all()}
    assert after == before  # not re-inspected...
    assert all(env.last_seen == again.started_at for env in Environment.objects.all())  # ...seen


def test_rescan_notices_an_install_and_a_requirements_edit(
    db: None, settings: SettingsWrapper, tmp_path: Path, wheelhouse: Path
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    env = make_venv(tmp_path / "proj" / ".venv")
    (tmp_path / "proj" / "requirements.txt").write_text("alpha==1.0\n")
    scan_environment(env)
    assert row(env).status == "drifted"
    install(env, ["alpha==1.0"], wheelhouse=wheelhouse)
    result = scan_environment(env, force=False)
    assert result.changed == 1
    assert row(env).status == "in-sync"
    (tmp_path / "proj" / "requirements.txt").write_text("alpha==2.0\n")
    assert scan_environment(env, force=False).changed == 1
    assert row(env).status == "drifted"


def test_an_edit_to_an_included_requirements_file_reruns_the_drift(
    db: None, settings: SettingsWrapper, tmp_path: Path, wheelhouse: Path
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    env = make_venv(tmp_path / "proj" / ".venv", ["alpha==1.0"], wheelhouse=wheelhouse)
    (tmp_path / "proj" / "requirements.txt").write_text("-r base.txt\n")
    (tmp_path / "proj" / "base.txt").write_text("alpha==1.0\n")
    scan_environment(env)
    assert row(env).status == "in-sync"
    assert row(env).requirement_files == [
        str(tmp_path / "proj" / "requirements.txt"),
        str(tmp_path / "proj" / "base.txt"),
    ]
    assert scan_environment(env, force=False).changed == 0
    (tmp_path / "proj" / "base.txt").write_text("alpha==2.0\n")
    assert scan_environment(env, force=False).changed == 1
    assert row(env).status == "drifted"


def test_a_vanished_environment_is_marked_gone_then_back(
    db: None, settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    env = make_venv(tmp_path / "temp-env")
    scan_tree()
    aside = tmp_path.parent / f"{tmp_path.name}-aside"
    shutil.move(env, aside)
    try:
        gone = scan_tree()
        assert gone.gone == 1
        assert row(env).gone_at is not None  # kept, not deleted
    finally:
        shutil.move(aside, env)
    scan_tree()
    assert row(env).gone_at is None
    kinds = list(Activity.objects.filter(environment=row(env)).values_list("kind", flat=True))
    assert kinds == ["back", "gone", "found"]


def test_scan_roots_from_the_settings_page_win_over_the_variable(
    db: None, settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.SCAN_ROOTS = [tmp_path / "from-env"]
    assert scan_plan().roots == (tmp_path / "from-env",)
    ScanRoot.objects.create(path=str(tmp_path / "chosen"))
    assert scan_plan().roots == (tmp_path / "chosen",)


def test_paths_outside_the_roots_are_refused(
    db: None, settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.SCAN_ROOTS = [tmp_path / "root"]
    (tmp_path / "root").mkdir()
    (tmp_path / "root-sibling").mkdir()
    assert is_inside_roots(tmp_path / "root" / "x")
    assert not is_inside_roots(tmp_path / "root-sibling")
    assert not is_inside_roots(tmp_path / "root" / ".." / "root-sibling")
    (tmp_path / "root" / "link").symlink_to(tmp_path / "root-sibling")
    assert not is_inside_roots(tmp_path / "root" / "link")
    scan = scan_environment(tmp_path / "root-sibling")
    assert scan.state == "failed"
    assert "outside the scan roots" in scan.error


@pytest.mark.parametrize(
    "content", [b"\xff\xfe garbage", b"alpha===\n-r missing.txt\n", b"alpha==1.0 \xff\n"]
)
def test_a_bad_requirements_file_is_reported_not_fatal(
    db: None, settings: SettingsWrapper, tmp_path: Path, content: bytes
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    env = make_venv(tmp_path / "proj" / ".venv")
    (tmp_path / "proj" / "requirements.txt").write_bytes(content)
    scan = scan_tree()
    assert scan.state == "done"
    assert row(env).requirement_errors
    assert all("\n" not in error for error in row(env).requirement_errors)


def test_a_requirements_file_that_is_not_text_leaves_the_env_listed_with_the_reason(
    db: None, settings: SettingsWrapper, tmp_path: Path, user: Client
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    env = make_venv(tmp_path / "proj" / ".venv")
    (tmp_path / "proj" / "requirements.txt").write_bytes(b"alpha==1.0 \xff\n")
    scan = scan_tree()
    assert (scan.state, scan.found, scan.warnings) == ("done", 1, [])
    listed = row(env)
    assert listed.status == "drifted"
    assert listed.requirement_errors == [
        f"{tmp_path}/proj/requirements.txt is not a requirements file: "
        "it is not UTF-8 text (byte 11) and declares no encoding"
    ]
    page = user.get(f"/environments/{listed.pk}/").content.decode()
    assert "it is not UTF-8 text (byte 11)" in page
    assert scan_environment(env).state == "done"


@pytest.mark.parametrize("planted", ["include", "link"])
def test_requirements_outside_the_roots_reach_neither_the_pages_nor_the_snapshot(
    db: None, settings: SettingsWrapper, tmp_path: Path, user: Client, planted: str
) -> None:
    root = tmp_path / "root"
    settings.SCAN_ROOTS = [root]
    env = make_venv(root / "secretinc" / ".venv")
    secret = tmp_path / "data" / "token"
    secret.parent.mkdir()
    secret.write_text("root:*:20228:Hunter2TokenValue\n" if planted == "link" else "Hunter2Token\n")
    requirements = root / "secretinc" / "requirements.txt"
    if planted == "include":
        requirements.write_text(f"requests==2.0\n-r {secret}\n")
        reason = f"{requirements}:2: -r {secret}: not read, it is outside the scan roots"
    else:
        requirements.symlink_to(secret)
        reason = f"{requirements}: not read, it is outside the scan roots"
    assert scan_tree().state == "done"
    listed = row(env)
    assert listed.requirement_errors == [reason]
    assert listed.status == "drifted"
    assert not any("hunter2" in item.name.lower() for item in listed.drift_items.all())
    page = user.get(f"/environments/{listed.pk}/").content.decode()
    assert "not read, it is outside the scan roots" in page
    assert "hunter2" not in page.lower()
    for snapshot in (json.dumps(machine_snapshot()), json.dumps(stored_snapshot())):
        assert str(env) in snapshot
        assert "hunter2" not in snapshot.lower()


@contextlib.contextmanager
def _fifo_watchdog(fifos: list[Path], after: float = 15) -> Iterator[threading.Event]:
    """From `after` seconds on, open the other end of any planted FIFO a reader waits on,
    so a scan stuck in open() ends (and the test fails) instead of hanging the suite; the
    event says it had to."""
    released, done = threading.Event(), threading.Event()

    def release() -> None:
        done.wait(after)
        while not done.is_set():
            for fifo in fifos:
                with contextlib.suppress(OSError):  # ENXIO: nobody is waiting on it
                    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                    released.set()
            done.wait(0.2)

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    try:
        yield released
    finally:
        done.set()
        thread.join()


def test_planted_fifos_are_reported_and_never_block_a_scan(
    db: None, settings: SettingsWrapper, tmp_path: Path
) -> None:
    settings.SCAN_ROOTS = [tmp_path]
    env = make_venv(tmp_path / "proj" / ".venv")
    (tmp_path / "proj" / "requirements.txt").write_text("-r hang.fifo\n")
    site = next((env / "lib").glob("python*/site-packages"))
    (site / "ff-1.0.dist-info").mkdir()
    fifos = [tmp_path / "proj" / "hang.fifo", site / "ff-1.0.dist-info" / "METADATA"]
    for fifo in fifos:
        os.mkfifo(fifo)
    with _fifo_watchdog(fifos) as released:
        scan = scan_environment(env)
    assert not released.is_set()
    assert scan.state == "done"
    assert row(env).requirement_errors == [
        f"{tmp_path}/proj/requirements.txt:1: cannot read requirements file "
        f"{tmp_path}/proj/hang.fifo: not a regular file (a FIFO)"
    ]


def test_a_scan_that_finds_a_row_stored_meanwhile_updates_it(scanned: Tree) -> None:
    """Two scans released together both see no row for a new environment; the second to
    store it must update the first one's row, not fail on the unique path."""
    env = row(scanned.drifted)
    stale_view_of_it: Environment | None = None
    stored, changed = record_environment(
        env.path,
        now=timezone.now(),
        existing=stale_view_of_it,
        force=True,
        roots=scan_plan().roots,
    )
    assert changed and stored.pk == env.pk
    assert Environment.objects.filter(path=env.path).count() == 1
    assert Activity.objects.filter(kind="found", environment=env).count() == 1


def test_a_directory_envdash_moved_aside_is_not_listed(scanned: Tree) -> None:
    """While a recreate runs, its backup (the old environment) is no environment of its own."""
    backup = row(scanned.in_sync)
    RecoveryRecord.objects.create(
        machine=str(settings.MACHINE_NAME),
        kind="recreate",
        nonce="0123456789abcdef",
        original=str(scanned.in_sync.parent / "elsewhere"),
        moved=backup.path,
        created_at=timezone.now(),
    )
    scan_tree(force=True)
    assert row(scanned.in_sync).gone_at is not None
    assert row(scanned.drifted).gone_at is None
