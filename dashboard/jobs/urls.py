from __future__ import annotations

from django.urls import path

from dashboard.jobs import views

urlpatterns = [
    path("jobs/", views.jobs, name="jobs"),
    path("environments/new/", views.create, name="environment-new"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/cancel/", views.cancel, name="job-cancel"),
    path("jobs/<int:pk>/retry/", views.retry, name="job-retry"),
    path(
        "environments/<int:pk>/jobs/<slug:kind>/",
        views.start,
        name="job-start",
    ),
]
