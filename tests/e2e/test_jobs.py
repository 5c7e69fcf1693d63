"""Jobs in the browser: install a missing package, watch the log stream, freeze with a diff."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, screenshot, start_server, wait_for_scan
from tests.envtools import make_venv


@pytest.fixture(scope="module")
def job_server(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Iterator[Server]:
    """A server over one project whose env lacks beta; pip installs offline from wheels."""
    home = tmp_path_factory.mktemp("jobs-home")
    (home / "shop").mkdir()
    (home / "shop" / "requirements.txt").write_text("alpha==1.0\nbeta==1.0\n")
    make_venv(home / "shop" / ".venv", ["alpha==1.0"], wheelhouse=wheelhouse, with_pip=True)
    offline = {
        "ENVDASH_INSTALLER": "pip",
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
    }
    yield from start_server(tmp_path_factory.mktemp("jobs-e2e"), [home], offline)


def test_install_watch_the_log_then_freeze(page: Page, job_server: Server) -> None:
    page.goto(job_server.login_url)
    wait_for_scan(page, job_server, expected=1)
    page.get_by_role("link", name="shop/.venv").click()
    expect(page.locator("h1 .badge")).to_have_text("Drifted")  # beta is missing

    env_url = page.url
    page.locator("#job-install").get_by_label("Install packages").fill("beta==1.0")
    page.locator("#job-install").get_by_role("button", name="Install").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    # The environment's page, open in another tab while the job runs, with a half-typed
    # install in its box: the page updates itself, never under the user's cursor.
    env_tab = page.context.new_page()
    env_tab.goto(env_url)
    expect(env_tab.locator("h1 .badge")).to_have_text("Drifted")
    box = env_tab.locator("#job-install").get_by_label("Install packages")
    box.fill("rich")

    log = page.locator("#job-log")
    # Lines arrive while the job runs: the command first, then pip's own output.
    expect(log).to_contain_text("$ ", timeout=20_000)
    expect(page.locator("#job-state .badge")).to_have_text("Succeeded", timeout=60_000)
    expect(log).to_contain_text("Successfully installed beta-1.0")
    expect(page.locator("#job-state")).to_contain_text("+ beta 1.0")
    screenshot(page, "job-install")

    page.get_by_role("link", name="shop/.venv").click()
    expect(page.locator("h1 .badge")).to_have_text("In sync")  # re-inspected after the job

    env_tab.wait_for_timeout(2_500)  # a poll saw the change: the focused box holds it back
    expect(env_tab.locator("h1 .badge")).to_have_text("Drifted")
    box.blur()
    expect(env_tab.locator("h1 .badge")).to_have_text("In sync", timeout=10_000)
    expect(box).to_have_value("rich")  # what the user typed survives the update
    env_tab.close()

    page.locator("#job-freeze").get_by_label("Freeze mode").select_option("update")
    page.locator("#job-freeze").get_by_role("button", name="Freeze…").click()
    expect(page.locator("#job-state .badge")).to_have_text("Succeeded", timeout=60_000)
    expect(page.locator("#main")).to_contain_text("No change", ignore_case=True)
    screenshot(page, "job-freeze")

    page.goto(job_server.url("/jobs/"))
    expect(page.locator("table.data tbody tr")).to_have_count(2)
    screenshot(page, "jobs")
