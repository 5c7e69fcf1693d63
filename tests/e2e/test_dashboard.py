"""A user's first minutes: log in from the printed URL, find the drifted env, rescan."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, screenshot, wait_for_scan
from tests.trees import Tree


def test_login_filter_open_drifted_and_rescan(page: Page, server: Server, env_tree: Tree) -> None:
    page.goto(server.url("/"))
    expect(page).to_have_url(re.compile(r"/login/\?next="))  # no session, no dashboard
    page.goto(server.login_url)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    wait_for_scan(page, server, expected=4)

    page.goto(server.url("/"))
    expect(page.locator(".cards")).to_contain_text("4")
    expect(page.get_by_role("img", name=re.compile("Environments by status"))).to_be_visible()
    screenshot(page, "overview")

    page.goto(server.url("/environments/"))
    screenshot(page, "environments")
    page.get_by_label("Filter").fill("proj-a")
    expect(page.locator("#env-table [role=status]")).to_have_text(
        re.compile(r"1 environment match")
    )
    expect(page).to_have_url(re.compile(r"q=proj-a"))  # the filter lives in the URL
    expect(page.locator("#env-table tbody tr")).to_have_count(1)
    page.go_back()
    expect(page.locator("#env-table tbody tr")).to_have_count(4)
    page.go_forward()
    expect(page.locator("#env-table tbody tr")).to_have_count(1)

    page.get_by_role("link", name="proj-a/.venv").click()
    alpha = page.locator('tr[data-package="alpha"]')
    expect(alpha.locator(".badge")).to_have_text("mismatch")
    expect(alpha).to_contain_text("==1.0")
    expect(page.locator("h1 .badge")).to_have_text("Drifted")
    screenshot(page, "environment-detail")

    page.get_by_role("link", name=re.compile("^Activate")).click()
    expect(page.locator(".commands")).to_contain_text(f"source {env_tree.drifted}/bin/activate")

    expect(page.locator(".messages")).to_have_count(0)
    page.get_by_role("button", name="Rescan this environment").click()
    expect(page.locator(".messages")).to_contain_text("Rescan of proj-a/.venv queued")

    page.goto(server.url("/projects/"))
    expect(page.locator("#main")).to_contain_text("proj-a")
    screenshot(page, "projects")
    page.goto(server.url("/team/"))
    screenshot(page, "team")


def test_the_overview_follows_a_rescan_by_itself(page: Page, server: Server) -> None:
    page.goto(server.login_url)
    wait_for_scan(page, server, expected=4)
    page.goto(server.url("/"))
    status = page.locator("#scan-status")
    # The worker's first scan found every environment new; a rescan finds them unchanged.
    expect(status).to_contain_text("4 environments, 4 changed, 0 unchanged")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.get_by_role("button", name="Rescan").click()
    expect(status.locator(".badge")).to_have_text("Scanning…", timeout=5_000)
    # No reload: the page's poll sees the finished scan and swaps the new figures in.
    expect(status).to_contain_text("4 environments, 0 changed, 4 unchanged", timeout=30_000)
    expect(status.get_by_role("button", name="Rescan")).to_be_enabled()
    expect(status.locator(".badge")).to_have_count(0)
    assert navigations == []


def test_a_wrong_token_does_not_log_in(page: Page, server: Server) -> None:
    page.goto(server.url("/login/?token=not-the-token"))
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    page.get_by_label("Token").fill(server.token)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
