"""Job pages and the POSTs that queue jobs. Thin: the kind's Form validates (`kinds`),
`queue` queues, the view redirects or shows the refusal."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from dashboard.http import HtmxHttpRequest
from dashboard.jobs.interpreters import listed_interpreters
from dashboard.jobs.kinds import KINDS, JobError
from dashboard.jobs.lifecycle import CreateForm
from dashboard.jobs.models import Job
from dashboard.jobs.queue import cancel as cancel_job
from dashboard.jobs.queue import enqueue, enqueue_create
from dashboard.jobs.queue import retry as retry_job
from dashboard.jobs.stream import job_commands, lines_after
from dashboard.models import Environment
from dashboard.scanning import scan_plan
from dashboard.text import is_number

__all__ = ["cancel", "create", "job_detail", "jobs", "retry", "start"]


@require_POST
def start(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    env = get_object_or_404(Environment, pk=pk)
    spec = KINDS.get(kind)
    confirming = spec and spec.confirm_template and spec.confirms(request.POST)
    if spec and confirming and request.POST.get("confirmed") != "1":
        label = Job.Kind(kind).label
        # What the first POST said (the package, the flags) goes along with the answer.
        carried = [
            (name, value)
            for name, values in request.POST.lists()
            if name not in {"csrfmiddlewaretoken", "confirmed"}
            for value in values
        ]
        context = {"env": env, "kind": kind, "label": label, "spec": spec, "carried": carried}
        context.update(spec.confirm_context(env))
        return render(request, "jobs/confirm.html", context)
    try:
        job = enqueue(kind, env, request.POST)
    except JobError as exc:
        messages.error(request, str(exc))
        return redirect("environment", pk=env.pk)
    return redirect("job", pk=job.pk)


@require_http_methods(["GET", "POST"])
def create(request: HtmxHttpRequest) -> HttpResponse:
    """The new-environment form; the interpreters come from the worker's last probe.

    A GET may carry `path` and `requirements` (typed so far, or from a link): the
    interpreter field then says which one an empty choice stands for. htmx asks for that
    field alone (its partial) whenever the path or requirements change."""
    error = ""
    if request.method == "POST":
        try:
            job = enqueue_create(request.POST)
        except JobError as exc:
            error = str(exc)
        else:
            return redirect("job", pk=job.pk)
    form = CreateForm(request.POST if request.method == "POST" else request.GET)
    form.is_valid()  # cleans what it can: the default depends on the path and requirements
    context = {
        "interpreters": listed_interpreters(),
        "default": form.default(),
        "roots": scan_plan().roots,
        "form": form,  # what was typed, shown again with the refusal
        "error": error,
    }
    if request.htmx and request.method == "GET":
        return render(request, "jobs/create.html#interpreter-field", context)
    return render(request, "jobs/create.html", context, status=400 if error else 200)


@require_GET
def job_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The job's page; its log polls here (htmx) for the lines after `?after=<seq>`, and once
    the job has ended and nothing is new, 286 stops the polling."""
    job = get_object_or_404(Job.objects.select_related("environment"), pk=pk)
    if request.htmx:
        raw = request.GET.get("after", "0")
        lines, after = lines_after(job, int(raw) if is_number(raw) else 0)
        context = {"job": job, "lines": lines, "after": after}
        if job.finished and not lines:
            return HttpResponseStopPolling(
                render_to_string("jobs/job.html#log-update", context, request)
            )
        return render(request, "jobs/job.html#log-update", context)
    lines = list(job.lines.all()[:5000])
    context = {
        "job": job,
        "lines": lines,
        # Every command the job ran, in order, as the log recorded it (shell-quoted argv).
        "commands": job_commands(job),
        "after": lines[-1].seq if lines else 0,
        "result_template": KINDS[job.kind].result_template,
    }
    return render(request, "jobs/job.html", context)


@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(Job, pk=pk)
    if cancel_job(job):
        messages.success(request, "Cancelling: the job's processes will be stopped.")
    return redirect("job", pk=pk)


@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a finished job again with the same (already validated) parameters; "Retry with
    pip" (installer=pip) only for a failed job that ran with uv."""
    job = get_object_or_404(Job, pk=pk)
    try:
        again = retry_job(job, request.POST)
    except JobError as exc:
        messages.error(request, str(exc))
        return redirect("job", pk=pk)
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
