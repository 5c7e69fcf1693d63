"""404, 405 and 500 answer in the site's layout, with its navigation (DEBUG off)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

NAV = '<nav aria-label="Main">'


def test_an_unknown_page_is_a_404_in_the_layout(db: None, user: Client) -> None:
    assert not settings.DEBUG
    response = user.get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert NAV in body and "<h1>Page not found</h1>" in body
    assert "<code>/no/such/page/</code>" in body


def test_a_page_asked_with_the_wrong_method_is_a_405_in_the_layout(db: None, user: Client) -> None:
    response = user.get("/rescan/")  # takes only POST
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    body = response.content.decode()
    assert NAV in body and "That cannot be done with GET" in body


def test_the_api_and_htmx_keep_their_bare_405(db: None, user: Client) -> None:
    assert user.get("/api/snapshots").content == b""
    fragment = user.get("/rescan/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 405 and fragment.content == b""


@pytest.mark.urls("tests.dashboard.error_urls")
def test_a_failing_view_is_a_500_in_the_layout_without_the_database(db: None, user: Client) -> None:
    user.raise_request_exception = False
    response = user.get("/broken/")
    assert response.status_code == 500
    body = response.content.decode()
    assert NAV in body and "Something went wrong on envdash" in body
    assert "No worker is running" not in body  # nothing asked the database
    assert "RuntimeError" not in body  # no traceback for the browser


@pytest.mark.urls("tests.dashboard.error_urls")
def test_the_api_answers_a_failing_view_with_one_json_line(db: None, user: Client) -> None:
    user.raise_request_exception = False
    response = user.get("/api/broken")
    assert response.status_code == 500
    assert response.json() == {"error": "internal error; the server's log says more"}
