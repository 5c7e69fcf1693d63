from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles.views import serve
from django.http import HttpRequest, HttpResponseBase
from django.urls import URLPattern, URLResolver, include, path, re_path

from dashboard import tree, views


@login_not_required
def static_file(request: HttpRequest, path: str) -> HttpResponseBase:
    """A local tool has no front web server: serve the few static files ourselves."""
    return serve(request, path, insecure=True)


#: 404 is Django's own handler with templates/404.html; 405 is dashboard.errors' middleware.
handler500 = "dashboard.errors.server_error"
#: Django's own 400 for pages; one JSON line under /api/ (a Host not allowed, say).
handler400 = "dashboard.errors.bad_request"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.overview, name="overview"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("environments/", views.environments, name="environments"),
    path("environments/<int:pk>/", views.environment_detail, name="environment"),
    path("environments/<int:pk>/rescan/", views.rescan_environment, name="environment-rescan"),
    path("environments/<int:pk>/updates/", views.check_updates, name="environment-updates"),
    path("environments/<int:pk>/tree/", tree.environment_tree, name="environment-tree"),
    path("environments/<int:pk>/source/", views.environment_source, name="environment-source"),
    path("packages/", views.packages, name="packages"),
    path("projects/", views.projects, name="projects"),
    path("rescan/", views.rescan, name="rescan"),
    path("live/", views.live, name="live"),
    path("settings/", views.settings_page, name="settings"),
    path("", include("dashboard.jobs.urls")),
    path("", include("dashboard.team.urls")),
    path("api/", include("dashboard.api.urls")),  # after the team's /api/snapshots
    re_path(r"^static/(?P<path>.+)$", static_file),
]
