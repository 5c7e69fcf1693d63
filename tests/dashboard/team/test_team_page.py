"""The team page: rows per member/machine environment, stale marks, matrix, escaping, queries."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dashboard.team.ingest import store_snapshot
from dashboard.team.models import Member, TeamProject
from envcore.snapshot import validate_snapshot
from tests.dashboard.team.factories import environment, snapshot

MakeToken = Callable[[str], tuple[Member, str]]


def push(
    member: str, host: str, *, when: datetime | None = None, environments: list[dict[str, Any]]
) -> None:
    owner, _ = Member.objects.get_or_create(name=member)
    store_snapshot(
        owner, validate_snapshot(snapshot(host, user=member, when=when, environments=environments))
    )


def team_of_three() -> None:
    now = datetime.now(UTC)
    push(
        "alice",
        "alice-laptop",
        environments=[
            environment("/home/alice/app/.venv", packages={"alpha": "1.0", "beta": "2.0"})
        ],
    )
    push(
        "bob",
        "bob-desktop",
        environments=[
            environment(
                "/home/bob/app/.venv",
                packages={"alpha": "1.1", "beta": "2.0"},
                summary="drifted",
                counts={"ok": 0, "mismatch": 1, "untracked": 2},
            )
        ],
    )
    push(
        "carol",
        "carol-old",
        when=now - timedelta(days=30),
        environments=[
            environment("/home/carol/app/.venv", packages={"alpha": "1.0", "beta": "2.0"})
        ],
    )


@pytest.mark.django_db
def test_it_requires_login(client: Client) -> None:
    response = client.get("/team/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert "team" in response["Location"]


@pytest.mark.django_db
def test_it_shows_one_row_per_member_machine_environment(team_client: Client) -> None:
    team_of_three()
    html = team_client.get("/team/").content.decode()
    assert html.count("<tr") - html.count("<thead><tr") == 3
    for text in ("alice-laptop", "bob-desktop", "carol-old", "github.com/acme/app", "3.11.7"):
        assert text in html
    assert 'class="team-badge team-badge--drifted">drifted<' in html
    assert 'class="team-badge team-badge--in-sync">in-sync<' in html
    assert "1 mismatch, 2 untracked" in html
    assert "1 out of step" in html


@pytest.mark.django_db
def test_it_marks_members_who_have_not_reported_as_stale(
    team_client: Client, settings: Any
) -> None:
    settings.TEAM_STALE_DAYS = 7
    team_of_three()
    html = team_client.get("/team/").content.decode()
    stale_rows = re.findall(r'<tr class="team-row--stale">.*?</tr>', html, re.S)
    assert len(stale_rows) == 1 and "carol-old" in stale_rows[0]
    assert "1 stale" in html
    settings.TEAM_STALE_DAYS = 60
    assert "team-row--stale" not in team_client.get("/team/").content.decode()


@pytest.mark.django_db
def test_expanding_a_project_shows_the_version_matrix(team_client: Client) -> None:
    team_of_three()
    project = TeamProject.objects.get()
    html = team_client.get(f"/team/?expand={project.pk}").content.decode()
    matrix = html[html.index(f'id="matrix-{project.pk}"') :]
    alpha = re.search(
        r"<tr class=\"team-row--differs\">\s*<th scope=\"row\">alpha</th>.*?</tr>", matrix, re.S
    )
    assert alpha is not None
    row = alpha.group(0)
    assert "<code>==1.0</code>" in row
    assert "<td>1.0</td>" in row  # the majority version
    assert 'team-cell team-cell--violates">1.1' in row  # bob's, off the spec
    assert "bob@bob-desktop: app/.venv" in row  # who is off the majority
    assert '<th scope="row">beta</th>' in matrix  # same everywhere, still listed


@pytest.mark.django_db
def test_the_only_differing_filter_hides_agreeing_packages(team_client: Client) -> None:
    team_of_three()
    project = TeamProject.objects.get()
    html = team_client.get(f"/team/?expand={project.pk}&only=differing").content.decode()
    assert '<th scope="row">alpha</th>' in html
    assert '<th scope="row">beta</th>' not in html
    assert "Only differing (1)" in html and "All packages (2)" in html


@pytest.mark.django_db
def test_htmx_gets_only_the_matrix_fragment(team_client: Client) -> None:
    team_of_three()
    project = TeamProject.objects.get()
    response = team_client.get(
        f"/team/?expand={project.pk}&only=differing", headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith(f'<div class="team-matrix" id="matrix-{project.pk}">')
    assert "<html" not in html and "Team status" not in html
    assert '<th scope="row">alpha</th>' in html


@pytest.mark.django_db
def test_text_from_snapshots_is_escaped(team_client: Client) -> None:
    hostile = environment(
        '/home/<img src=x onerror=alert(1)>/"app"/.venv',
        broken_reason="<script>alert(1)</script>",
        summary=None,
    )
    hostile["name"] = "app/.venv"
    push("mallory", "mallory-box", environments=[hostile])
    html = team_client.get("/team/").content.decode()
    assert "<img src=x" not in html and "<script>alert" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'team-badge--broken">broken<' in html


@pytest.mark.django_db
def test_bidi_controls_from_snapshots_are_shown_marked(team_client: Client) -> None:
    """U+202E would show `gpj.exe` reversed: every name, path and version is marked."""
    spoofed = environment("/home/m/\u202eevil\u2066/.venv", packages={"alpha": "1.0"})
    spoofed["name"] = "app\u202egpj.exe"
    push("mallory", "mallory-box", environments=[spoofed])
    project = TeamProject.objects.get()
    html = team_client.get(f"/team/?expand={project.pk}").content.decode()
    for char in "\u202e\u2066":
        assert char not in html
    assert "app⟨U+202E⟩gpj.exe" in html
    assert "/home/m/⟨U+202E⟩evil⟨U+2066⟩/.venv" in html


@pytest.mark.django_db
def test_the_team_page_is_read_only(team_client: Client) -> None:
    team_of_three()
    page = team_client.get(f"/team/?expand={TeamProject.objects.get().pk}").content.decode()
    html = page.split('<main id="main">', 1)[1]  # the page itself, not the shared header
    actions = re.findall(r'<form[^>]*action="([^"]*)"', html)
    assert actions == ["/team/import/"]
    assert "hx-post" not in html


@pytest.mark.django_db
def test_the_sparkline_draws_the_drift_history(team_client: Client) -> None:
    now = datetime.now(UTC)
    for hours, summary in ((3, "in-sync"), (2, "drifted"), (1, "drifted")):
        push(
            "alice",
            "a1",
            when=now - timedelta(hours=hours),
            environments=[environment("/a/app/.venv", summary=summary)],
        )
    html = team_client.get("/team/").content.decode()
    points = re.search(r'<polyline class="team-spark__line" points="([^"]+)"', html)
    assert points is not None and len(points.group(1).split()) == 3
    assert "now 1, peak 1" in html
    assert " style=" not in html
    assert "<script>" not in html  # only script files (the CSP forbids inline ones)


def _populate(members: range) -> None:
    for index in members:
        push(
            f"m{index}",
            f"host{index}",
            environments=[
                environment(
                    f"/h/{index}/{project}/.venv",
                    identity=f"github.com/acme/{project}",
                    packages={"alpha": f"1.{index}"},
                )
                for project in ("app", "lib", "tool")
            ],
        )


@pytest.mark.django_db
def test_the_team_page_query_count_does_not_grow_with_data(team_client: Client) -> None:
    counts = []
    for members in (range(2), range(2, 12)):
        _populate(members)
        project = TeamProject.objects.order_by("pk").first()
        assert project is not None
        for url in ("/team/", f"/team/?expand={project.pk}"):
            with CaptureQueriesContext(connection) as context:
                assert team_client.get(url).status_code == 200
            counts.append(len(context.captured_queries))
    assert counts[:2] == counts[2:], counts
    # 10 for the page itself, plus the live revision every page view reads once.
    assert max(counts) <= 11
