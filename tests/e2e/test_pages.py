"""Pages in the browser: the job log that follows its newest line."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, start_server, wait_for_scan
from tests.envtools import make_venv
from tests.wheelmaker import write_wheel

#: Enough packages for a job log taller than its box.
FILLERS = [f"filler{number:02d}" for number in range(1, 41)]


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
