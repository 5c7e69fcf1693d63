"""The JSON API's OpenAPI 3.1 document, built here in Python: the response schemas (JSON
Schema, also used by the tests to validate real responses) and the request bodies of
`POST /api/jobs`, generated from each job kind's Form so that they cannot drift apart.

`python3 manage.py openapi > docs/openapi.json` writes the checked-in copy.
"""

from __future__ import annotations

from typing import Any, get_args

from django import forms

from dashboard.jobs.forms import Flag, RetryForm, Text
from dashboard.jobs.kinds import KINDS
from dashboard.jobs.models import Job
from dashboard.models import EnvironmentStatus, WatchState
from dashboard.queries import SORTS
from envcore.requirements.source import SourceKindName

__all__ = [
    "JOB_LIST_LIMIT",
    "SCHEMAS",
    "document",
    "field_schema",
    "job_request_schema",
    "kind_request_schema",
]

Schema = dict[str, Any]

#: The most jobs `GET /api/jobs` returns (its `limit`), and how many without one.
JOB_LIST_LIMIT = (500, 50)

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


# -- request bodies, from the Forms ------------------------------------------------------


def field_schema(field: forms.Field) -> Schema:
    """A Form field as JSON Schema. Unknown field types fail loudly: a new one must be
    mapped here (and in `views._form_data`) before it can be offered."""
    if isinstance(field, Flag | forms.BooleanField):
        return dict(BOOLEAN)
    if isinstance(field, Text):
        return dict(STRING)
    if isinstance(field, forms.ChoiceField):
        return {"enum": [str(value) for value, _ in field.choices]}  # type: ignore[misc,union-attr]
    if isinstance(field, forms.IntegerField):
        schema: Schema = dict(INTEGER)
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
        return schema
    if isinstance(field, forms.CharField):
        schema = dict(STRING)
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
        return schema
    raise TypeError(f"no JSON schema for {type(field).__name__}")


def form_properties(form: type[forms.Form]) -> dict[str, Schema]:
    return {name: field_schema(field) for name, field in form.base_fields.items()}


def kind_request_schema(kind: str) -> Schema:
    """The body that starts a `kind` job: the kind, the environment (unless it creates
    one) and its Form's fields, nothing else."""
    spec = KINDS[kind]
    properties: dict[str, Schema] = {"kind": {"const": kind}}
    if not spec.creates:
        properties["environment"] = {**ID, "description": "the environment's id"}
    properties.update(form_properties(spec.form))
    description = (spec.form.__doc__ or "").strip().split("\n\n")[0]
    return {
        "title": kind,
        "description": " ".join(description.split()) or f"a {kind} job",
        "type": "object",
        "properties": properties,
        "required": ["kind"] if spec.creates else ["kind", "environment"],
        "additionalProperties": False,
    }


def job_request_schema() -> Schema:
    return {"oneOf": [kind_request_schema(kind) for kind in KINDS]}


# -- the document ------------------------------------------------------------------------

_ERRORS = {
    400: "Bad input: a filter, a body or a field the kind refuses",
    401: "No valid Bearer token (or, for reads, session)",
    404: "No such thing",
    409: "The state refuses it: the environment is gone or broken, the job still runs",
    413: "The body is too large",
    415: "The body is not application/json",
}


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(
    summary: str,
    ok: tuple[int, Schema, str],
    errors: tuple[int, ...],
    *,
    parameters: list[Schema] | None = None,
    body: Schema | None = None,
    location: bool = False,
    public: bool = False,
) -> Schema:
    status, schema, description = ok
    success = _json(schema, description)
    if location:
        success["headers"] = {
            "Location": {"description": "the resource it made or acts on", "schema": STRING}
        }
    responses: Schema = {str(status): success}
    for code in (401, *errors) if not public else errors:
        responses[str(code)] = {"$ref": f"#/components/responses/E{code}"}
    operation: Schema = {"summary": summary, "responses": responses}
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": body}},
        }
    if public:
        operation["security"] = []
    return operation


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _path_id(name: str = "id") -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": ID}


def _array(name: str) -> Schema:
    return {"type": "array", "items": _ref(name)}


def document() -> Schema:
    """The whole OpenAPI 3.1 document (what /api/openapi.json serves)."""
    sorts = [*SORTS, *(f"-{key}" for key in SORTS)]
    statuses = list(EnvironmentStatus.values)
    environment_filters = [
        _query("q", {**STRING, "maxLength": 200}, "words in the name, path or project"),
        _query("status", {"enum": statuses}, "only this status (gone: vanished ones)"),
        _query("kind", {**STRING, "maxLength": 32}, "venv, conda, ..."),
        _query("manager", {**STRING, "maxLength": 32}, "pdm, pipx, uv-tool, poetry, ..."),
        _query("python", {**STRING, "maxLength": 8}, "major.minor, e.g. 3.12"),
        _query("sort", {"enum": sorts}, "a column; a leading - reverses it"),
        _query("gone", {"enum": ["0", "1"]}, "1 includes vanished environments"),
        _query("page", {**INTEGER, "minimum": 1}, "100 per page; Link has rel=next"),
    ]
    most, default = JOB_LIST_LIMIT
    job_filters = [
        _query("environment", ID, "only this environment's jobs"),
        _query("state", {"enum": list(Job.State.values)}, "only jobs in this state"),
        _query("kind", {"enum": list(Job.Kind.values)}, "only jobs of this kind"),
        _query("limit", {**INTEGER, "minimum": 1, "maximum": most}, f"default {default}"),
    ]
    retry_fields = form_properties(RetryForm)
    retry_body = _object(retry_fields, optional=tuple(retry_fields))
    paths: Schema = {
        "/api/environments": {
            "get": _operation(
                "Environments, filtered and sorted as on the Environments page",
                (200, _array("Environment"), "The environments"),
                (400,),
                parameters=environment_filters,
            )
        },
        "/api/environments/{id}": {
            "get": _operation(
                "One environment: packages, drift, problems, update-check time",
                (200, _ref("EnvironmentDetail"), "The environment"),
                (404,),
                parameters=[_path_id()],
            )
        },
        "/api/environments/{id}/tree": {
            "get": _operation(
                "Why each package is installed: the dependency tree, or what requires a package",
                (200, _ref("Tree"), "The tree (python -m envcore tree --json's nodes)"),
                (400, 404),
                parameters=[
                    _path_id(),
                    _query(
                        "package",
                        {**STRING, "maxLength": 1000},
                        "start from these packages (comma-separated), not from the roots",
                    ),
                    _query("reverse", {"enum": ["0", "1"]}, "1: what requires each package"),
                    _query("depth", {**INTEGER, "minimum": 0}, "levels below each start"),
                ],
            )
        },
        "/api/environments/{id}/rescan": {
            "post": _operation(
                "Rescan this environment",
                (202, _ref("Queued"), "Queued; Location is the environment"),
                (404,),
                parameters=[_path_id()],
                location=True,
            )
        },
        "/api/environments/{id}/check-updates": {
            "post": _operation(
                "Ask the package indexes what each package could become",
                (202, _ref("Queued"), "Queued; Location is the environment"),
                (404,),
                parameters=[_path_id()],
                location=True,
            )
        },
        "/api/projects": {
            "get": _operation(
                "Projects and their environments",
                (200, _array("Project"), "The projects"),
                (400,),
            )
        },
        "/api/projects/{id}/source": {
            "post": _operation(
                "Hold the project's environments to one of its source_candidates (or "
                '"" for automatic); each of them is rescanned',
                (202, _ref("Project"), "Saved, rescans queued; Location is the projects"),
                (400, 404, 413, 415),
                parameters=[_path_id()],
                body=_object(
                    {
                        "source": {
                            **STRING,
                            "description": 'one of the project\'s source_candidates, or ""',
                        }
                    }
                ),
                location=True,
            )
        },
        "/api/jobs": {
            "get": _operation(
                "Jobs, newest first",
                (200, _array("Job"), "The jobs"),
                (400,),
                parameters=job_filters,
            ),
            "post": _operation(
                "Start a job of any kind the pages can start, validated by the same Forms",
                (201, _ref("Job"), "Queued; Location is the job"),
                (400, 404, 409, 413, 415),
                body=_ref("JobRequest"),
                location=True,
            ),
        },
        "/api/jobs/{id}": {
            "get": _operation(
                "One job, with its log lines after a cursor",
                (200, _ref("JobDetail"), "The job"),
                (400, 404),
                parameters=[
                    _path_id(),
                    _query("after", {**INTEGER, "minimum": 0}, "the log.next of the last call"),
                ],
            )
        },
        "/api/jobs/{id}/cancel": {
            "post": _operation(
                "Cancel a queued or running job",
                (202, _ref("Job"), "Cancelling; Location is the job"),
                (404, 409),
                parameters=[_path_id()],
                location=True,
            )
        },
        "/api/jobs/{id}/retry": {
            "post": _operation(
                "Run a finished job again (installer pip: after uv failed)",
                (201, _ref("Job"), "The new job; Location is it"),
                (400, 404, 409, 413, 415),
                parameters=[_path_id()],
                body=retry_body,
                location=True,
            )
        },
        "/api/scan": {
            "get": _operation(
                "The last full scan, whether one is pending, how the disk is followed",
                (200, _ref("ScanStatus"), "The scan status"),
                (),
            ),
            "post": _operation(
                "Rescan every scan root",
                (202, _ref("Queued"), "Queued; Location is the scan status"),
                (400, 413, 415),
                body=_object(
                    {"force": {**BOOLEAN, "description": "rescan unchanged environments too"}},
                    optional=("force",),
                ),
                location=True,
            ),
        },
        "/api/openapi.json": {
            "get": _operation(
                "This document (no token needed)",
                (200, {"type": "object"}, "The OpenAPI document"),
                (),
                public=True,
            )
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "envdash",
            "version": "1",
            "description": (
                "What the dashboard knows about this machine's Python environments, and the "
                "jobs that change them. Authenticate with the token `envdash serve` prints: "
                "`Authorization: Bearer <token>` (reads also accept the dashboard's session; "
                'writes need the token). Every error is `{"error": "<one line>"}`.'
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**SCHEMAS, "JobRequest": job_request_schema()},
            "responses": {f"E{code}": _json(_ref("Error"), text) for code, text in _ERRORS.items()},
        },
    }
