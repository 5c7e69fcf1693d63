"""What the JSON API returns for each thing: plain dicts of JSON types, one function per
shape, matching the schemas in `dashboard.api.response_schemas` (the tests validate every
response).

Everything a job carries that may hold an index URL (its parameters, argv, log, result)
goes out as pip shows a URL, `user:****@` (`envcore.text.shown_argv`): the worker already
logs commands that way, this also covers rows stored before, and any other string.
"""

from __future__ import annotations

import shlex
from datetime import datetime
from typing import Any

from django.urls import reverse

from dashboard.jobs.models import Job, JobLine
from dashboard.jobs.stream import job_commands
from dashboard.models import DriftItem, Environment, Project, Scan
from dashboard.queries import PackageRow
from envcore.text import shown_argv
from envcore.tree import DependencyGraph, Node

__all__ = [
    "environment",
    "environment_detail",
    "job",
    "job_detail",
    "project",
    "redact_credentials",
    "redacted",
    "scan",
    "tree",
]

JSON = dict[str, Any]


def redact_credentials(text: str) -> str:
    """`text` with the password or token of every URL in it shown as `****`."""
    return shown_argv((text,))[0]


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def environment(env: Environment) -> JSON:
    """One row of the environments list (the page's columns and a little more)."""
    project = env.project
    return {
        "id": env.pk,
        "url": reverse("environment", args=[env.pk]),
        "path": env.path,
        "name": env.name,
        "status": "gone" if env.gone_at is not None else env.status,
        "kind": env.kind,
        "manager": env.manager,
        "layout": env.layout,
        "project": (
            {"id": project.pk, "name": project.name, "path": project.path} if project else None
        ),
        "python_version": env.python_version,
        "interpreter": env.interpreter,
        "base_interpreter": env.base_interpreter,
        "health": env.health,
        "broken_reason": env.broken_reason,
        "requirements_source": env.requirements_source,
        "package_count": env.package_count,
        "size_bytes": env.size_bytes,
        "drift_summary": {
            "attention": env.attention,
            "total": env.drift_total,
            "counts": {str(key): int(value) for key, value in env.drift_counts.items()},
        },
        "upgradable": env.upgradable,
        "first_seen": _time(env.first_seen),
        "last_scanned": _time(env.last_scanned),
        "last_changed": _time(env.last_changed),
        "gone_at": _time(env.gone_at),
        "updates_checked_at": _time(env.updates_checked_at),
    }


def _package(row: PackageRow) -> JSON:
    return {
        "name": row.name,
        "display_name": row.display_name,
        "version": row.version,
        "summary": row.summary,
        "editable": row.editable,
        "location": redact_credentials(row.source),
        "required_by": row.required_by,
        "requirement": row.required,
        "drift_status": row.status,
        "latest": row.latest,
        "latest_allowed": row.latest_allowed,
        "update_status": row.update_status,
        "update_reason": row.update_reason,
        "pinned_by_lock": row.lock_pin,
    }


def _drift_item(item: DriftItem) -> JSON:
    return {
        "name": item.name,
        "status": item.status,
        "required": redact_credentials(item.required),
        "installed": item.installed,
        "detail": redact_credentials(item.detail),
        "origin": item.origin,
    }


def environment_detail(env: Environment, rows: list[PackageRow], drift: list[DriftItem]) -> JSON:
    """The environment's page as data: its installed packages (of `rows`, which also has
    the missing requirements: those are drift items here), drift, problems and update
    time."""
    return {
        **environment(env),
        "packages": [_package(row) for row in rows if row.installed],
        "drift": {
            "status": env.status,
            "source": env.requirements_source,
            "source_kind": env.source_kind,
            "source_reason": env.source_reason,
            "selection": env.selection,
            "lock_outdated": env.lock_outdated,
            "files": [str(name) for name in env.requirement_files],
            "items": [_drift_item(item) for item in drift],
        },
        "problems": [str(problem) for problem in env.problems],
        "requirement_errors": [str(error) for error in env.requirement_errors],
        "updates": {"checked_at": _time(env.updates_checked_at), "upgradable": env.upgradable},
    }


def project(item: Project) -> JSON:
    """A project and its live environments (prefetched, as the Projects page shows them)."""
    return {
        "id": item.pk,
        "name": item.name,
        "path": item.path,
        "requirements_source": item.requirements_source,
        "requirements_explicit": item.requirements_explicit,
        "source_candidates": [str(path) for path in item.source_candidates],
        "environments": [
            {
                "id": env.pk,
                "url": reverse("environment", args=[env.pk]),
                "name": env.name,
                "path": env.path,
                "status": env.status,
            }
            for env in item.environments.all()
        ],
    }


def redacted(value: Any) -> Any:
    """`value` (JSON data) with the password of every URL in its strings shown as `****`."""
    if isinstance(value, str):
        return redact_credentials(value)
    if isinstance(value, list):
        return [redacted(item) for item in value]
    if isinstance(value, dict):
        return {str(key): redacted(item) for key, item in value.items()}
    return value


def job(item: Job) -> JSON:
    return {
        "id": item.pk,
        "url": reverse("job", args=[item.pk]),
        "kind": item.kind,
        "state": item.state,
        "title": redact_credentials(item.title),
        "environment": item.environment_id,
        "env_path": item.env_path,
        "params": redacted(item.params),
        "created_at": _time(item.created_at),
        "started_at": _time(item.started_at),
        "finished_at": _time(item.finished_at),
        "summary": redact_credentials(item.summary),
        "installer": item.installer,
        "installer_reason": redact_credentials(item.installer_reason),
        "cancel_requested": item.cancel_requested,
        "finished": item.finished,
        "retry_with_pip": item.retry_with_pip,
    }


def _argv(command: str) -> list[str]:
    """A logged command (shell-quoted, see LogStream.command) back as its argv list."""
    try:
        return list(shown_argv(shlex.split(command)))
    except ValueError:  # cut at the log's line limit: not a whole quoted command any more
        return [redact_credentials(command)]


def job_detail(item: Job, lines: list[JobLine], cursor: int) -> JSON:
    """The job with its commands (argv lists) and the log lines after the request's cursor;
    `log.next` is the cursor for the next call, `log.done` says no line will follow."""
    return {
        **job(item),
        "commands": [_argv(command) for command in job_commands(item)],
        "result": redacted(item.result),
        "log": {
            "lines": [
                {
                    "seq": line.seq,
                    "stream": line.stream,
                    "text": redact_credentials(line.text),
                    "at": _time(line.at),
                }
                for line in lines
            ],
            "next": cursor,
            "done": item.finished and not lines,
        },
    }


def scan(last: Scan | None, *, pending: bool, watching: JSON) -> JSON:
    """The last full scan (None before the first), whether one is queued or running, and
    how the watcher follows the disk (`dashboard.watchstatus.watch_status`, as is)."""
    return {
        "pending": pending,
        "watching": watching,
        "last": None
        if last is None
        else {
            "id": last.pk,
            "state": last.state,
            "started_at": _time(last.started_at),
            "finished_at": _time(last.finished_at),
            "roots": [str(root) for root in last.roots],
            "found": last.found,
            "changed": last.changed,
            "unchanged": last.unchanged,
            "gone": last.gone,
            "warnings": [str(warning) for warning in last.warnings],
            "error": last.error,
            "duration_ms": last.duration_ms,
        },
    }


def tree(env: Environment, graph: DependencyGraph, nodes: list[Node], *, reverse: bool) -> JSON:
    """The tree (`envcore.tree.Node.to_json` each) and every requirement that fails."""
    conflicts = []
    for package, dep, conflict in graph.conflicts():
        installed = graph.packages.get(dep.key)
        conflicts.append(
            {
                "package": package.name,
                "version": package.version,
                "requires": dep.name,
                "required": dep.required,
                "installed": installed.version if installed is not None else None,
                "conflict": conflict,
            }
        )
    return {
        "environment": env.pk,
        "reverse": reverse,
        "conflicts": conflicts,
        "tree": [node.to_json() for node in nodes],
    }
