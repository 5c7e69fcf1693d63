"""Scanning: walk the scan roots with envcore and bring the database in line with the disk.

A full scan (`scan_tree`), one environment's rescan (`scan_environment`) and the rescan
after a change seen on disk (`follow_environment`) each store what they find through
dashboard.scanrecord, which keeps a rescan cheap: an environment whose signature and
source did not change keeps its rows and only has `last_seen` bumped.
Everything here runs on the worker (or a management command), never inside a request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

from django.conf import settings
from django.utils import timezone

from dashboard.models import Activity, Distribution, Environment, Scan, ScanRoot
from dashboard.scanrecord import record_environment, record_failure
from dashboard.signals import moved_aside
from envcore.discover import default_excludes, default_roots, discover
from envcore.errors import EnvcoreError, NotAnEnvironmentError, PathNotAllowedError
from envcore.requirements import within_roots

__all__ = [
    "ScanPlan",
    "follow_environment",
    "is_inside_roots",
    "scan_environment",
    "scan_plan",
    "scan_tree",
]


logger = logging.getLogger("envdash.scan")


@dataclass(frozen=True)
class ScanPlan:
    """Which roots to walk and what to leave out; defaults when the user configured none."""

    roots: tuple[Path, ...]
    excludes: tuple[str, ...]
    configured: bool


def scan_plan() -> ScanPlan:
    """Roots from the settings page, else ENVDASH_SCAN_ROOTS, else envcore's defaults."""
    chosen = [Path(p) for p in ScanRoot.objects.filter(enabled=True).values_list("path", flat=True)]
    if not chosen:
        chosen = [Path(p) for p in settings.SCAN_ROOTS]
    if chosen:
        return ScanPlan(tuple(chosen), (), True)
    return ScanPlan(tuple(default_roots()), default_excludes(), False)


def is_inside_roots(path: Path | str, roots: Iterable[Path] | None = None) -> bool:
    """True when `path` (resolved) is one of the scan roots or lies inside one (resolved)."""
    return within_roots(path, tuple(roots) if roots is not None else scan_plan().roots)


def _mark_gone(rows: Iterable[Environment], now: datetime) -> int:
    count = 0
    for row in rows:
        row.gone_at = now
        row.save(update_fields=["gone_at"])
        Activity.objects.create(
            at=now, kind="gone", message=f"{row.name} vanished from disk", environment=row
        )
        count += 1
    return count


def _finished(scan: Scan, started: float) -> Scan:
    scan.finished_at = timezone.now()
    scan.duration_ms = int((time.perf_counter() - started) * 1000)
    scan.save()
    return scan


def scan_tree(*, force: bool = False) -> Scan:
    """Walk every scan root; update, add and mark gone; return the finished Scan row."""
    plan = scan_plan()
    started = time.perf_counter()
    now = timezone.now()
    scan = Scan.objects.create(started_at=now, roots=[str(root) for root in plan.roots])
    try:
        found = discover(plan.roots, exclude=plan.excludes)
        scan.warnings = list(found.warnings)[:200]
        known = {row.path: row for row in Environment.objects.all()}
        # A recreate's backup is the old environment, moved aside while the job runs: it
        # is not another environment (envdash knows it from its own records, not its name).
        backups = {
            str(path)
            for _, paths in moved_aside.send(Scan, machine=str(settings.MACHINE_NAME))
            for path in cast("Iterable[str]", paths)
        }
        seen: set[str] = set()
        unchanged: list[int] = []
        for env_path in found.environments:
            if str(env_path) in backups:
                continue
            existing = known.get(str(env_path))
            try:
                row, changed = record_environment(
                    env_path, now=now, existing=existing, force=force, roots=plan.roots
                )
            except NotAnEnvironmentError:
                continue
            except (EnvcoreError, OSError) as exc:
                scan.warnings.append(f"{env_path}: {exc}")
                logger.warning("scan: %s: %s", env_path, exc)
                continue
            except Exception as exc:  # one environment must never stop the others
                logger.exception("scan: %s", env_path)
                problem = f"{type(exc).__name__}: {exc}"
                scan.warnings.append(" ".join(f"{env_path}: {problem}".split())[:1000])
                row = record_failure(env_path, now=now, existing=existing, problem=problem)
                changed = True
            seen.add(row.path)
            if changed:
                scan.changed += 1
            else:
                unchanged.append(row.pk)
        Environment.objects.filter(pk__in=unchanged).update(last_seen=now)
        vanished = [
            row
            for path, row in known.items()
            if path not in seen and row.gone_at is None and is_inside_roots(path, plan.roots)
        ]
        scan.gone = _mark_gone(vanished, now)
        scan.found = len(seen)
        scan.unchanged = len(unchanged)
        scan.state = Scan.State.DONE
    except Exception as exc:  # the worker must record *why* a scan failed, then go on
        logger.exception("scan failed")
        scan.state = Scan.State.FAILED
        scan.error = f"{type(exc).__name__}: {exc}"[:2000]
    return _finished(scan, started)


def scan_environment(path: Path | str, *, force: bool = True) -> Scan:
    """Rescan one environment (after a job, or the Rescan button on its page)."""
    started = time.perf_counter()
    now = timezone.now()
    path_text = str(path)
    scan = Scan.objects.create(started_at=now, target=path_text, roots=[path_text])
    existing = Environment.objects.filter(path=path_text).first()
    roots = scan_plan().roots
    try:
        if not is_inside_roots(path_text, roots) and existing is None:
            raise PathNotAllowedError(f"{path_text} is outside the scan roots")
        try:
            _, changed = record_environment(
                path_text, now=now, existing=existing, force=force, roots=roots
            )
            scan.found, scan.changed = 1, int(changed)
            scan.unchanged = 1 - scan.changed
        except NotAnEnvironmentError:
            if existing is not None and existing.gone_at is None:
                scan.gone = _mark_gone([existing], now)
        scan.state = Scan.State.DONE
    except (EnvcoreError, OSError) as exc:
        scan.state = Scan.State.FAILED
        scan.error = str(exc)[:2000]
    return _finished(scan, started)


def follow_environment(path: Path | str) -> Scan | None:
    """Rescan a known environment after a change seen on disk (see dashboard.watcher).

    Unlike `scan_environment`, a rescan that finds nothing changed (its signature is the
    same) stores nothing: no Scan row, no raised revision, so that events that change
    nothing a page shows cost the open pages nothing. A change is stored with one finished
    Scan row (one raise of the revision, after the environment's rows are in place).
    Returns that row, or None when nothing changed or the path is not a known environment.
    """
    started = time.perf_counter()
    now = timezone.now()
    path_text = str(path)
    existing = Environment.objects.filter(path=path_text).first()
    if existing is None:
        return None
    scan = Scan(started_at=now, target=path_text, roots=[path_text])
    before = _versions(existing)
    try:
        try:
            row, changed = record_environment(
                path_text, now=now, existing=existing, force=False, roots=scan_plan().roots
            )
        except NotAnEnvironmentError:
            if existing.gone_at is not None:
                return None
            scan.gone = _mark_gone([existing], now)
        else:
            if not changed:
                return None
            scan.found = scan.changed = 1
            message = _package_changes(before, _versions(row))
            if message:
                Activity.objects.create(
                    at=now,
                    kind="changed",
                    message=f"{row.name}: {message}"[:1024],
                    environment=row,
                )
        scan.state = Scan.State.DONE
    except (EnvcoreError, OSError) as exc:
        scan.state = Scan.State.FAILED
        scan.error = str(exc)[:2000]
    return _finished(scan, started)


def _versions(row: Environment) -> dict[str, tuple[str, str]]:
    rows = Distribution.objects.filter(environment=row).values_list(
        "name", "display_name", "version"
    )
    return {name: (display, version) for name, display, version in rows}


def _package_changes(
    before: dict[str, tuple[str, str]], after: dict[str, tuple[str, str]], shown: int = 3
) -> str:
    """ "alpha 1.0 added, beta 1.0 → 2.0, gamma removed" (the first few, then how many
    more): one activity line for what a change on disk did to the packages; "" for none."""
    parts = [
        f"{after[name][0]} {after[name][1]} added"
        if name not in before
        else f"{after[name][0]} {before[name][1]} → {after[name][1]}"
        for name in sorted(after)
        if name not in before or before[name][1] != after[name][1]
    ]
    parts += [f"{before[name][0]} removed" for name in sorted(before) if name not in after]
    if len(parts) > shown:
        return ", ".join(parts[:shown]) + f" and {len(parts) - shown} more"
    return ", ".join(parts)
