"""The New environment page in the browser: typing a project's path changes what the
Automatic interpreter stands for (htmx asks the page for that field again), following the
project's requires-python."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, start_server, wait_for_scan
from tests.envtools import make_venv


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("create-home")
    make_venv(home / "seen" / ".venv")  # something to scan: interpreters are probed after it
    (home / "future").mkdir()
    (home / "future" / "pyproject.toml").write_text(
        '[project]\nname = "future"\nrequires-python = ">=99"\n'
    )
    yield from start_server(tmp_path_factory.mktemp("create-e2e"), [home])


def test_the_automatic_interpreter_follows_the_path_typed(site: Server, page: Page) -> None:
    page.goto(site.login_url)
    wait_for_scan(page, site, 1)
    page.goto(site.url("/environments/new/"))
    reason = page.locator("#interpreter-default")
    expect(reason).to_contain_text("Automatic is the newest installed Python", timeout=30_000)
    home = site.roots[0]
    path = page.locator("#job-create input[name=path]")
    path.fill(str(Path(home) / "future" / ".venv"))
    path.press("Tab")  # a change event: htmx fetches the interpreter field again
    expect(reason).to_contain_text("requires-python '>=99'")
    expect(reason).to_contain_text("allows none of the interpreters found on this machine")
    expect(page.locator("#job-create select[name=interpreter] option").first).to_have_text(
        "Automatic"
    )
    path.fill(str(Path(home) / "elsewhere" / ".venv"))
    path.press("Tab")
    expect(reason).to_contain_text("not past its end of life")
    expect(reason).not_to_contain_text("requires-python")
