"""The JSON API's response bodies as JSON Schema (the OpenAPI document's
`components/schemas`, also used by the tests to validate real responses), and the
building blocks every schema of the document is written with.

The document that names them: dashboard.api.schema.
"""

from __future__ import annotations

from typing import Any, get_args

from dashboard.jobs.models import Job
from dashboard.models import EnvironmentStatus, WatchState
from envcore.requirements.source import SourceKindName

__all__ = ["SCHEMAS", "Schema"]


Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
STRINGS: Schema = {"type": "array", "items": STRING}
ID: Schema = {"type": "integer", "minimum": 1}
SOURCE_KINDS: tuple[str, ...] = get_args(SourceKindName)


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Schema], optional: tuple[str, ...] = ()) -> Schema:
    """A closed object: every property present unless `optional`, nothing else."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


_ENVIRONMENT: dict[str, Schema] = {
    "id": ID,
    "url": {**STRING, "description": "the environment's page"},
    "path": STRING,
    "name": STRING,
    "status": {"enum": list(EnvironmentStatus.values)},
    "kind": STRING,
    "manager": {
        **STRING,
        "description": "the tool that made it: pdm, pipx, uv-tool, poetry, pipenv, hatch, tox,"
        " nox, pyenv, conda, virtualenvwrapper; else the kind (empty before its next scan)",
    },
    "layout": STRING,
    "project": {
        "oneOf": [
            {"type": "null"},
            _object({"id": ID, "name": STRING, "path": STRING}),
        ]
    },
    "python_version": STRING,
    "interpreter": STRING,
    "base_interpreter": STRING,
    "health": STRING,
    "broken_reason": STRING,
    "requirements_source": STRING,
    "package_count": INTEGER,
    "size_bytes": INTEGER,
    "drift_summary": _object(
        {
            "attention": {**INTEGER, "description": "findings that need action"},
            "total": INTEGER,
            "counts": {"type": "object", "additionalProperties": INTEGER},
        }
    ),
    "upgradable": INTEGER,
    "first_seen": TIME,
    "last_scanned": TIME,
    "last_changed": TIME,
    "gone_at": TIME,
    "updates_checked_at": TIME,
}

_PACKAGE = _object(
    {
        "name": {**STRING, "description": "the normalised name (PEP 503)"},
        "display_name": STRING,
        "version": STRING,
        "summary": STRING,
        "editable": BOOLEAN,
        "location": {**STRING, "description": "where it was installed from, if not an index"},
        "required_by": STRINGS,
        "requirement": {**STRING, "description": "what the requirements file asks, if any"},
        "drift_status": STRING,
        "latest": {**STRING, "description": "from the last update check; empty if unknown"},
        "latest_allowed": STRING,
        "update_status": STRING,
        "update_reason": STRING,
        "pinned_by_lock": {
            **STRING,
            "description": "why it is not upgraded here: the lock the environment is held to "
            "pins it (and the command that moves the lock); empty when it may be upgraded",
        },
    }
)

_DRIFT_ITEM = _object(
    {
        "name": STRING,
        "status": STRING,
        "required": STRING,
        "installed": STRING,
        "detail": STRING,
        "origin": STRING,
    }
)

_JOB: dict[str, Schema] = {
    "id": ID,
    "url": {**STRING, "description": "the job's page"},
    "kind": {"enum": list(Job.Kind.values)},
    "state": {"enum": list(Job.State.values)},
    "title": STRING,
    "environment": {"type": ["integer", "null"]},
    "env_path": STRING,
    "params": {"type": "object", "description": "the validated parameters it runs with"},
    "created_at": TIME,
    "started_at": TIME,
    "finished_at": TIME,
    "summary": STRING,
    "installer": {**STRING, "description": "pip or uv once chosen, else empty"},
    "installer_reason": STRING,
    "cancel_requested": BOOLEAN,
    "finished": BOOLEAN,
    "retry_with_pip": {**BOOLEAN, "description": "a failed uv job: retry with pip is allowed"},
}

_NULLABLE_STRING: Schema = {"type": ["string", "null"]}
_CONFLICT: Schema = {
    "enum": [None, "missing", "unsatisfied"],
    "description": "missing: not installed; unsatisfied: the installed version is not allowed",
}
_TREE_NODE = _object(
    {
        "name": STRING,
        "key": {**STRING, "description": "the normalised name (PEP 503)"},
        "version": {**_NULLABLE_STRING, "description": "installed version; null: not installed"},
        "required": {
            **STRING,
            "description": "the specifier on the edge (Any: none); a start shows its version",
        },
        "extra": {**_NULLABLE_STRING, "description": "the requiring package's extra it is under"},
        "conflict": _CONFLICT,
        "repeated": {**BOOLEAN, "description": "shown above in this tree: children left out"},
        "cycle": {**BOOLEAN, "description": "it is on its own path from the start"},
        "truncated": {
            **BOOLEAN,
            "description": "it requires more, not shown: the tree stops 100 levels deep",
        },
        "children": {"type": "array", "items": _ref("TreeNode")},
    }
)
_TREE = _object(
    {
        "environment": ID,
        "reverse": BOOLEAN,
        "conflicts": {
            "type": "array",
            "items": _object(
                {
                    "package": STRING,
                    "version": STRING,
                    "requires": STRING,
                    "required": STRING,
                    "installed": _NULLABLE_STRING,
                    "conflict": _CONFLICT,
                }
            ),
        },
        "tree": {"type": "array", "items": _ref("TreeNode")},
    }
)

_LOG_LINE = _object({"seq": ID, "stream": STRING, "text": STRING, "at": TIME})

SCHEMAS: dict[str, Schema] = {
    "TreeNode": _TREE_NODE,
    "Tree": _TREE,
    "Error": _object({"error": {**STRING, "description": "one line saying why"}}),
    "Environment": _object(_ENVIRONMENT),
    "EnvironmentDetail": _object(
        {
            **_ENVIRONMENT,
            "packages": {"type": "array", "items": _PACKAGE},
            "drift": _object(
                {
                    "status": {"enum": list(EnvironmentStatus.values)},
                    "source": {**STRING, "description": "the file it is held to; empty for none"},
                    "source_kind": {
                        "enum": ["", *SOURCE_KINDS],
                        "description": "empty before the first scan that told them apart",
                    },
                    "source_reason": {**STRING, "description": "why that file, in one line"},
                    "selection": {
                        **STRING,
                        "description": "which part of a lock applies to this environment",
                    },
                    "lock_outdated": {
                        **STRING,
                        "description": "why the lock no longer matches the project; empty if fresh",
                    },
                    "files": {**STRINGS, "description": "the files drift read or depends on"},
                    "items": {"type": "array", "items": _DRIFT_ITEM},
                }
            ),
            "problems": {**STRINGS, "description": "dependency problems (pip check)"},
            "requirement_errors": STRINGS,
            "updates": _object({"checked_at": TIME, "upgradable": INTEGER}),
        }
    ),
    "Project": _object(
        {
            "id": ID,
            "name": STRING,
            "path": STRING,
            "requirements_source": {
                **STRING,
                "description": "the file chosen for it, or the one envdash chose",
            },
            "requirements_explicit": {**BOOLEAN, "description": "the user chose it"},
            "source_candidates": {
                **STRINGS,
                "description": "the files POST /api/projects/{id}/source accepts",
            },
            "environments": {
                "type": "array",
                "items": _object(
                    {
                        "id": ID,
                        "url": STRING,
                        "name": STRING,
                        "path": STRING,
                        "status": {"enum": list(EnvironmentStatus.values)},
                    }
                ),
            },
        }
    ),
    "Job": _object(_JOB),
    "JobDetail": _object(
        {
            **_JOB,
            "commands": {
                "type": "array",
                "items": STRINGS,
                "description": "every command it ran, as argv lists (passwords shown as ****)",
            },
            "result": {"type": "object"},
            "log": _object(
                {
                    "lines": {"type": "array", "items": _LOG_LINE},
                    "next": {**INTEGER, "minimum": 0, "description": "send as ?after="},
                    "done": {**BOOLEAN, "description": "finished, and no line will follow"},
                }
            ),
        }
    ),
    "ScanStatus": _object(
        {
            "pending": {**BOOLEAN, "description": "a scan is queued or running"},
            "watching": _object(
                {
                    "running": BOOLEAN,
                    "mode": {"enum": [*WatchState.Mode.values, "not-running"]},
                    "summary": {**STRING, "description": "the Settings page's sentence"},
                    "reason": {**STRING, "description": "why some paths are polled"},
                    "backend": STRING,
                    "environments": INTEGER,
                    "watched_paths": INTEGER,
                    "polled_paths": INTEGER,
                    "poll_interval_seconds": {"type": ["number", "null"]},
                    "rescan_interval_seconds": {"type": ["integer", "null"]},
                    "last_event_at": TIME,
                    "last_rescan_at": TIME,
                    "heartbeat_at": TIME,
                }
            ),
            "last": {
                "oneOf": [
                    {"type": "null"},
                    _object(
                        {
                            "id": ID,
                            "state": {"enum": ["running", "done", "failed"]},
                            "started_at": TIME,
                            "finished_at": TIME,
                            "roots": STRINGS,
                            "found": INTEGER,
                            "changed": INTEGER,
                            "unchanged": INTEGER,
                            "gone": INTEGER,
                            "warnings": STRINGS,
                            "error": STRING,
                            "duration_ms": INTEGER,
                        }
                    ),
                ]
            },
        }
    ),
    "Queued": _object({"queued": BOOLEAN}),
}
