"""The team page (read-only status of every member's machine) and its settings and upload.

Nothing here runs anything on anyone's machine: the only POSTs manage members and
tokens and import a snapshot file.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dashboard.http import HtmxHttpRequest
from dashboard.team.access import login_required
from dashboard.team.conf import max_request_body_bytes, max_snapshot_bytes, stale_days, team_url
from dashboard.team.forms import ImportForm, MemberForm, TokenForm
from dashboard.team.ingest import IngestError, issue_token, store_snapshot
from dashboard.team.models import Member, MemberToken, PushState, TeamProject
from dashboard.team.overview import build_matrix, project_cards, projects_with_environments
from dashboard.text import is_number
from envcore.errors import SnapshotError
from envcore.snapshot import parse_snapshot

__all__ = ["add_member", "create_token", "import_snapshot", "revoke_token", "team", "team_settings"]

PROJECTS_PER_PAGE = 20


def _expanded(request: HttpRequest) -> TeamProject | None:
    raw = request.GET.get("expand", "")
    if not is_number(raw):
        return None
    return TeamProject.objects.filter(pk=int(raw)).first()


@require_GET
@login_required
def team(request: HtmxHttpRequest) -> HttpResponse:
    only_differing = request.GET.get("only") == "differing"
    expanded = _expanded(request)
    if expanded is not None and request.htmx:
        matrix = build_matrix(expanded, only_differing=only_differing)
        return render(request, "team/team.html#matrix", {"matrix": matrix})
    page = Paginator(projects_with_environments(), PROJECTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    cards = project_cards(list(page.object_list), now=timezone.now(), stale_days=stale_days())
    context = {
        "cards": cards,
        "page": page,
        "matrix": build_matrix(expanded, only_differing=only_differing) if expanded else None,
        "stale_days": stale_days(),
        "form": ImportForm(),
        "has_members": Member.objects.exists(),
    }
    return render(request, "team/team.html", context)


@require_POST
@login_required
def import_snapshot(request: HttpRequest) -> HttpResponse:
    limit = max_snapshot_bytes()
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not is_number(declared) or int(declared) > max_request_body_bytes():
        messages.error(request, f"Snapshot refused: larger than the limit of {limit} bytes.")
        return redirect("team:team")
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Snapshot refused: choose a member and a snapshot file.")
        return redirect("team:team")
    upload = form.cleaned_data["snapshot"]
    if upload.size > limit:
        messages.error(request, f"Snapshot refused: larger than the limit of {limit} bytes.")
        return redirect("team:team")
    try:
        stored = store_snapshot(form.cleaned_data["member"], parse_snapshot(upload.read()))
    except (IngestError, SnapshotError) as exc:
        messages.error(request, f"Snapshot refused: {exc}")
        return redirect("team:team")
    messages.success(
        request, f"Imported the snapshot of {stored.host} ({stored.environments} environments)."
    )
    return redirect("team:team")


def _settings_page(request: HttpRequest, *, new_token: str = "", status: int = 200) -> HttpResponse:
    context = {
        "members": Member.objects.all(),
        "tokens": MemberToken.objects.select_related("member"),
        "member_form": MemberForm(),
        "token_form": TokenForm(),
        "new_token": new_token,
        "push": PushState.objects.filter(pk=1).first(),
        "team_url": team_url(),
    }
    response = render(request, "team/settings.html", context, status=status)
    if new_token:
        # The token is shown exactly once: keep it out of every cache.
        response["Cache-Control"] = "no-store"
    return response


@require_GET
@login_required
def team_settings(request: HttpRequest) -> HttpResponse:
    return _settings_page(request)


@require_POST
@login_required
def add_member(request: HttpRequest) -> HttpResponse:
    form = MemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("team:settings")
    member = form.save()
    messages.success(request, f"Added member {member.name}.")
    return redirect("team:settings")


@require_POST
@login_required
def create_token(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose an existing member.")
    token = issue_token(form.cleaned_data["member"], form.cleaned_data["label"])
    return _settings_page(request, new_token=token, status=201)


@require_POST
@login_required
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(MemberToken, pk=token_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    messages.success(request, f"Revoked token {token.prefix}… of {token.member.name}.")
    return redirect("team:settings")
