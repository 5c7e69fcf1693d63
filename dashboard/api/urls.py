"""The JSON API's URLs, under /api/ (dashboard.urls includes them after the team app's
/api/snapshots, since the last pattern answers every other /api/ path with a JSON 404)."""

from __future__ import annotations

from django.urls import path, re_path

from dashboard.api import views

urlpatterns = [
    path("openapi.json", views.openapi, name="api-openapi"),
    # /api/environments
    path("environments", views.environments, name="api-environments"),
    path("environments/<int:pk>", views.environment, name="api-environment"),
    path("environments/<int:pk>/tree", views.environment_tree, name="api-environment-tree"),
    path("environments/<int:pk>/rescan", views.rescan_environment, name="api-environment-rescan"),
    path(
        "environments/<int:pk>/check-updates",
        views.check_updates,
        name="api-environment-check-updates",
    ),
    # /api/projects
    path("projects", views.projects, name="api-projects"),
    path("projects/<int:pk>/source", views.project_source, name="api-project-source"),
    # /api/jobs
    path("jobs", views.jobs, name="api-jobs"),
    path("jobs/<int:pk>", views.job, name="api-job"),
    path("jobs/<int:pk>/cancel", views.job_cancel, name="api-job-cancel"),
    path("jobs/<int:pk>/retry", views.job_retry, name="api-job-retry"),
    # /api/scan
    path("scan", views.scan, name="api-scan"),
    re_path(r"^(?P<rest>.*)$", views.not_found),
]
