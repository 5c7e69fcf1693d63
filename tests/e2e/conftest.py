"""Browser tests: the real `envdash serve` (waitress + worker processes) in a subprocess,
driven by Playwright in Debian's Chromium. Screenshots land in test-output/screenshots.

When the suite runs on PostgreSQL (DATABASE_URL), the server gets a database of its own,
created here and dropped afterwards; otherwise it uses SQLite in its data directory.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.serving import serve_environ, serving
from tests.trees import Tree

# Playwright's sync API runs an event loop in this thread; the ORM would refuse to run
# beside it in the other tests of the same process.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-output" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
#: The flags a sandboxed, offline CI machine needs (no background calls home).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Server:
    base_url: str
    login_url: str
    token: str
    data_dir: Path
    roots: list[Path]
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path


def _postgres_database(admin_url: str, name: str, *, drop: bool) -> None:
    import psycopg

    url = admin_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop:
            c.execute(f'CREATE DATABASE "{name}"')


def start_server(
    tmp: Path, roots: list[Path], extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """Start `envdash serve` on a free port; yield once it printed its login URL."""
    data_dir = tmp / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = serve_environ(
        data_dir,
        secrets.token_urlsafe(24),
        ENVDASH_SCAN_ROOTS=os.pathsep.join(map(str, roots)),
        ENVDASH_JOB_CONCURRENCY="1",
        **(extra_env or {}),
    )
    database_url = os.environ.get("DATABASE_URL", "")
    own_db = ""
    if database_url.startswith(("postgres://", "postgresql://")):
        own_db = f"envdash_e2e_{os.getpid()}_{secrets.token_hex(3)}"
        base, _, _ = database_url.rpartition("/")
        _postgres_database(f"{base}/postgres", own_db, drop=False)
        env["DATABASE_URL"] = f"{base}/{own_db}"
    argv = [sys.executable, "-m", "dashboard.cli", "serve", "--port", "0"]
    try:
        with serving(argv, cwd=REPO, env=env) as served:
            yield Server(
                base_url=served.base_url,
                login_url=served.login_url,
                token=served.token,
                data_dir=data_dir,
                roots=roots,
                process=served.process,
                output=served.output,
            )
    finally:
        if own_db:
            base, _, _ = database_url.rpartition("/")
            _postgres_database(f"{base}/postgres", own_db, drop=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, env_tree: Tree) -> Iterator[Server]:
    yield from start_server(tmp_path_factory.mktemp("e2e"), [env_tree.root])


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        raise AssertionError(
            f"{CHROMIUM} is missing: `python3 manage.py test` installs Debian's chromium"
        )
    with sync_playwright() as handle:
        yield handle


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    instance = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield instance
    instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_for_scan(page: Page, server: Server, expected: int, timeout: float = 60) -> None:
    """Reload the environment list until the worker's first scan has stored `expected`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.goto(server.url("/environments/"))
        if page.locator("#env-table tbody tr a").count() >= expected:
            return
        time.sleep(0.5)
    raise AssertionError("the first scan did not finish:\n" + "".join(server.output[-30:]))


__all__ = ["Server", "screenshot", "start_server", "wait_for_scan"]
