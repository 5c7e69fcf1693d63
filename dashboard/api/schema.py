"""The JSON API's OpenAPI 3.1 document, built here in Python: its paths and operations,
with the response schemas of dashboard.api.response_schemas (JSON Schema, also used by the
tests to validate real responses) and the request bodies of `POST /api/jobs` that
dashboard.api.request_schemas generates from each job kind's Form, so that they cannot
drift apart.

`python3 manage.py openapi > docs/openapi.json` writes the checked-in copy.
"""

from __future__ import annotations

from dashboard.api.request_schemas import form_properties, job_request_schema
from dashboard.api.response_schemas import (
    BOOLEAN,
    ID,
    INTEGER,
    SCHEMAS,
    STRING,
    Schema,
    _object,
    _ref,
)
from dashboard.jobs.forms import RetryForm
from dashboard.jobs.models import Job
from dashboard.models import EnvironmentStatus
from dashboard.queries import SORTS

__all__ = ["JOB_LIST_LIMIT", "document"]

#: The most jobs `GET /api/jobs` returns (its `limit`), and how many without one.
JOB_LIST_LIMIT = (500, 50)

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
