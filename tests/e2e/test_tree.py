"""The environment page's Dependency tree in the browser: open it, filter it, ask what
requires a package; axe-core on the open tree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, screenshot, start_server, wait_for_scan
from tests.envtools import make_venv, pip
from tests.wheelmaker import write_wheel


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One project env: web → (router, templates → markup), cli → colour; markup's
    requirement on `escape>=2` is not satisfied (escape 1.0 installed)."""
    wheels = tmp_path_factory.mktemp("tree-wheels")
    write_wheel(wheels, "web", "2.1", requires=["router>=1.0", "templates[fast]~=3.0"])
    write_wheel(wheels, "router", "1.4")
    write_wheel(wheels, "templates", "3.2", requires=["markup"], extras={"fast": ["speedups"]})
    write_wheel(wheels, "markup", "0.9", requires=["escape>=2"])
    write_wheel(wheels, "escape", "1.0")
    write_wheel(wheels, "speedups", "1.1")
    write_wheel(wheels, "cli", "5.0", requires=["colour"])
    write_wheel(wheels, "colour", "0.4")
    home = tmp_path_factory.mktemp("tree-home")
    (home / "site").mkdir()
    env = make_venv(home / "site" / ".venv")
    names = ["web", "router", "templates", "markup", "escape", "speedups", "cli", "colour"]
    pip("install", "--no-index", "--no-deps", "-q", "-f", str(wheels), *names, env=env)
    yield from start_server(tmp_path_factory.mktemp("tree-e2e"), [home])


def test_open_filter_and_ask_what_requires_a_package(page: Page, site: Server) -> None:
    page.goto(site.login_url)
    wait_for_scan(page, site, expected=1)
    page.get_by_role("link", name="site/.venv").click()
    expect(page.locator("h1")).to_contain_text("site/.venv")
    environment_url = page.url
    section = page.locator("#tree-section")
    expect(section).not_to_have_attribute("open", "")
    section.locator("summary").click()
    rows = section.locator("#tree-rows > li")
    expect(rows.first).to_contain_text("cli")
    expect(section).to_contain_text("[required: Any, installed: 1.1, extra: fast]")
    expect(section.locator(".badge--mismatch")).to_have_text("not satisfied")  # escape>=2
    total = rows.count()
    section.get_by_label("Filter the tree").fill("speed")
    visible = section.locator("#tree-rows > li:not([hidden])")
    expect(visible).to_have_count(3)  # web → templates → speedups
    expect(visible.nth(2)).to_contain_text("speedups")
    expect(section.locator("[data-tree-count]")).to_have_text(f"3 of {total} rows")
    assert not Axe().run(page).response["violations"]
    screenshot(page, "dependency-tree-filtered")
    page.reload()  # (a live update replaces the section the same way)
    expect(section).to_have_attribute("open", "")
    expect(section.get_by_label("Filter the tree")).to_have_value("speed")
    expect(visible).to_have_count(3)
    section.get_by_label("Filter the tree").fill("")
    expect(section.locator("#tree-rows > li:not([hidden])")).to_have_count(total)
    section.get_by_role("link", name="what requires it (escape)").click()
    expect(section).to_contain_text("What requires escape")
    expect(section).to_contain_text("[requires: escape>=2]")
    expect(section).to_contain_text("[requires: markup]")
    expect(section).to_contain_text("[requires: templates~=3.0]")
    screenshot(page, "dependency-tree-reverse")
    assert page.url == environment_url  # swapped into the section, not a new page


def test_the_tree_is_also_a_page_filtered_by_the_server(page: Page, site: Server) -> None:
    page.goto(site.login_url)
    wait_for_scan(page, site, expected=1)
    page.get_by_role("link", name="site/.venv").click()
    tree_url = page.url.split("?")[0] + "tree/?q=colour"
    page.goto(tree_url)
    expect(page.locator("h1")).to_have_text("Dependency tree")
    expect(page.locator("#tree-rows > li:not([hidden])")).to_have_count(2)  # cli → colour
