"""Error pages in the site's layout: 404 and 500 through Django's handlers, 405 (which
Django answers with an empty body from `require_http_methods`) through a middleware.
Under /api/, 400 (a Host not allowed) and 500 answer the JSON API's one-line
`{"error": ...}` instead of a page."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token

__all__ = ["NotAllowedPageMiddleware", "bad_request", "server_error"]


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400 (Django's for a Host not in ALLOWED_HOSTS, or another suspicious request):
    Django's own answer for pages, one JSON line for the API."""
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, DisallowedHost):
        message = "this dashboard does not answer to that Host header (ENVDASH_ALLOWED_HOSTS)"
    else:
        message = "bad request"
    return JsonResponse({"error": message}, status=400)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the layout without anything that reads the database (which may be
    what failed): no context processors, so no worker banner, messages or live poll.
    The API gets one JSON line (never a traceback either way)."""
    if _is_api(request):
        return JsonResponse({"error": "internal error; the server's log says more"}, status=500)
    return HttpResponse(render_to_string("500.html"), status=500)


class NotAllowedPageMiddleware:
    """A page answered 405 with nothing to show (Django's HttpResponseNotAllowed): render
    405.html in its place, keeping the status and the Allow header. The JSON API, htmx
    requests and any 405 that already has a body keep their answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            isinstance(response, HttpResponseNotAllowed)
            and not response.content
            and not request.path.startswith("/api/")
            and "HX-Request" not in request.headers
        ):
            page = HttpResponse(
                render_to_string("405.html", {"method": request.method}, request), status=405
            )
            page["Allow"] = response["Allow"]
            return page
        return response
