"""The dashboard follows the disk: changes made in a terminal (not through envdash) show up by
themselves on open pages within 3 s: a `pip install` by the venv's own pip, an edited
requirements.txt (drift), a broken interpreter link; also with the watcher polling."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Request, expect

from tests.e2e.conftest import Server, screenshot, start_server, wait_for_scan
from tests.envtools import make_venv
from tests.wheelmaker import write_wheel

#: The issue's promise: a change on disk is on an open page within 3 s.
WITHIN_MS = 3_000


@dataclass
class Home:
    root: Path
    project: Path
    env: Path
    wheels: Path


def build_home(root: Path, wheelhouse: Path) -> Home:
    """One project in sync (alpha==1.0 required and installed), its venv with pip in it."""
    project = root / "shop"
    project.mkdir(parents=True)
    (project / "requirements.txt").write_text("alpha==1.0\n")
    env = make_venv(project / ".venv", ["alpha==1.0"], wheelhouse=wheelhouse, with_pip=True)
    wheels = root.parent / f"{root.name}-wheels"
    write_wheel(wheels, "omega", "1.0", summary="Installed from a terminal")
    write_wheel(wheels, "sigma", "1.0", summary="Installed while the tab was hidden")
    return Home(root, project, env, wheels)


def terminal(*argv: str | Path) -> float:
    """Run a command as a user would in a terminal (not through envdash); when it ended."""
    subprocess.run([str(arg) for arg in argv], check=True, capture_output=True, timeout=120)
    return time.monotonic()


def pip_install(home: Home, name: str) -> float:
    python = home.env / "bin" / "python"
    return terminal(
        python, "-m", "pip", "install", "-q", "--no-index", "--find-links", home.wheels, name
    )


def shown_within(ended: float) -> float:
    """Seconds from `ended` until now (the expect() that waited just returned)."""
    return time.monotonic() - ended


def api_packages(server: Server, page_url: str) -> dict[str, str]:
    """GET /api/environments/<id> (the Bearer token, as a script would): name → version."""
    env_id = re.search(r"/environments/(\d+)/", page_url)
    assert env_id, page_url
    request = urllib.request.Request(  # noqa: S310 - the test server's loopback URL
        server.url(f"/api/environments/{env_id.group(1)}"),
        headers={"Authorization": f"Bearer {server.token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        detail = json.loads(response.read())
    return {package["name"]: package["version"] for package in detail["packages"]}


def wait_until_followed(page: Page, server: Server, how: re.Pattern[str]) -> None:
    """Reload Settings until the watcher says it follows the environment the first scan
    found (it takes in new environments at its next look, every 5 s)."""
    deadline = time.monotonic() + 30
    while True:
        page.goto(server.url("/settings/"))
        shown = page.locator("#main").inner_text()
        if how.search(shown.lower()):
            return
        assert time.monotonic() < deadline, shown
        time.sleep(0.5)


def open_pages(browser: Browser, server: Server, env_name: str) -> tuple[Page, Page, Page, str]:
    """(environment page, environment list, overview) in one logged-in browser."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.set_default_timeout(15_000)
    detail = context.new_page()
    detail.goto(server.login_url)
    wait_for_scan(detail, server, expected=1)
    detail.get_by_role("link", name=env_name).click()
    expect(detail).to_have_url(re.compile(r"/environments/\d+/$"))
    listing = context.new_page()
    wait_until_followed(listing, server, re.compile(r"(watching|polling) [1-9]\d* paths"))
    listing.goto(server.url("/environments/"))
    overview = context.new_page()
    overview.goto(server.url("/"))
    return detail, listing, overview, detail.url


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Home:
    return build_home(tmp_path_factory.mktemp("follow") / "home", wheelhouse)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, home: Home) -> Iterator[Server]:
    yield from start_server(tmp_path_factory.mktemp("follow-e2e"), [home.root])


def test_terminal_changes_show_on_open_pages_within_3_s(
    browser: Browser, server: Server, home: Home
) -> None:
    detail, listing, overview, env_url = open_pages(browser, server, "shop/.venv")
    navigations: list[str] = []
    for page in (detail, listing, overview):
        page.on("framenavigated", lambda frame: navigations.append(frame.url))
    expect(detail.locator("h1 .badge")).to_have_text("In sync")
    row = listing.locator("#env-table tbody tr", has_text="shop/.venv")
    cards = overview.locator(".cards")
    count = row.locator("td.num").first
    before = int(count.inner_text())  # alpha, and the venv's pip (and setuptools)
    expect(cards).to_contain_text(re.compile(r"1\s+In sync"))

    # 1. pip install in a terminal: the package row, the count in the list.
    ended = pip_install(home, "omega")
    expect(detail.locator('tr[data-package="omega"]')).to_contain_text("1.0", timeout=WITHIN_MS)
    installed_after = shown_within(ended)
    expect(count).to_have_text(str(before + 1), timeout=WITHIN_MS)
    assert api_packages(server, env_url)["omega"] == "1.0"  # stored: the API says it too
    screenshot(detail, "follow-installed")

    # 2. requirements.txt edited: the missing requirement is drift, everywhere.
    (home.project / "requirements.txt").write_text("alpha==1.0\nbeta==1.0\n")
    ended = time.monotonic()
    expect(detail.locator("h1 .badge")).to_have_text("Drifted", timeout=WITHIN_MS)
    drift_after = shown_within(ended)
    expect(detail.get_by_role("link", name="Drift (1)")).to_be_visible()
    expect(row.locator(".badge")).to_have_text("Drifted", timeout=WITHIN_MS)
    expect(cards).to_contain_text(re.compile(r"1\s+Drifted"), timeout=WITHIN_MS)
    expect(cards).to_contain_text(re.compile(r"0\s+In sync"))

    # 3. The interpreter link broken (its target removed, as an uninstalled Python leaves it).
    link = home.env / "bin" / "python"
    target = os.readlink(link)
    spare = link.with_name("python.relinked")
    spare.symlink_to(home.root / "gone-python" / "bin" / "python3")
    os.replace(spare, link)
    ended = time.monotonic()
    try:
        expect(detail.locator("h1 .badge")).to_have_text("Broken", timeout=WITHIN_MS)
        broken_after = shown_within(ended)
        expect(row.locator(".badge")).to_have_text("Broken", timeout=WITHIN_MS)
        expect(cards).to_contain_text(re.compile(r"1\s+Broken"), timeout=WITHIN_MS)
        expect(overview.locator("tr.attention", has_text="shop/.venv")).to_be_visible()
        screenshot(overview, "follow-broken-overview")
    finally:
        spare.symlink_to(target)
        os.replace(spare, link)
    assert navigations == []  # no reload: the live regions were swapped in place
    print(
        f"shown after: install {installed_after:.2f} s, drift {drift_after:.2f} s, "
        f"broken {broken_after:.2f} s"
    )


def seven_windows(
    browser: Browser, server: Server, init_script: str
) -> tuple[BrowserContext, list[Page], list[tuple[int, str]]]:
    """Seven logged-in windows of one browser on the environment list, and the /live/
    questions each asked (window index, URL) from its first load on."""
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    context.add_init_script(init_script)
    context.set_default_timeout(15_000)
    first = context.new_page()
    first.goto(server.login_url)
    asked: list[tuple[int, str]] = []
    pages = [first, *(context.new_page() for _ in range(6))]
    for index, page in enumerate(pages):

        def note(request: Request, index: int = index) -> None:
            if "/live/" in request.url:
                asked.append((index, request.url))

        page.on("request", note)
        page.goto(server.url("/environments/"))
    return context, pages, asked


def package_count(page: Page) -> Locator:
    return page.locator("#env-table tbody tr", has_text="shop/.venv").locator("td.num").first


def test_many_open_windows_share_one_held_question(
    browser: Browser, server: Server, home: Home
) -> None:
    """A browser opens at most 6 connections to one host: a held question in each of 7
    windows would make a click wait 25 s. The windows elect one to hold the question (a
    Web Lock) and it tells the others (a BroadcastChannel): a click loads at once, and a
    change shows in every window within 3 s, also after the holding window is closed."""
    context, pages, asked = seven_windows(browser, server, "")
    time.sleep(2.5)  # every window has loaded and queued for the lock
    askers = {index for index, _ in asked}
    assert len(askers) == 1 and all("wait=25" in url for _, url in asked), asked
    started = time.monotonic()
    clicked = next(page for index, page in enumerate(pages) if index not in askers)
    clicked.get_by_role("link", name="Projects").click()
    expect(clicked.locator("h1")).to_have_text("Projects", timeout=5_000)
    assert time.monotonic() - started < 5
    listing = [page for page in pages if page is not clicked]

    write_wheel(home.wheels, "tau", "1.0", summary="Installed with seven windows open")
    before = int(package_count(listing[0]).inner_text())
    pip_install(home, "tau")
    for page in listing:
        expect(package_count(page)).to_have_text(str(before + 1), timeout=WITHIN_MS)

    (holder,) = askers
    pages[holder].close()  # the next window takes the lock over
    listing.remove(pages[holder])
    write_wheel(home.wheels, "upsilon", "1.0", summary="Installed after the holder closed")
    pip_install(home, "upsilon")
    for page in listing:
        expect(package_count(page)).to_have_text(str(before + 2), timeout=WITHIN_MS)
    held = [index for index, url in asked if "wait=25" in url]
    assert len(set(held)) >= 2  # another window held the question after the first closed
    context.close()


def test_without_web_locks_only_the_focused_window_holds(
    browser: Browser, server: Server, home: Home
) -> None:
    """A browser without Web Locks (a team server over plain http is no secure context):
    unfocused windows ask quick questions every 2 s, so a click still loads at once and a
    change shows within one pause of 2 s plus the server's time."""
    context, pages, asked = seven_windows(
        browser,
        server,
        "delete Navigator.prototype.locks; document.hasFocus = () => false;",
    )
    time.sleep(2.5)  # every window asked at least once
    assert {index for index, _ in asked} == set(range(7)), asked
    assert all("wait=0" in url for _, url in asked), asked
    started = time.monotonic()
    pages[0].get_by_role("link", name="Projects").click()
    expect(pages[0].locator("h1")).to_have_text("Projects", timeout=5_000)
    assert time.monotonic() - started < 5
    write_wheel(home.wheels, "phi", "1.0", summary="Installed with seven windows polling")
    before = int(package_count(pages[-1]).inner_text())
    pip_install(home, "phi")
    expect(package_count(pages[-1])).to_have_text(str(before + 1), timeout=WITHIN_MS + 2_000)
    context.close()


#: What a browser does when its tab goes to the background, and back.
SET_HIDDEN = """hidden => {
  Object.defineProperty(document, "hidden", { value: hidden, configurable: true });
  Object.defineProperty(document, "visibilityState", {
    value: hidden ? "hidden" : "visible", configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_a_hidden_tab_asks_nothing_and_catches_up_when_shown_then_the_env_vanishes(
    browser: Browser, server: Server, home: Home
) -> None:
    detail, listing, _, _ = open_pages(browser, server, "shop/.venv")
    asked: list[str] = []
    detail.on("request", lambda request: asked.append(request.url))
    count = listing.locator("#env-table tbody tr", has_text="shop/.venv").locator("td.num")
    before = int(count.first.inner_text())
    detail.evaluate(SET_HIDDEN, True)
    pip_install(home, "sigma")
    # Stored and shown on the visible tab...
    expect(count.first).to_have_text(str(before + 1), timeout=WITHIN_MS)
    # ...while the hidden one asked nothing and still shows the old list.
    assert asked == []
    expect(detail.locator('tr[data-package="sigma"]')).to_have_count(0)
    detail.evaluate(SET_HIDDEN, False)
    expect(detail.locator('tr[data-package="sigma"]')).to_have_count(1, timeout=WITHIN_MS)
    assert any("/live/" in url for url in asked)

    # The environment deleted in a terminal: gone from the list, "Gone" on its page.
    shutil.rmtree(home.env)
    expect(listing.locator("#env-table tbody tr", has_text="shop/.venv")).to_have_count(
        0, timeout=WITHIN_MS
    )
    expect(detail.locator("h1 .badge")).to_have_text("Gone", timeout=WITHIN_MS)


@pytest.fixture(scope="module")
def polled_home(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Home:
    return build_home(tmp_path_factory.mktemp("follow-poll") / "home", wheelhouse)


@pytest.fixture(scope="module")
def polling_server(tmp_path_factory: pytest.TempPathFactory, polled_home: Home) -> Iterator[Server]:
    yield from start_server(
        tmp_path_factory.mktemp("follow-poll-e2e"), [polled_home.root], {"ENVDASH_WATCH": "poll"}
    )


def test_with_the_watcher_polling_an_install_still_shows_within_3_s(
    browser: Browser, polling_server: Server, polled_home: Home
) -> None:
    detail, listing, _, _ = open_pages(browser, polling_server, "shop/.venv")
    wait_until_followed(listing, polling_server, re.compile(r"polling [1-9]\d* paths every"))
    ended = pip_install(polled_home, "omega")
    expect(detail.locator('tr[data-package="omega"]')).to_contain_text("1.0", timeout=WITHIN_MS)
    print(f"polling: shown {shown_within(ended):.2f} s after pip ended")
