"""URLs of the team app: the team page, its settings, upload, and the snapshots API."""

from __future__ import annotations

from django.urls import path

from dashboard.team import api, views

app_name = "team"

urlpatterns = [
    # /team/
    path("team/", views.team, name="team"),
    path("team/import/", views.import_snapshot, name="import"),
    # /team/settings/
    path("team/settings/", views.team_settings, name="settings"),
    path("team/settings/members/", views.add_member, name="add-member"),
    path("team/settings/tokens/", views.create_token, name="create-token"),
    path("team/settings/tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke-token"),
    # /api/snapshots
    path("api/snapshots", api.snapshots, name="api-snapshots"),
]
