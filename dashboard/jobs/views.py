"""Job pages and the POSTs that queue jobs. Thin: validate via `kinds`, queue, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.jobs.kinds import JobError
from dashboard.jobs.models import Interpreter, Job
from dashboard.jobs.queue import enqueue, enqueue_create, requeue
from dashboard.models import Environment
from dashboard.scanning import scan_plan
from envcore.interpreters import trusted_base

__all__ = ["cancel", "create", "job_detail", "job_log", "jobs", "retry", "start"]

#: Jobs that destroy or replace something: their form posts to a confirmation page first.
CONFIRMED = frozenset({"recreate", "delete"})
#: htmx stops polling when a response has this status.
STOP_POLLING = 286


@require_POST
def start(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    env = get_object_or_404(Environment, pk=pk)
    form = {key: str(value) for key, value in request.POST.items() if key != "csrfmiddlewaretoken"}
    if kind in CONFIRMED and request.POST.get("confirmed") != "1":
        context: dict[str, object] = {"env": env, "kind": kind, "form": form}
        if kind == "recreate":
            context.update(_recreate_choices(env))
        return render(request, "jobs/confirm.html", context)
    try:
        job = enqueue(kind, env, form)
    except JobError as exc:
        messages.error(request, str(exc))
        return redirect("environment", pk=env.pk)
    return redirect("job", pk=job.pk)


def _recreate_choices(env: Environment) -> dict[str, object]:
    """The interpreters to choose from, and (when the env's own freeze is reinstalled) what
    comes from a location on disk or a URL and what is left out because its metadata could
    reach pip as an option, for the user to see before confirming."""
    interpreters = list(Interpreter.objects.order_by("-version", "path"))
    same = trusted_base(env.base_interpreter, [row.path for row in interpreters])
    choices: dict[str, object] = {"interpreters": interpreters, "same_is_trusted": same is not None}
    if not env.requirements_source:
        choices["from_sources"] = list(
            env.distributions.exclude(source_url="").filter(unsafe_reason="").order_by("name")
        )
        choices["left_out"] = list(env.distributions.exclude(unsafe_reason="").order_by("name"))
    return choices


@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    """The new-environment form; the interpreters come from the worker's last probe."""
    form = {key: str(value) for key, value in request.POST.items() if key != "csrfmiddlewaretoken"}
    error = ""
    if request.method == "POST":
        try:
            job = enqueue_create(form)
        except JobError as exc:
            error = str(exc)
        else:
            return redirect("job", pk=job.pk)
    context = {
        "interpreters": list(Interpreter.objects.order_by("-version", "path")),
        "roots": scan_plan().roots,
        "form": form,
        "error": error,
    }
    return render(request, "jobs/create.html", context, status=400 if error else 200)


@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(Job.objects.select_related("environment"), pk=pk)
    lines = list(job.lines.all()[:5000])
    context = {"job": job, "lines": lines, "after": lines[-1].seq if lines else 0}
    return render(request, "jobs/job.html", context)


@require_GET
def job_log(request: HttpRequest, pk: int) -> HttpResponse:
    """New log lines after `?after=<seq>`; once the job has ended, 286 stops the polling."""
    job = get_object_or_404(Job, pk=pk)
    raw = request.GET.get("after", "0")
    after = int(raw) if raw.isdigit() else 0
    lines = list(job.lines.filter(seq__gt=after)[:2000])
    context = {"job": job, "lines": lines, "after": lines[-1].seq if lines else after}
    status = STOP_POLLING if job.finished and not lines else 200
    return render(request, "jobs/job.html#log-update", context, status=status)


@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(Job, pk=pk)
    if not job.finished:
        Job.objects.filter(pk=pk).update(cancel_requested=True)
        messages.success(request, "Cancelling: the job's processes will be stopped.")
    return redirect("job", pk=pk)


@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a finished job again with the same (already validated) parameters."""
    job = get_object_or_404(Job, pk=pk)
    if not job.finished:
        messages.error(request, "The job is still running.")
        return redirect("job", pk=pk)
    again = requeue(job)
    return redirect("job", pk=again.pk)


@require_GET
def jobs(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    queryset = Job.objects.select_related("environment")
    if state in Job.State.values:
        queryset = queryset.filter(state=state)
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(
        request, "jobs/list.html", {"page": page, "state": state, "states": Job.State.choices}
    )
