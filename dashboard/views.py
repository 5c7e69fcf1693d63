"""The dashboard's pages. Thin: read the query, ask `queries`/`scanning`/tasks, render.

Nothing here walks the disk or starts a process; rescans are queued for the worker.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh, trigger_client_event

from dashboard import tasks
from dashboard.auth import end_all_sessions, open_session, token_matches
from dashboard.http import HtmxHttpRequest
from dashboard.jobs.interpreters import add_user_interpreter, listed_interpreters
from dashboard.jobs.kinds import JobError
from dashboard.jobs.models import Interpreter
from dashboard.jobs.plans import followed_job
from dashboard.live import MAX_WAIT, wait_for_change
from dashboard.models import Activity, Environment, ScanRoot
from dashboard.queries import (
    EnvironmentFilter,
    PackageUse,
    activation_commands,
    donut,
    last_full_scan,
    needs_attention,
    package_rows,
    package_usage,
    projects_with_environments,
    status_counts,
)
from dashboard.scanning import scan_plan
from dashboard.sources import SourceForm, held_to_line, hold_project_to
from dashboard.text import is_number
from dashboard.updates import enqueue_update_check
from dashboard.watchstatus import stored_state as stored_watch_state
from dashboard.watchstatus import watch_status
from envcore.requirements import is_project_name
from envcore.versions import is_version

__all__ = [
    "check_updates",
    "environment_detail",
    "environment_source",
    "environments",
    "live",
    "login",
    "logout",
    "overview",
    "packages",
    "projects",
    "rescan",
    "rescan_environment",
    "settings_page",
]

PAGE_SIZE = 100
DETAIL_TABS = ("packages", "drift", "problems", "freeze", "activate")


@login_not_required
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """`/login/?token=...` (the printed URL) or the form: a valid token opens a session."""
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    token = request.POST.get("token") or request.GET.get("token") or ""
    error = ""
    if token:
        if token_matches(token.strip()):
            open_session(request.session)
            return HttpResponseRedirect(next_url)
        error = "That token is not valid. Use the URL envdash serve printed."
    status = 403 if error else 200
    return render(
        request, "dashboard/login.html", {"next": next_url, "error": error}, status=status
    )


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    end_all_sessions()
    request.session.flush()
    return redirect("login")


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    counts = status_counts()
    context = {
        "counts": counts,
        "segments": donut(counts),
        "attention": needs_attention(),
        "activity": list(Activity.objects.select_related("environment")[:12]),
        "last_scan": last_full_scan(),
        "scanning": tasks.scan_pending(),
    }
    return render(request, "dashboard/overview.html", context)


@require_GET
def environments(request: HtmxHttpRequest) -> HttpResponse:
    state = EnvironmentFilter.from_query(request.GET)
    queryset = state.apply(Environment.objects.select_related("project"))
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "state": state,
        "columns": state.columns(),
        "page": page,
        "kinds": list(
            Environment.objects.order_by("kind").values_list("kind", flat=True).distinct()
        ),
        "managers": list(
            Environment.objects.exclude(manager="")
            .order_by("manager")
            .values_list("manager", flat=True)
            .distinct()
        ),
        "pythons": list(
            Environment.objects.exclude(python_minor="")
            .order_by("python_minor")
            .values_list("python_minor", flat=True)
            .distinct()
        ),
        "statuses": [
            ("broken", "Broken"),
            ("drifted", "Drifted"),
            ("in-sync", "In sync"),
            ("no-requirements", "No requirements"),
            ("gone", "Gone"),
        ],
    }
    if request.htmx and request.htmx.target == "env-table":
        return render(request, "dashboard/environments.html#env-table", context)
    return render(request, "dashboard/environments.html", context)


@require_GET
def environment_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    env = get_object_or_404(Environment.objects.select_related("project"), pk=pk)
    tab = request.GET.get("tab", "packages")
    if tab not in DETAIL_TABS:
        tab = "packages"
    q = request.GET.get("q", "")[:100]
    # The job this page follows (`?job=`, after Apply): its banner polls until the job
    # ended and the rescan is stored, then the live regions (main) show the new state.
    followed = followed_job(env, request.GET.get("job", ""))
    if request.htmx and request.htmx.target == "env-job" and followed:
        if not followed["settled"]:
            return HttpResponse(status=204)  # nothing new: the banner polls again
        return trigger_client_event(
            render(request, "dashboard/environment.html#env-job", {"env": env, **followed}),
            "envdash:changed",
        )
    context = {
        **followed,
        "env": env,
        # A broken environment's own Python cannot run: no package action can work on it.
        "actionable": env.gone_at is None and env.health != "broken",
        "tab": tab,
        "tabs": DETAIL_TABS,
        "q": q,
        "rows": package_rows(env, q) if tab == "packages" else [],
        "drift": list(env.drift_items.all()) if tab == "drift" else [],
        "activation": activation_commands(env),
        "source_form": SourceForm(env.project) if env.project is not None else None,
        "siblings": list(
            Environment.objects.filter(project=env.project, gone_at__isnull=True)
            .exclude(pk=env.pk)
            .only("pk", "name", "status")[:20]
        )
        if env.project_id
        else [],
        "activity": list(Activity.objects.filter(environment=env)[:10]),
    }
    if request.htmx and request.htmx.target == "packages":
        return render(request, "dashboard/environment.html#packages", context)
    return render(request, "dashboard/environment.html", context)


@require_POST
def environment_source(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The chooser on the environment page: hold the environment's project to one of its
    files (or automatic), then every environment of the project is compared again."""
    env = get_object_or_404(Environment.objects.select_related("project"), pk=pk)
    project = env.project
    if project is None:
        raise Http404("This environment belongs to no project: there is no source to choose.")
    form = SourceForm(project, request.POST)
    saved = ""
    if form.is_valid():
        hold_project_to(project, form.chosen())
        saved = held_to_line(project)
        form = SourceForm(project)
    if not request.htmx:
        if saved:
            messages.success(request, f"{project.name}: {saved}; its environments are rescanned.")
        else:
            messages.error(request, form.refusal())
        return redirect("environment", pk=env.pk)
    context = {"env": env, "source_form": form, "source_saved": saved}
    return render(request, "dashboard/_env_source.html", context, status=200 if saved else 400)


@require_GET
def packages(request: HttpRequest) -> HttpResponse:
    """Across every environment: who has package X, and who has it below version Y."""
    name = request.GET.get("name", "").strip()[:200]
    below = request.GET.get("below", "").strip()[:64]
    error = ""
    uses: list[PackageUse] = []
    if below and not is_version(below):
        error = f"“{below}” is not a version (PEP 440), e.g. 2.32 or 1.0.post1"
    elif name and not is_project_name(name):
        error = f"“{name}” is not a package name"
    elif name:
        uses = package_usage(name, below)
    context = {
        "name": name,
        "below": below,
        "uses": uses,
        "below_count": sum(1 for use in uses if use.below),
        "error": error,
    }
    return render(request, "dashboard/packages.html", context, status=400 if error else 200)


@require_GET
def projects(request: HttpRequest) -> HttpResponse:
    page = Paginator(projects_with_environments(), 50).get_page(request.GET.get("page"))
    return render(request, "dashboard/projects.html", {"page": page})


@require_POST
def rescan(request: HtmxHttpRequest) -> HttpResponse:
    force = request.POST.get("force") == "1"
    tasks.enqueue_scan(force=force)
    if request.htmx:
        context = {"scan": last_full_scan(), "scanning": True}
        return render(request, "dashboard/_scan_status.html", context)
    messages.success(request, "Rescan queued; the pages update when it finishes.")
    back = request.POST.get("back", "")
    # Only a path on this site: `back=https://evil.example/` made this an open redirect.
    if back.startswith("/") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}
    ):
        return redirect(back)
    return redirect("overview")


@require_POST
def rescan_environment(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    env = get_object_or_404(Environment, pk=pk)
    tasks.enqueue_scan(path=env.path, force=True)
    messages.success(request, f"Rescan of {env.name} queued.")
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect("environment", pk=env.pk)


@require_POST
def check_updates(request: HttpRequest, pk: int) -> HttpResponse:
    env = get_object_or_404(Environment, pk=pk, gone_at__isnull=True)
    enqueue_update_check(env, announce=True)
    messages.success(request, "Checking the package indexes; this page updates when done.")
    return redirect("environment", pk=env.pk)


@require_GET
def live(request: HttpRequest) -> HttpResponse:
    """Asked by every live page (envdash.js, `?since=<revision>&wait=<seconds>`): 204
    while nothing changed, held up to `wait` seconds until something does; else the poll
    with the new revision and the event that re-fetches the page's live regions (see
    dashboard.live)."""
    since, wait = request.GET.get("since", ""), request.GET.get("wait", "")
    now = wait_for_change(
        int(since) if is_number(since) else -1,
        min(float(wait), MAX_WAIT) if is_number(wait) else 0.0,
        # waitress says when the tab went away (serve's channel_request_lookahead).
        request.META.get("waitress.client_disconnected") or (lambda: False),
    )
    if since == str(now):
        return HttpResponse(status=204)
    response = render(request, "dashboard/_live.html", {"revision": now})
    response["HX-Trigger"] = "envdash:changed"
    return response


@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    error = interpreter_error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "add":
            raw = request.POST.get("path", "").strip()
            path = Path(raw).expanduser()
            if not raw or not path.is_absolute():
                error = "Give an absolute directory path."
            elif not path.is_dir():
                error = f"{path} is not a directory on this machine."
            elif ScanRoot.objects.filter(path=str(path)).exists():
                error = f"{path} is already a scan root."
            else:
                ScanRoot.objects.create(path=str(path))
                messages.success(request, f"Added {path}. Rescan to pick up its environments.")
                return redirect("settings")
        elif action == "add-interpreter":
            try:
                added = add_user_interpreter(request.POST.get("interpreter", ""))
            except JobError as exc:
                interpreter_error = str(exc)
            else:
                messages.success(request, f"Added {added}.")
                return redirect("settings")
        elif action == "remove-interpreter":
            chosen = request.POST.get("interpreter", "")
            user_added = Interpreter.objects.filter(source="user")
            interpreter = user_added.filter(pk=int(chosen)).first() if is_number(chosen) else None
            if interpreter is None:
                interpreter_error = "That interpreter was not added here (any more); reload."
            else:
                interpreter.delete()
                messages.success(request, f"Removed {interpreter.path}.")
                return redirect("settings")
        elif action in {"remove", "toggle"}:
            root_id = request.POST.get("root", "")
            root = ScanRoot.objects.filter(pk=int(root_id)).first() if is_number(root_id) else None
            if root is None:
                error = "That scan root does not exist (any more); reload the page."
            else:
                if action == "remove":
                    root.delete()
                    messages.success(request, f"Removed {root.path}.")
                else:
                    root.enabled = not root.enabled
                    root.save(update_fields=["enabled"])
                return redirect("settings")
        else:
            error = "Unknown action."
    plan = scan_plan()
    context = {
        "roots": list(ScanRoot.objects.all()),
        "interpreters": listed_interpreters(),
        "plan": plan,
        "error": error,
        "interpreter_error": interpreter_error,
        "data_dir": settings.DATA_DIR,
        "database": connection.vendor,
        "machine": settings.MACHINE_NAME,
        "installer": settings.INSTALLER,
        "team_url": settings.TEAM_URL,
        "watch": watch_status(),
        "watch_state": stored_watch_state(),
    }
    status = 400 if error or interpreter_error else 200
    return render(request, "dashboard/settings.html", context, status=status)
