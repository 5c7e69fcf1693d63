"""The source chooser in the browser: an environment held to its project's uv.lock, the user
holds the project to requirements.txt instead, and the page shows it compared again, by
itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, screenshot, start_server, wait_for_scan
from tests.locked import build_shop, pyproject


@pytest.fixture(scope="module")
def shop_server(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Iterator[Server]:
    """shop: uv.lock pins alpha 2.0, requirements.txt alpha 1.0, its .venv has alpha 1.0."""
    home = tmp_path_factory.mktemp("shop-home")
    build_shop(home, wheelhouse, ["alpha==1.0"])
    yield from start_server(tmp_path_factory.mktemp("shop-e2e"), [home])


def test_holding_the_project_to_requirements_txt_re_drifts_its_env(
    page: Page, shop_server: Server
) -> None:
    page.goto(shop_server.login_url)
    wait_for_scan(page, shop_server, expected=1)
    page.get_by_role("link", name="shop/.venv").click()
    source = page.locator("#env-source")
    expect(page.locator("h1 .badge")).to_have_text("Drifted")
    expect(source).to_contain_text(
        "Held to uv.lock — the project's lock file, more exact than pyproject.toml's ranges"
    )
    expect(source).to_contain_text("Selection: project shop with")
    screenshot(page, "source-lock")

    page.get_by_label("Hold shop to").select_option(label="requirements.txt")
    source.get_by_role("button", name="Save").click()
    saved = page.locator("#messages")
    expect(saved).to_contain_text("Saved: held to requirements.txt")
    # No reload by the test: the worker rescans, the live page fetches itself again...
    expect(page.locator("h1 .badge")).to_have_text("In sync", timeout=60_000)
    # ...and the note stays (it is outside the live region the update swapped).
    expect(saved).to_contain_text("Saved: held to requirements.txt")
    expect(page.locator("#env-source")).to_contain_text("Held to requirements.txt — chosen by you")
    expect(page.get_by_label("Hold shop to")).to_have_value(
        str(Path(shop_server.roots[0]) / "shop" / "requirements.txt")
    )
    screenshot(page, "source-chosen")


def test_back_to_automatic_then_a_pyproject_edit_shows_the_lock_out_of_date(
    page: Page, shop_server: Server
) -> None:
    """Automatic (again, after the test above), then the project asks for what the lock
    does not hold: the watcher sees pyproject.toml change and the page warns by itself."""
    page.goto(shop_server.login_url)
    wait_for_scan(page, shop_server, expected=1)
    page.get_by_role("link", name="shop/.venv").click()
    page.get_by_label("Hold shop to").select_option(label="automatic")
    page.locator("#env-source").get_by_role("button", name="Save").click()
    expect(page.locator("#env-source")).to_contain_text("Held to uv.lock", timeout=60_000)
    expect(page.locator("#env-source")).not_to_contain_text("Lock out of date")

    project = Path(shop_server.roots[0]) / "shop"
    (project / "pyproject.toml").write_text(pyproject(["alpha<2"]))
    warning = page.locator("#env-source .note--warning")
    expect(warning).to_contain_text("Lock out of date:", timeout=60_000)
    expect(page.locator("h1 .badge")).to_have_text("Drifted")
    screenshot(page, "source-lock-out-of-date")
