"""The dashboard runs pip: it must be locked from the first page (see issue 4, Security)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.auth import SESSION_KEY, login_token, name_cookies_for_port, session_fingerprint
from tests.dashboard.conftest import log_in, row
from tests.trees import HOSTILE_SUMMARY, Tree

PAGES = ["/", "/environments/", "/projects/", "/settings/", "/team/", "/live/"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "local_status"),
    [
        *((page, 200) for page in PAGES),
        ("/login/", 200),
        ("/api/snapshots", 405),  # the API takes only POST
        ("/static/css/envdash.css", 200),
    ],
)
def test_a_foreign_host_header_gets_400_everywhere(
    user: Client, url: str, local_status: int
) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 must get nothing,
    while the same request under the local host name gets its usual answer."""
    assert user.get(url, HTTP_HOST="evil.example").status_code == 400
    assert user.get(url, HTTP_HOST="127.0.0.1:8000").status_code == local_status


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_pages_redirect_to_login_without_a_session(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def _open_patterns(patterns: list[Any], prefix: str = "") -> list[str]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _open_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif not getattr(pattern.callback, "login_required", True):
            found.append(prefix + str(pattern.pattern))
    return found


def test_only_the_login_page_static_files_and_the_team_api_are_marked_open() -> None:
    # ...and the JSON API's OpenAPI document: a description, nothing of this machine.
    assert sorted(_open_patterns(get_resolver().url_patterns)) == [
        "^static/(?P<path>.+)$",
        "api/openapi.json",
        "api/snapshots",
        "login/",
    ]


@pytest.mark.django_db
def test_unknown_paths_need_a_session_too(client: Client) -> None:
    assert client.get("/no-such-page/")["Location"].startswith("/login/?next=")
    assert client.post("/api/no-such-call").status_code == 401
    assert client.get("/static/no-such-file.css").status_code == 404


@pytest.mark.django_db
def test_api_calls_without_credentials_get_401(client: Client) -> None:
    response = client.get("/environments/", HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401


@pytest.mark.django_db
def test_a_bearer_token_opens_any_page(client: Client) -> None:
    response = client.get("/environments/", HTTP_AUTHORIZATION=f"Bearer {login_token()}")
    assert response.status_code == 200


@pytest.mark.django_db
def test_htmx_requests_without_a_session_are_told_to_navigate(client: Client) -> None:
    response = client.get("/environments/", HTTP_HX_REQUEST="true")
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith("/login/")


@pytest.mark.django_db
def test_the_printed_url_swaps_the_token_for_a_session(client: Client) -> None:
    response = client.get(f"/login/?token={login_token()}&next=/projects/")
    assert response.status_code == 302
    assert response["Location"] == "/projects/"
    assert client.session[SESSION_KEY] == session_fingerprint()
    assert client.get("/projects/").status_code == 200


@pytest.mark.django_db
def test_a_wrong_token_is_refused_and_the_next_url_cannot_leave_the_site(client: Client) -> None:
    refused = client.get("/login/?token=guess")
    assert refused.status_code == 403
    assert b"not valid" in refused.content
    assert SESSION_KEY not in client.session
    away = client.get(f"/login/?token={login_token()}&next=https://evil.example/")
    assert away["Location"] == "/"


@pytest.mark.django_db
def test_the_token_form_works_too_and_logout_ends_the_session(client: Client) -> None:
    client.post("/login/", {"token": login_token(), "next": "/"})
    assert client.get("/").status_code == 200
    client.post("/logout/")
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_logout_ends_every_session_even_a_copied_cookie(client: Client) -> None:
    client.get(f"/login/?token={login_token()}")
    copy = Client()
    copy.cookies[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
    other = log_in(Client())
    assert copy.get("/").status_code == 200
    client.post("/logout/")
    for old in (client, copy, other):
        response = old.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_a_new_token_ends_every_session(user: Client, settings: SettingsWrapper) -> None:
    assert user.get("/").status_code == 200
    settings.FIXED_TOKEN = "a-brand-new-token"
    assert user.get("/").status_code == 302
    assert user.get("/team/").status_code == 302
    user.get("/login/?token=a-brand-new-token")
    assert user.get("/").status_code == 200


@pytest.mark.django_db
def test_the_cookie_names_carry_the_port(client: Client) -> None:
    try:
        name_cookies_for_port(43127)
        response = client.get(f"/login/?token={login_token()}")
        assert "envdash_session_43127" in response.cookies
        assert "envdash_csrftoken_43127" in client.get("/").cookies
    finally:
        name_cookies_for_port(settings.PORT)


@pytest.mark.django_db
def test_no_cookie_is_shared_across_ports(client: Client) -> None:
    client.get(f"/login/?token={login_token()}")
    client.get("/team/")
    response = client.post("/team/import/", {}, follow=True)  # a refusal: a flash message
    assert "Snapshot refused" in response.content.decode()
    names = set(client.cookies)
    assert names == {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME}
    assert all(name.endswith(f"_{settings.PORT}") for name in names)


def test_the_token_file_is_private_and_stable(settings: SettingsWrapper, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path
    settings.FIXED_TOKEN = ""
    first = login_token()
    assert len(first) >= 40
    assert stat.S_IMODE(os.stat(tmp_path / "token").st_mode) == 0o600
    assert login_token() == first
    settings.FIXED_TOKEN = "fixed-for-scripts"
    assert login_token() == "fixed-for-scripts"


@pytest.mark.django_db
def test_post_without_csrf_token_is_refused() -> None:
    strict = log_in(Client(enforce_csrf_checks=True))
    assert strict.post("/rescan/").status_code == 403
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_post_from_a_foreign_origin_is_refused_even_with_a_token() -> None:
    strict = log_in(Client(enforce_csrf_checks=True))
    page = strict.get("/")
    token = page.cookies[settings.CSRF_COOKIE_NAME].value
    evil = strict.post(
        "/rescan/", {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="http://evil.example"
    )
    assert evil.status_code == 403
    same = strict.post("/rescan/", {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="http://testserver")
    assert same.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/rescan/", "/logout/"])
def test_state_changes_are_post_only(user: Client, url: str) -> None:
    assert user.get(url).status_code == 405


@pytest.mark.django_db
def test_security_headers_and_a_strict_csp(user: Client) -> None:
    response = user.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "Access-Control-Allow-Origin" not in response
    page = response.content.decode()
    assert '"allowEval":false' in page
    assert '"allowScriptTags":false' in page
    assert '"selfRequestsOnly":true' in page
    assert "<script>" not in page  # no inline script at all
    assert "/static/django_htmx/htmx-2.min.js" in page  # htmx served locally


def test_the_served_configuration_is_not_debug() -> None:
    assert settings.DEBUG is False
    assert settings.ALLOWED_HOSTS[:3] == ["localhost", "127.0.0.1", "[::1]"]


def test_everything_from_disk_is_escaped(scanned: Tree, user: Client) -> None:
    env = row(scanned.loose)
    page = user.get(reverse("environment", args=[env.pk])).content.decode()
    assert HOSTILE_SUMMARY not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.mark.django_db
def test_unicode_digits_in_an_id_are_refused_not_a_500(client: Client) -> None:
    """ "²".isdigit() is true but int("²") fails: an id must be ASCII digits."""
    log_in(client)
    assert client.get("/environments/new/?interpreter=²").status_code == 200
    assert client.get("/environments/new/?interpreter=٣").status_code == 200


HUGE = "1" * 5000  # int() refuses more than 4300 digits
OVERFLOW = "9" * 19  # fits 19 digits, overflows a signed 64-bit column


@pytest.mark.django_db
@pytest.mark.parametrize("number", [HUGE, OVERFLOW, "99999999999999999999"])
def test_huge_numbers_in_ids_and_cursors_are_refused_not_a_500(client: Client, number: str) -> None:
    """Ids, cursors and revisions are what a database column can hold; anything longer
    is an ordinary bad value (the API's one-line 400, a page's own refusal)."""
    log_in(client)
    client.raise_request_exception = False
    assert client.get(f"/live/?since={number}&wait=0").status_code == 200
    assert client.get(f"/environments/new/?interpreter={number}").status_code == 200
    created = client.post("/environments/new/", {"path": "/nowhere/.venv", "interpreter": number})
    assert created.status_code == 400
    bearer = {"Authorization": f"Bearer {login_token()}"}
    for url in (f"/api/jobs?limit={number}", f"/api/environments?page={number}"):
        response = client.get(url, headers=bearer)
        assert response.status_code == 400, (url, response.status_code)
        assert "whole number" in response.json()["error"]
    assert client.get(f"/api/jobs/1?after={number}", headers=bearer).status_code in {400, 404}
    applied = client.post(
        "/api/jobs",
        {"kind": "apply", "environment": 1, "plan": number},
        content_type="application/json",
        headers=bearer,
    )
    assert applied.status_code in {400, 404, 409}, applied.content
    assert "error" in applied.json()
