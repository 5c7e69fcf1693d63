"""The request the views receive: Django's, plus `request.htmx` (django-htmx's middleware)
and `request.revision` (dashboard.live's middleware, on page views)."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

__all__ = ["HtmxHttpRequest"]


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    revision: int
