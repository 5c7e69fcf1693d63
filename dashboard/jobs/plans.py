"""Plan, confirm, apply: the pages of every change that shows what it would do first (Fix
drift, a drift row's Install or Remove, Upgrade all).

A plan is a job of its own (kind "plan"): the worker runs the installer's dry run, which a
view never does, in the environment's queue, so it sees the environment as the jobs queued
before it leave it. Its page polls until the plan is there; confirming queues an "apply"
job with exactly that plan, and the environment's page follows it until the rescan shows
the new state.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.http import HtmxHttpRequest
from dashboard.jobs.forms import JobError
from dashboard.jobs.models import Job
from dashboard.jobs.planforms import PLAN_PURPOSES
from dashboard.jobs.queue import enqueue
from dashboard.models import Environment
from dashboard.text import is_number

__all__ = ["followed_job", "plan_page", "start_plan"]

#: How long after a job ended the environment's page waits for the rescan to show it,
#: before it stops waiting (a rescan that failed must not keep the page polling).
SETTLE_SECONDS = 15


@require_POST
def start_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a plan (Fix drift, a row's Install / Remove, Upgrade all) and show its page."""
    env = get_object_or_404(Environment, pk=pk)
    try:
        job = enqueue(Job.Kind.PLAN, env, request.POST)
    except JobError as exc:
        messages.error(request, str(exc))
        return redirect("environment", pk=env.pk)
    return redirect("plan", pk=env.pk, job=job.pk)


@require_http_methods(["GET", "POST"])
def plan_page(request: HtmxHttpRequest, pk: int, job: int) -> HttpResponse:
    """The plan, polled (htmx, or a refresh without JavaScript) until the worker made it;
    a POST is the confirmation: it queues exactly this plan and returns to the environment,
    which follows the job."""
    env = get_object_or_404(Environment, pk=pk)
    planned = get_object_or_404(Job, pk=job, environment=env, kind=Job.Kind.PLAN)
    if request.method == "POST":
        try:
            applied = enqueue(Job.Kind.APPLY, env, {"plan": str(planned.pk)})
        except JobError as exc:
            messages.error(request, str(exc))
            return redirect("plan", pk=env.pk, job=planned.pk)
        return redirect(f"{reverse('environment', args=[env.pk])}?job={applied.pk}")
    plan: dict[str, Any] = planned.result.get("plan") or {}
    actions: list[dict[str, Any]] = list(plan.get("actions") or [])
    context = {
        "env": env,
        "job": planned,
        "label": PLAN_PURPOSES.get(planned.params.get("purpose", ""), "Plan"),
        "plan": plan,
        "actions": actions,
        "removals": [action for action in actions if action.get("action") == "remove"],
        "replan": planned.params,
    }
    if request.htmx and request.htmx.target == "plan":
        return render(request, "jobs/plan.html#plan", context)
    return render(request, "jobs/plan.html", context)


def followed_job(env: Environment, raw: str) -> dict[str, Any]:
    """The job the environment's page follows (`?job=`), and whether its end and the rescan
    after it are stored (`settled`: without JavaScript the page refreshes until then); a
    failed apply offers to plan again."""
    job = env.jobs.filter(pk=int(raw)).first() if is_number(raw) else None
    if job is None:
        return {}
    settled = job.finished_at is not None and (
        env.last_scanned >= job.finished_at
        or (timezone.now() - job.finished_at).total_seconds() > SETTLE_SECONDS
    )
    replan: dict[str, Any] = {}
    if job.kind == Job.Kind.APPLY and job.state != Job.State.SUCCEEDED:
        source = Job.objects.filter(pk=job.params.get("plan_job")).first()
        replan = source.params if source is not None else {}
    return {"followed": job, "settled": settled, "replan": replan}
