"""Every page in the browser: accessibility (axe-core, light and dark), a 390 px wide
screen, and the job log that follows its newest line."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server, start_server, wait_for_scan
from tests.envtools import make_venv
from tests.wheelmaker import write_wheel

#: Enough packages for a job log taller than its box.
FILLERS = [f"filler{number:02d}" for number in range(1, 41)]
TABS = ("packages", "drift", "problems", "freeze", "activate")
AXE = Axe()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Iterator[Server]:
    """A server over one drifted project; pip installs offline from local wheels."""
    wheels = tmp_path_factory.mktemp("pages-wheels")
    for wheel in wheelhouse.iterdir():
        shutil.copy(wheel, wheels)
    for name in FILLERS:
        write_wheel(wheels, name, "1.0", summary=f"The {name} package")
    home = tmp_path_factory.mktemp("pages-home")
    (home / "shop").mkdir()
    (home / "shop" / "requirements.txt").write_text("alpha==1.0\nbeta==1.0\n")
    make_venv(home / "shop" / ".venv", ["alpha==1.0"], wheelhouse=wheels, with_pip=True)
    offline = {"ENVDASH_INSTALLER": "pip", "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels)}
    yield from start_server(tmp_path_factory.mktemp("pages-e2e"), [home], offline)


def _open_environment(page: Page, site: Server) -> str:
    """Log in, wait for the first scan, open the environment's page; return its URL."""
    page.goto(site.login_url)
    wait_for_scan(page, site, expected=1)
    page.get_by_role("link", name="shop/.venv").click()
    expect(page.locator("h1")).to_contain_text("shop/.venv")
    return page.url.split("?")[0]


def _install(page: Page, specs: str) -> str:
    """From the environment's page: install `specs`, wait for the job; its page's URL."""
    page.locator("#job-install").get_by_label("Install packages").fill(specs)
    page.locator("#job-install").get_by_role("button", name="Install").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator("#job-state .badge")).to_have_text("Succeeded", timeout=90_000)
    return page.url


@pytest.fixture(scope="module")
def pages(site: Server, browser: Browser) -> dict[str, str]:
    """Every page a user reaches, by name: each tab, a job, the confirmations, the errors."""
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    env = _open_environment(page, site)
    job = _install(page, "filler01")
    page.goto(env)
    page.locator("#fix-drift").get_by_role("button", name="Fix drift").click()
    expect(page.locator("#apply-plan")).to_be_visible(timeout=60_000)
    plan = page.url
    named = {
        "overview": site.url("/"),
        "environments": site.url("/environments/"),
        **{
            f"environment {tab}": f"{env}?tab={tab}"
            for tab in ("packages", "drift", "problems", "freeze", "activate")
        },
        "projects": site.url("/projects/"),
        "packages": site.url("/packages/?name=alpha&below=2"),
        "jobs": site.url("/jobs/"),
        "job": job,
        "plan": plan,
        "new environment": site.url("/environments/new/"),
        "settings": site.url("/settings/"),
        "team": site.url("/team/"),
        "team settings": site.url("/team/settings/"),
        "404": site.url("/no/such/page/"),
        "405": site.url("/rescan/"),
    }
    context.close()
    return named


def _confirmations(page: Page, env: str) -> Iterator[str]:
    """Open each confirmation page (a POST's answer) in turn; yield its name."""
    for kind in ("recreate", "delete"):
        page.goto(env)
        page.locator(f"#job-{kind}").get_by_role("button").click()
        expect(page.get_by_role("button", name=f"Yes, {kind} it")).to_be_visible()
        yield f"confirm {kind}"


def _violations(page: Page) -> list[str]:
    """axe-core's findings on the page as it is, one line each: every rule, every impact."""
    found = AXE.run(page).response["violations"]
    return [
        f"{item['id']} ({item['impact']}): {item['help']} at "
        + ", ".join(str(node["target"]) for node in item["nodes"][:3])
        for item in found
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_passes_axe(
    page: Page, site: Server, pages: dict[str, str], scheme: Literal["light", "dark"]
) -> None:
    """Every axe rule at every impact: the pages pass them all today, so any new finding,
    minor included, is a regression to look at rather than a number to watch."""
    page.emulate_media(color_scheme=scheme)
    page.goto(site.login_url)
    failures = []
    for name, url in pages.items():
        page.goto(url)
        failures += [f"{name}: {line}" for line in _violations(page)]
    failures += [
        f"{name}: {line}"
        for name in _confirmations(page, pages["environment packages"].split("?")[0])
        for line in _violations(page)
    ]
    page.context.clear_cookies()
    page.goto(site.url("/login/"))
    failures += [f"login: {line}" for line in _violations(page)]
    assert not failures, "\n".join(failures)


def test_the_job_log_follows_its_newest_line_and_polling_adds_no_blank_line(
    page: Page, site: Server
) -> None:
    _open_environment(page, site)
    _install(page, " ".join(FILLERS[1:]))
    log = page.locator("#job-log")
    page.wait_for_timeout(2_500)  # the polls after the end: the last one stops them
    to_end = "log => log.scrollHeight - log.scrollTop - log.clientHeight"
    assert log.evaluate("log => log.scrollHeight > log.clientHeight")  # taller than its box
    assert log.evaluate(to_end) < 4  # it followed the lines as they came
    polled = log.inner_text()
    assert not re.search(r"\n[ \t]*\n", polled.strip()), polled
    page.reload()  # every line once, in order: the same text as the polls built
    assert log.inner_text() == polled
    assert log.evaluate(to_end) < 4  # a finished log opens at its end
    # Scrolled up to read, the log stays put as lines arrive; back at the end, it follows.
    more = "log => log.insertAdjacentHTML('beforeend', '<span>one more</span>\\n')"
    log.evaluate("log => { log.scrollTop = 0; }")
    log.evaluate(more)
    page.wait_for_timeout(100)
    assert log.evaluate("log => log.scrollTop") == 0
    log.evaluate("log => { log.scrollTop = log.scrollHeight; }")
    log.evaluate(more)
    page.wait_for_timeout(100)
    assert log.evaluate(to_end) < 4


def test_no_page_scrolls_sideways_on_a_390px_screen(
    browser: Browser, site: Server, pages: dict[str, str]
) -> None:
    """A phone-sized screen: wide tables scroll inside their own box, never the page."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(site.login_url)
    width = "document.documentElement.scrollWidth"
    too_wide = []
    for name, url in pages.items():
        page.goto(url)
        if (measured := page.evaluate(width)) > 390:
            too_wide.append(f"{name}: {measured}px")
    for name in _confirmations(page, pages["environment packages"].split("?")[0]):
        if (measured := page.evaluate(width)) > 390:
            too_wide.append(f"{name}: {measured}px")
    page.context.clear_cookies()
    page.goto(site.url("/login/"))
    if (measured := page.evaluate(width)) > 390:
        too_wide.append(f"login: {measured}px")
    context.close()
    assert not too_wide, "\n".join(too_wide)


def test_without_javascript_every_destructive_action_asks_first(
    browser: Browser, site: Server, pages: dict[str, str]
) -> None:
    """No JavaScript, so no confirm() dialog and no polling: each destructive button leads
    to a page that says what will go, and nothing goes until its own button is pressed."""
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(15_000)
    slow = 60_000  # a plan or a preview is a job: its page reloads itself until it is done
    page = context.new_page()
    page.goto(site.login_url)
    env = pages["environment packages"].split("?")[0]
    for kind in ("delete", "recreate"):
        page.goto(env)
        page.locator(f"#job-{kind}").get_by_role("button").click()
        expect(page.locator("h1")).to_contain_text(f"{kind.capitalize()} shop/.venv?")
        expect(page.get_by_role("button", name=f"Yes, {kind} it")).to_be_visible()
        page.get_by_role("link", name="Cancel").click()
        expect(page).to_have_url(env)
    # Fix drift that also removes the untracked packages: a plan to read, then Apply.
    page.goto(env)
    fix = page.locator("#fix-drift")
    fix.get_by_role("checkbox").check()
    fix.get_by_role("button", name="Fix drift").click()
    expect(page.locator("#plan .plan-remove").first).to_be_visible(timeout=slow)
    expect(page.get_by_role("button", name=re.compile(r"^Apply \d+ changes?$"))).to_be_visible()
    # A package row's Remove: the same.
    page.goto(f"{env}?tab=packages")
    page.locator('tr[data-package="filler01"]').get_by_role("button", name="Remove").click()
    removal = page.locator('#plan tr.plan-remove[data-package="filler01"]')
    expect(removal).to_be_visible(timeout=slow)
    expect(page.get_by_role("button", name="Apply 1 change")).to_be_visible()
    # Freeze: the preview (a job page that reloads itself) shows the diff before Write.
    page.goto(env)
    page.locator("#job-freeze").get_by_role("button", name="Freeze…").click()
    expect(page.locator("#job-state .badge")).to_have_text("Succeeded", timeout=slow)
    expect(page.get_by_role("button", name=re.compile(r"^Write "))).to_be_visible()
    # Nothing was removed on the way: the untracked package is still installed.
    page.goto(f"{env}?tab=packages")
    expect(page.locator('tr[data-package="filler01"]')).to_be_visible()
    context.close()
