"""The JSON API's views. Thin: read the query or body, ask the functions the pages use
(`dashboard.queries`, `dashboard.jobs.queue`, `dashboard.tasks`), serialize.

A job started here passes the very Form the page's POST passes (`dashboard.jobs.kinds`),
so the refusals are the same one-line messages; the body's shape (field names and JSON
types, from those Forms' fields: `request_schemas.kind_request_schema`) is checked first.
"""

from __future__ import annotations

from typing import Any

import jsonschema
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import EmptyPage, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse

from dashboard import tasks
from dashboard.api import serializers
from dashboard.api.http import ApiError, api_view, json_body, number
from dashboard.api.request_schemas import kind_request_schema
from dashboard.api.schema import JOB_LIST_LIMIT, document
from dashboard.jobs.forms import JobError, JobStateError
from dashboard.jobs.kinds import KINDS
from dashboard.jobs.models import Job
from dashboard.jobs.queue import cancel as cancel_job
from dashboard.jobs.queue import enqueue, enqueue_create
from dashboard.jobs.queue import retry as retry_job
from dashboard.jobs.stream import lines_after
from dashboard.models import Environment, Project
from dashboard.queries import (
    EnvironmentFilter,
    FilterError,
    last_full_scan,
    package_rows,
    projects_with_environments,
)
from dashboard.sources import SourceForm, hold_project_to
from dashboard.tree import stored_graph
from dashboard.updates import enqueue_update_check
from dashboard.watchstatus import watch_status

__all__ = [
    "check_updates",
    "environment",
    "environment_tree",
    "environments",
    "job",
    "job_cancel",
    "job_retry",
    "jobs",
    "not_found",
    "openapi",
    "project_source",
    "projects",
    "rescan_environment",
    "scan",
]

PAGE_SIZE = 100


def _json(data: Any, status: int = 200, location: str = "") -> JsonResponse:
    response = JsonResponse(data, status=status, safe=False)
    if location:
        response["Location"] = location
    return response


def _only(request: HttpRequest, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query's parameters, refusing any other name (a typo must not read as no filter)."""
    unknown = sorted(set(request.GET) - set(allowed))
    if unknown:
        known = ", ".join(allowed) or "none"
        raise ApiError(400, f"unknown parameter {unknown[0]!r}; the parameters are {known}")
    return {name: request.GET[name] for name in request.GET}


def _get(queryset: QuerySet[Any], pk: int, what: str) -> Any:
    found = queryset.filter(pk=pk).first() if pk < 2**63 else None
    if found is None:
        raise ApiError(404, f"no {what} with id {pk}")
    return found


# -- /api/environments --------------------------------------------------------------------


@api_view("GET")
def environments(request: HttpRequest) -> HttpResponse:
    """The Environments page's list, with its filters (strict: a bad value is a 400)."""
    try:
        state = EnvironmentFilter.from_query(request.GET, strict=True)
    except FilterError as exc:
        raise ApiError(400, str(exc)) from None
    queryset = state.apply(Environment.objects.select_related("project"))
    page_number = number(request.GET.get("page", "1"), "page")
    try:
        page = Paginator(queryset, PAGE_SIZE).page(page_number)
    except EmptyPage:
        raise ApiError(400, f"page {page_number} does not exist") from None
    response = _json([serializers.environment(env) for env in page])
    if page.has_next():
        query = request.GET.copy()
        query["page"] = str(page.next_page_number())
        response["Link"] = f'<{request.path}?{query.urlencode()}>; rel="next"'
    return response


@api_view("GET")
def environment(request: HttpRequest, pk: int) -> HttpResponse:
    _only(request, ())
    env = _get(Environment.objects.select_related("project"), pk, "environment")
    data = serializers.environment_detail(env, package_rows(env), list(env.drift_items.all()))
    return _json(data)


@api_view("GET")
def environment_tree(request: HttpRequest, pk: int) -> HttpResponse:
    """Why each package is installed: `python -m envcore tree --json`'s nodes, drawn from
    the rows the scan stored (dashboard.tree)."""
    query = _only(request, ("package", "reverse", "depth"))
    env = _get(Environment.objects.all(), pk, "environment")
    if query.get("reverse", "0") not in ("0", "1"):
        raise ApiError(400, "reverse is 0 or 1")
    depth = number(query["depth"], "depth") if "depth" in query else None
    graph = stored_graph(env)
    names = [name.strip() for name in query.get("package", "").split(",") if name.strip()]
    unknown = [name for name in names if not graph.known(name)]
    if unknown:
        raise ApiError(400, f"not installed and required by nothing: {unknown[0][:200]}")
    reverse = query.get("reverse") == "1"
    nodes = (graph.reverse if reverse else graph.tree)(names, depth=depth)
    return _json(serializers.tree(env, graph, nodes, reverse=reverse))


@api_view("POST", write=True)
def rescan_environment(request: HttpRequest, pk: int) -> HttpResponse:
    env = _get(Environment.objects.all(), pk, "environment")
    tasks.enqueue_scan(path=env.path, force=True)
    return _json({"queued": True}, 202, reverse("api-environment", args=[env.pk]))


@api_view("POST", write=True)
def check_updates(request: HttpRequest, pk: int) -> HttpResponse:
    env = _get(Environment.objects.filter(gone_at__isnull=True), pk, "environment on disk")
    enqueue_update_check(env, announce=True)
    return _json({"queued": True}, 202, reverse("api-environment", args=[env.pk]))


# -- /api/projects ------------------------------------------------------------------------


@api_view("GET")
def projects(request: HttpRequest) -> HttpResponse:
    _only(request, ())
    return _json([serializers.project(item) for item in projects_with_environments()])


@api_view("POST", write=True)
def project_source(request: HttpRequest, pk: int) -> HttpResponse:
    """The environment page's chooser, as data: the same Form, the same refusal."""
    project = _get(Project.objects.all(), pk, "project")
    body = json_body(request)
    unknown = sorted(set(body) - {"source"})
    if unknown:
        raise ApiError(400, f"a source choice has no field {unknown[0]!r}")
    if not isinstance(body.get("source"), str):
        raise ApiError(
            400, 'source: give one of the project\'s source_candidates, or "" for automatic'
        )
    form = SourceForm(project, {"source": body["source"]})
    if not form.is_valid():
        raise ApiError(400, form.refusal())
    hold_project_to(project, form.chosen())
    saved = projects_with_environments().get(pk=project.pk)
    return _json(serializers.project(saved), 202, reverse("api-projects"))


# -- /api/jobs ----------------------------------------------------------------------------


@api_view("GET", "POST", write=True)
def jobs(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _start(request)
    query = _only(request, ("environment", "state", "kind", "limit"))
    most, default = JOB_LIST_LIMIT
    queryset = Job.objects.all()
    if "environment" in query:
        queryset = queryset.filter(environment_id=number(query["environment"], "environment"))
    if "state" in query:
        if query["state"] not in Job.State.values:
            raise ApiError(400, f"state is one of {', '.join(Job.State.values)}")
        queryset = queryset.filter(state=query["state"])
    if "kind" in query:
        if query["kind"] not in Job.Kind.values:
            raise ApiError(400, f"kind is one of {', '.join(Job.Kind.values)}")
        queryset = queryset.filter(kind=query["kind"])
    limit = number(query.get("limit", str(default)), "limit")
    if not 1 <= limit <= most:
        raise ApiError(400, f"limit is between 1 and {most}")
    return _json([serializers.job(item) for item in queryset[:limit]])


def _form_data(body: dict[str, Any]) -> dict[str, str]:
    """A checked JSON body as the page's form would post it: a flag on is "1"."""
    data: dict[str, str] = {}
    for name, value in body.items():
        if name in {"kind", "environment"}:
            continue
        if isinstance(value, bool):
            data[name] = "1" if value else ""
        else:
            data[name] = str(value)
    return data


def _checked_body(body: dict[str, Any]) -> str:
    """The kind, once the body has exactly its fields with their JSON types."""
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ApiError(400, f"kind is one of {', '.join(KINDS)}")
    schema = kind_request_schema(kind)
    unknown = sorted(set(body) - set(schema["properties"]))
    if unknown:
        raise ApiError(400, f"a {kind} job has no field {unknown[0]!r}")
    for name in schema["required"]:
        if name not in body:
            raise ApiError(400, f"a {kind} job needs {name!r}")
    for name, value in body.items():
        try:
            jsonschema.validate(value, schema["properties"][name])
        except jsonschema.ValidationError as exc:
            raise ApiError(400, f"{name}: {exc.message}") from None
        if isinstance(value, str) and "\x00" in value:
            # Stored in the job's parameters, and PostgreSQL refuses NUL in JSON text.
            raise ApiError(400, f"{name} holds a NUL character")
    return kind


def _start(request: HttpRequest) -> HttpResponse:
    """POST /api/jobs: the kind's Form decides, as for the page's POST."""
    body = json_body(request)
    kind = _checked_body(body)
    data = _form_data(body)
    try:
        if KINDS[kind].creates:
            started = enqueue_create(data)
        else:
            env = _get(Environment.objects.all(), body["environment"], "environment")
            started = enqueue(kind, env, data)
    except JobStateError as exc:
        raise ApiError(409, str(exc)) from None
    except JobError as exc:
        raise ApiError(400, str(exc)) from None
    return _json(serializers.job(started), 201, reverse("api-job", args=[started.pk]))


@api_view("GET")
def job(request: HttpRequest, pk: int) -> HttpResponse:
    """The job and its log after `?after=<cursor>` (the job page's poll, as data)."""
    query = _only(request, ("after",))
    item = _get(Job.objects.all(), pk, "job")
    lines, cursor = lines_after(item, number(query.get("after", "0"), "after"))
    return _json(serializers.job_detail(item, lines, cursor))


@api_view("POST", write=True)
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    item = _get(Job.objects.all(), pk, "job")
    if not cancel_job(item):
        raise ApiError(409, f"the job has already {item.state}")
    item.refresh_from_db()
    return _json(serializers.job(item), 202, reverse("api-job", args=[item.pk]))


@api_view("POST", write=True)
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    item = _get(Job.objects.all(), pk, "job")
    body = json_body(request)
    unknown = sorted(set(body) - {"installer"})
    if unknown:
        raise ApiError(400, f"a retry has no field {unknown[0]!r}")
    if not isinstance(body.get("installer", ""), str):
        raise ApiError(400, 'installer: give "pip", or leave it out')
    try:
        again = retry_job(item, body)
    except JobStateError as exc:
        raise ApiError(409, str(exc)) from None
    except JobError as exc:
        raise ApiError(400, str(exc)) from None
    return _json(serializers.job(again), 201, reverse("api-job", args=[again.pk]))


# -- /api/scan ----------------------------------------------------------------------------


@api_view("GET", "POST", write=True)
def scan(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        body = json_body(request)
        unknown = sorted(set(body) - {"force"})
        if unknown:
            raise ApiError(400, f"a rescan has no field {unknown[0]!r}")
        force = body.get("force", False)
        if not isinstance(force, bool):
            raise ApiError(400, "force: give true or false")
        tasks.enqueue_scan(force=force)
        return _json({"queued": True}, 202, reverse("api-scan"))
    _only(request, ())
    data = serializers.scan(last_full_scan(), pending=tasks.scan_pending(), watching=watch_status())
    return _json(data)


# -- the document, and what is not here ---------------------------------------------------


@login_not_required  # a description of the API, like the README: nothing of this machine
@api_view("GET")
def openapi(request: HttpRequest) -> HttpResponse:
    return _json(document())


@api_view("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
def not_found(request: HttpRequest, rest: str) -> HttpResponse:
    raise ApiError(404, f"no API endpoint /api/{rest}; see /api/openapi.json")
