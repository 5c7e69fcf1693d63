"""Recording one environment: inspect it, read its drift, and store its rows (or keep them).

A rescan must be cheap, so each environment gets a signature (site-packages directory
mtimes, the stat of every file its drift depends on: the source it is held to, what that
includes, a lock's pyproject.toml or Pipfile; and the scan roots, since those files are
read only inside them); an environment whose signature and source did not change keeps its
rows and only has `last_seen` bumped. Which source, and the drift: dashboard.scandrift.
The scans that call this (a full scan, one environment's, a change seen on disk):
dashboard.scanning.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from packaging.utils import canonicalize_name

from dashboard.models import Activity, Distribution, DriftItem, Environment, EnvironmentStatus
from dashboard.scandrift import drift_against, project_and_choice
from envcore.distributions import Inventory, read_inventory
from envcore.drift import DRIFT_STATUSES, DriftReport
from envcore.environment import Environment as EnvFacts
from envcore.environment import (
    disk_usage,
    display_name,
    inspect_environment,
    site_packages_signature,
)
from envcore.interpreters import base_interpreter
from envcore.pipcompat import freeze, unsafe_reason
from envcore.tree import requirements_of

__all__ = ["record_environment", "record_failure"]


def _stat_part(path: str) -> str:
    try:
        stat = os.stat(path)
    except OSError:
        return f"{path}:-"
    return f"{path}:{stat.st_mtime_ns}:{stat.st_size}"


def _signature(facts: EnvFacts, requirement_files: Sequence[str], roots: Sequence[Path]) -> str:
    text = "|".join(
        [
            site_packages_signature(facts),
            # Why it cannot run (its interpreter link or base interpreter gone): a broken
            # link leaves site-packages alone, and must not be skipped as unchanged.
            "broken:" + facts.broken_reason,
            *map(_stat_part, requirement_files),
            "roots:" + "\0".join(map(str, roots)),
        ]
    )
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _status(facts: EnvFacts, report: DriftReport) -> str:
    if facts.broken or report.summary == "broken":
        return EnvironmentStatus.BROKEN
    if report.summary == "drifted":
        return EnvironmentStatus.DRIFTED
    if report.source is None:
        return EnvironmentStatus.NO_REQUIREMENTS
    return EnvironmentStatus.IN_SYNC


def _source_url(dist_source: str, url: str | None, editable_location: str | None) -> str:
    if editable_location:
        return editable_location
    if dist_source == "index" or not url:
        return ""
    return url


def _new_rows(
    row: Environment, inventory: Inventory, report: DriftReport
) -> tuple[list[Distribution], list[DriftItem]]:
    required_by = inventory.required_by
    requires = requirements_of(inventory)
    dists = [
        Distribution(
            environment=row,
            name=dist.canonical_name,
            display_name=dist.name[:255],
            version=dist.display_version[:128],
            summary=dist.summary[:512],
            installer=dist.installer[:64],
            editable=dist.editable,
            source=dist.source,
            source_url=_source_url(
                dist.source,
                dist.direct_url.url if dist.direct_url else None,
                dist.editable_location,
            )[:4096],
            unsafe_reason=unsafe_reason(dist)[:128],
            required_by=list(required_by.get(dist.canonical_name, ())),
            requires=[dep.to_json() for dep in requires[dist.canonical_name]],
        )
        for dist in {d.canonical_name: d for d in inventory.distributions}.values()
    ]
    items = [
        DriftItem(
            environment=row,
            name=item.name[:255],
            status=item.status,
            required=item.required[:1024],
            installed=(item.installed_version or "")[:128],
            detail=item.message[:1024],
            origin=item.source[:1024],
            position=position,
        )
        for position, item in enumerate(report.items)
    ]
    offset = len(items)
    items += [
        DriftItem(
            environment=row,
            name=name[:255],
            status="untracked",
            installed=(
                inventory.by_name[key].display_version
                if (key := canonicalize_name(name)) in inventory.by_name
                else ""
            )[:128],
            detail="installed, but no requirement names it and nothing requires it",
            position=offset + index,
        )
        for index, name in enumerate(report.untracked)
    ]
    return dists, items


_DIST_FIELDS = (
    "name",
    "display_name",
    "version",
    "summary",
    "installer",
    "editable",
    "source",
    "source_url",
    "unsafe_reason",
    "required_by",
    "requires",
)
_DRIFT_FIELDS = ("name", "status", "required", "installed", "detail", "origin", "position")
#: What a page shows of an environment row (not when it was seen, nor its size on disk,
#: which moves with every bytecode file written).
_SHOWN_FIELDS = (
    "name",
    "kind",
    "manager",
    "layout",
    "python_version",
    "python_minor",
    "interpreter",
    "base_interpreter",
    "prompt",
    "system_site_packages",
    "health",
    "broken_reason",
    "requirements_source",
    "source_kind",
    "source_reason",
    "selection",
    "lock_outdated",
    "requirement_files",
    "status",
    "drift_counts",
    "drift_total",
    "attention",
    "problems",
    "requirement_errors",
    "package_count",
    "freeze_text",
    "gone_at",
)


def _same_content(
    row: Environment,
    values: dict[str, Any],
    dists: Sequence[Distribution],
    items: Sequence[DriftItem],
) -> bool:
    """True when storing `values` and these rows would change nothing a page shows: a
    rescan after a touched file then writes no rows (and keeps the update check's columns)."""
    project = values["project"]
    if row.project_id != (project.pk if project is not None else None):
        return False
    if any(getattr(row, key) != values[key] for key in _SHOWN_FIELDS):
        return False
    stored_dists = list(
        Distribution.objects.filter(environment=row).order_by("name").values_list(*_DIST_FIELDS)
    )
    new_dists = sorted(tuple(getattr(d, key) for key in _DIST_FIELDS) for d in dists)
    if stored_dists != new_dists:
        return False
    stored_items = list(
        DriftItem.objects.filter(environment=row).order_by("position").values_list(*_DRIFT_FIELDS)
    )
    return stored_items == [tuple(getattr(i, key) for key in _DRIFT_FIELDS) for i in items]


def _replace_rows(row: Environment, dists: list[Distribution], items: list[DriftItem]) -> None:
    row.distributions.all().delete()
    row.drift_items.all().delete()
    Distribution.objects.bulk_create(dists)
    DriftItem.objects.bulk_create(items)


def _stored_or_created(
    path: str, now: datetime, values: dict[str, Any]
) -> tuple[Environment, bool]:
    """The row another scan stored for `path` meanwhile, or a new one (with its "found"
    activity), and whether it is new. Under SQLite's IMMEDIATE transactions the first look
    is enough; on PostgreSQL a concurrent insert shows as the unique path refused."""
    stored = Environment.objects.filter(path=path).first()
    if stored is not None:
        return stored, False
    try:
        with transaction.atomic():
            row = Environment.objects.create(path=path, first_seen=now, last_changed=now, **values)
    except IntegrityError:
        return Environment.objects.get(path=path), False
    Activity.objects.create(
        at=now, kind="found", message=f"Found {row.name} ({row.kind})", environment=row
    )
    return row, True


def record_environment(
    path: Path | str,
    *,
    now: datetime,
    existing: Environment | None,
    force: bool,
    roots: Sequence[Path],
) -> tuple[Environment, bool]:
    """Inspect one environment and store what was found; returns (row, changed).

    `roots` (the scan plan's, read once by the caller) bound where requirements files are
    read from, and where a `.project` file may link the environment.
    Raises NotAnEnvironmentError when the directory is no longer an environment.
    """
    facts = inspect_environment(path, roots=roots)
    project, choice = project_and_choice(facts, roots)
    source = str(choice.path) if choice.path is not None else ""
    previous_files = list(existing.requirement_files) if existing is not None else []
    if existing is not None and not force and existing.gone_at is None:
        # Another file chosen (or the same one for another reason: a lock that appeared
        # beside it, a choice withdrawn) is a change even when no file changed.
        same_source = (existing.requirements_source, existing.source_reason) == (
            source,
            choice.reason[:1024],
        )
        same_name = existing.name == facts.name[:512]  # names follow envcore's rule
        # Rows stored before the manager was (migration 0010) get it on the next scan.
        same_manager = existing.manager == facts.manager[:32]
        if (
            same_source
            and same_name
            and same_manager
            and existing.signature == _signature(facts, previous_files, roots)
        ):
            return existing, False
    inventory = read_inventory(facts)
    report, files, read_errors = drift_against(facts, inventory, choice, roots)
    status = _status(facts, report)
    base = base_interpreter(facts)
    values = {
        "name": facts.name[:512],
        "kind": facts.kind,
        "manager": facts.manager[:32],
        "layout": facts.layout,
        "python_version": facts.python_version or "",
        "python_minor": facts.python_minor or "",
        "interpreter": str(facts.interpreter),
        "base_interpreter": str(base) if base else "",
        "prompt": (facts.prompt or "")[:255],
        "system_site_packages": facts.include_system_site_packages,
        "health": "broken" if facts.broken else "ok",
        "broken_reason": facts.broken_reason,
        "project": project,
        "requirements_source": source,
        "source_kind": choice.kind,
        "source_reason": choice.reason[:1024],
        "selection": report.selection[:1024],
        "lock_outdated": report.lock_outdated[:1024],
        "requirement_files": files,
        "status": status,
        "drift_counts": {key: value for key, value in report.counts.items() if value},
        "drift_total": len(report.items),
        "attention": sum(report.counts.get(key, 0) for key in DRIFT_STATUSES)
        + len(report.problems),
        "problems": [str(problem) for problem in report.problems],
        "requirement_errors": read_errors,
        "package_count": len(inventory.by_name),
        "size_bytes": disk_usage(facts.path),
        "signature": _signature(facts, files, roots),
        "freeze_text": "\n".join(freeze(inventory).lines),
        "last_seen": now,
        "last_scanned": now,
        "gone_at": None,
    }
    if existing is not None and existing.gone_at is None:
        dists, items = _new_rows(existing, inventory, report)
        if _same_content(existing, values, dists, items):
            kept = {key: values[key] for key in ("signature", "size_bytes", "last_seen")}
            Environment.objects.filter(pk=existing.pk).update(last_scanned=now, **kept)
            for key, value in {**kept, "last_scanned": now}.items():
                setattr(existing, key, value)
            return existing, False
    with transaction.atomic():
        created = False
        if existing is None:
            # Another scan (a rescan and a job's scan released together) may have stored
            # this path since we looked: then update its row, never fail on the unique path.
            existing, created = _stored_or_created(str(facts.path), now, values)
        row = existing
        if not created:
            old_status, was_gone = row.status, row.gone_at is not None
            for key, value in values.items():
                setattr(row, key, value)
            row.last_changed = now
            row.save()
            if was_gone:
                Activity.objects.create(
                    at=now, kind="back", message=f"{row.name} is back", environment=row
                )
            elif old_status != status:
                Activity.objects.create(
                    at=now,
                    kind="status",
                    message=f"{row.name} is now {row.status_label.lower()}",
                    environment=row,
                )
        _replace_rows(row, *_new_rows(row, inventory, report))
    return row, True


def record_failure(
    path: Path | str, *, now: datetime, existing: Environment | None, problem: str
) -> Environment:
    """Keep an environment whose recording failed on an error nothing expected listed, as
    broken with that error in one line, instead of dropping it (and marking it gone): the
    scan goes on with the others. The signature is cleared, so the next scan tries again;
    what was stored for it before (packages, drift) stays until then."""
    reason = " ".join(f"envdash could not read it: {problem}".split())[:2000]
    values: dict[str, Any] = {
        "health": "broken",
        "broken_reason": reason,
        "status": EnvironmentStatus.BROKEN,
        "signature": "",
        "last_seen": now,
        "last_scanned": now,
        "gone_at": None,
    }
    if existing is None:
        existing, created = _stored_or_created(
            str(path), now, {"name": display_name(Path(path))[:512], "kind": "unknown", **values}
        )
        if created:
            return existing
    row = existing
    if row.broken_reason != reason:
        Activity.objects.create(
            at=now, kind="status", message=f"{row.name}: {reason}"[:1024], environment=row
        )
        row.last_changed = now
    for key, value in values.items():
        setattr(row, key, value)
    row.save()
    return row
