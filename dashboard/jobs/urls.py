from __future__ import annotations

from django.urls import path

from dashboard.jobs import plans, views

urlpatterns = [
    path("jobs/", views.jobs, name="jobs"),
    path("environments/new/", views.create, name="environment-new"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/cancel/", views.cancel, name="job-cancel"),
    path("jobs/<int:pk>/retry/", views.retry, name="job-retry"),
    # /environments/<pk>/plan/ and /environments/<pk>/plans/<job>/: plan, confirm, apply
    path("environments/<int:pk>/plan/", plans.start_plan, name="environment-plan"),
    path("environments/<int:pk>/plans/<int:job>/", plans.plan_page, name="plan"),
    path(
        "environments/<int:pk>/jobs/<slug:kind>/",
        views.start,
        name="job-start",
    ),
]
