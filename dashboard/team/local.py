"""This machine's snapshot: from what the last scan stored (after a scan), or straight from
envcore over the given roots (`envdash snapshot export` on a machine without a dashboard)."""

from __future__ import annotations

import getpass
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

import envcore
from dashboard.models import Environment, EnvironmentStatus, Project
from dashboard.scanning import scan_plan
from envcore.discover import default_excludes, default_roots, discover
from envcore.drift import STATUSES
from envcore.requirements import ParsedRequirements
from envcore.snapshot import (
    DriftLine,
    build_snapshot,
    drift_section,
    environment_section,
    project_section,
    snapshot_document,
)

__all__ = ["machine_snapshot", "stored_snapshot"]

_HOST_CHARS = re.compile(r"[^A-Za-z0-9._-]")
_USER_CHARS = re.compile(r"[^A-Za-z0-9._@ -]")


def _clean(pattern: re.Pattern[str], value: str, limit: int, fallback: str) -> str:
    return pattern.sub("-", value).strip("._- ")[:limit] or fallback


def _who() -> dict[str, str]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = "unknown"
    return {
        "host": _clean(_HOST_CHARS, str(settings.MACHINE_NAME), 253, "localhost"),
        "user": _clean(_USER_CHARS, user, 64, "unknown"),
        "tool_version": envcore.__version__,
    }


def machine_snapshot(roots: list[Path] | None = None) -> dict[str, Any]:
    """Scan `roots` (default: ENVDASH_SCAN_ROOTS, else envcore's default roots) and describe it.

    Built from envcore rather than the local database so it works on a machine that never
    ran the dashboard (and is never older than the disk).
    """
    configured = roots or [Path(root) for root in settings.SCAN_ROOTS]
    walked = configured or default_roots()
    found = discover(walked, exclude=() if configured else default_excludes())
    return build_snapshot(
        found.environments,
        now=timezone.now(),
        roots=walked,  # a requirements include leading out of the roots is not read
        **_who(),
    )


def stored_snapshot() -> dict[str, Any]:
    """Describe the environments the last scan stored, as the dashboard shows them.

    Nothing is walked or inspected again: the drift is the stored one, against the
    requirements file each project compares with (the one the user chose, if any). Only
    each project's requirements file is read, for the project section (its fingerprint
    and pins) and to keep the values of `${VAR}`s off the wire.
    """
    roots = scan_plan().roots
    projects: dict[int, tuple[dict[str, Any], ParsedRequirements | None]] = {}
    sections = []
    rows = (
        Environment.objects.filter(gone_at__isnull=True)
        .select_related("project")
        .prefetch_related("distributions", "drift_items")
        .order_by("path")
    )
    for row in rows:
        project: dict[str, Any] | None = None
        drift: dict[str, Any] | None = None
        if row.project is not None:
            if row.project.pk not in projects:
                projects[row.project.pk] = _project(row.project, roots)
            project, parsed = projects[row.project.pk]
            drift = _drift(row, parsed)
        sections.append(
            environment_section(
                path=row.path,
                name=row.name,
                kind=row.kind,
                python_version=row.python_version or None,
                broken_reason=row.broken_reason if row.health == "broken" else None,
                project=project,
                distributions=(
                    (dist.display_name, dist.version, dist.source or "index")
                    for dist in row.distributions.all()
                ),
                drift=drift,
            )
        )
    return snapshot_document(sections, now=timezone.now(), **_who())


def _project(
    project: Project, roots: tuple[Path, ...]
) -> tuple[dict[str, Any], ParsedRequirements | None]:
    source = Path(project.requirements_source) if project.requirements_source else None
    return project_section(Path(project.path), source, roots=roots)


def _drift(row: Environment, parsed: ParsedRequirements | None) -> dict[str, Any]:
    """The stored drift; the scan stored the report's items first, then the untracked."""
    if row.health == "broken":
        summary = "broken"
    elif row.status == EnvironmentStatus.DRIFTED:
        summary = "drifted"
    else:
        summary = "in-sync"
    items = list(row.drift_items.all())
    return drift_section(
        summary,
        {**dict.fromkeys(STATUSES, 0), **row.drift_counts},
        (
            DriftLine(item.name, item.status, item.required, item.installed or None)
            for item in items[: row.drift_total]
        ),
        [item.name for item in items[row.drift_total :]],
        parsed,
    )
