"""The fix loop in the browser: Fix drift shows its plan, the user applies it, and the page
shows the environment in sync by itself; a missing package installed from its row; a broken
environment recreated."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, screenshot, start_server, wait_for_scan
from tests.envtools import make_venv


@pytest.fixture(scope="module")
def fix_server(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Iterator[Server]:
    """shop: alpha 1.0 where 1.1 is required and beta missing; cafe: only beta missing;
    mill: a venv whose interpreter link is gone (broken). pip installs offline from wheels."""
    home = tmp_path_factory.mktemp("fix-home")
    for name, requirements, packages in (
        ("shop", "alpha==1.1\nbeta==1.0\n", ["alpha==1.0"]),
        ("cafe", "alpha==1.0\nbeta==1.0\n", ["alpha==1.0"]),
        ("mill", "alpha==1.0\n", ["alpha==1.0"]),
    ):
        (home / name).mkdir()
        (home / name / "requirements.txt").write_text(requirements)
        make_venv(home / name / ".venv", packages, wheelhouse=wheelhouse, with_pip=True)
    for link in (home / "mill" / ".venv" / "bin").glob("python*"):
        link.unlink()
    offline = {"ENVDASH_INSTALLER": "pip", "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse)}
    yield from start_server(tmp_path_factory.mktemp("fix-e2e"), [home], offline)


def _open(page: Page, server: Server, name: str) -> None:
    page.goto(server.login_url)
    wait_for_scan(page, server, expected=3)
    page.get_by_role("link", name=f"{name}/.venv").click()


def test_fix_drift_plan_confirm_and_the_page_shows_in_sync(page: Page, fix_server: Server) -> None:
    _open(page, fix_server, "shop")
    expect(page.locator("h1 .badge")).to_have_text("Drifted")
    page.get_by_role("button", name="Fix drift").click()

    expect(page).to_have_url(re.compile(r"/plans/\d+/$"))
    plan = page.locator("#plan")
    alpha = plan.locator('tr[data-package="alpha"] td')
    expect(alpha).to_have_text(["alpha", "upgrade", "1.0", "1.1"], timeout=60_000)
    expect(plan.locator('tr[data-package="beta"] td')).to_have_text(["beta", "install", "—", "1.0"])
    screenshot(page, "fix-plan")
    page.get_by_role("button", name="Apply 2 changes").click()

    expect(page).to_have_url(re.compile(r"/environments/\d+/\?job=\d+$"))
    expect(page.locator("#env-job")).to_be_visible()
    # No reload by the test: the page follows the job and shows the rescanned state.
    expect(page.locator("h1 .badge")).to_have_text("In sync", timeout=60_000)
    expect(page.locator("#env-job")).to_contain_text("Done")
    expect(page.get_by_role("button", name="Fix drift")).to_have_count(0)
    screenshot(page, "fix-done")


def test_a_missing_package_is_installed_from_its_row(page: Page, fix_server: Server) -> None:
    _open(page, fix_server, "cafe")
    beta = page.locator('tr[data-package="beta"]')
    expect(beta).to_contain_text("not installed")
    beta.get_by_role("button", name="Install beta ==1.0").click()

    expect(page.locator('#plan tr[data-package="beta"] td')).to_have_text(
        ["beta", "install", "—", "1.0"], timeout=60_000
    )
    page.get_by_role("button", name="Apply 1 change").click()
    expect(page.locator("h1 .badge")).to_have_text("In sync", timeout=60_000)
    expect(page.locator('tr[data-package="beta"]')).not_to_contain_text("not installed")


def test_a_broken_environment_leads_with_recreate(page: Page, fix_server: Server) -> None:
    _open(page, fix_server, "mill")
    expect(page.locator("h1 .badge")).to_have_text("Broken")
    actions = page.locator("#env-actions")
    expect(actions.locator("button.primary")).to_have_text(["Recreate…"])
    expect(actions.get_by_role("button", name="Install")).to_have_count(0)
    expect(page.locator('tr[data-package="alpha"] button')).to_have_count(0)
    screenshot(page, "broken-env")
    actions.get_by_role("button", name="Recreate…").click()

    page.get_by_role("button", name="Yes, recreate it").click()
    expect(page.locator("#job-state .badge")).to_have_text("Succeeded", timeout=120_000)
    page.get_by_role("link", name="mill/.venv").click()
    expect(page.locator("h1 .badge")).to_have_text("In sync")
