"""The dashboard's URLs plus one view that fails, to reach handler500 for real."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path

from dashboard.urls import handler500
from dashboard.urls import urlpatterns as dashboard_urls


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a view")


urlpatterns: list[URLPattern | URLResolver] = [
    path("broken/", broken),
    path("api/broken", broken),
    *dashboard_urls,
]

__all__ = ["handler500", "urlpatterns"]
