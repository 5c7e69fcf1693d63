"""Change on disk → the JSON API shows it: a `pip install` / `pip uninstall` of a small wheel
run by the venv's own pip in a terminal-like subprocess (not through envdash), then
`GET /api/environments/<id>` read every 25 ms until its packages say so.

The real `envdash serve` from this checkout (its watcher following the disk) over one
project with a venv. Times from pip's exit (what the user waits for after the command
returned) and from pip's start; beside it, when an open environment page (Debian's
Chromium) showed it (a MutationObserver in the page notes the time). The peer, run right
after each change: what a user types today to see it, `pip list` in the venv (its whole
run). With --old-way, the same rounds on a `serve --no-watch` where the script asks for the
rescan (POST /api/environments/<id>/rescan) as soon as pip ended, as a user clicking
Rescan would.
Usage: .venv/bin/python benchmarks/bench_follow.py [--changes 20] [--old-way]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.envtools import make_venv
from tests.serving import Serving, serve_environ, serving
from tests.wheelmaker import write_wheel

REPO = Path(__file__).resolve().parent.parent
#: How often the API is read while waiting (its resolution).
READ_EVERY = 0.025


def api(served: Serving, path: str, method: str = "GET") -> object:
    request = urllib.request.Request(  # noqa: S310 - loopback http URL of our own server
        served.url(path), method=method, headers={"Authorization": f"Bearer {served.token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def packages(served: Serving, env_id: int) -> set[str]:
    detail = api(served, f"/api/environments/{env_id}")
    assert isinstance(detail, dict)
    return {str(package["name"]).lower() for package in detail["packages"]}


def find_env(served: Serving, path: Path, timeout: float = 120) -> int:
    """The environment's id, once the first scan stored it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = api(served, "/api/environments")
        assert isinstance(listed, list)
        for env in listed:
            if env["path"] == str(path):
                return int(env["id"])
        time.sleep(0.5)
    raise SystemExit("the first scan did not store the environment:\n" + "".join(served.output))


def pip(env: Path, *args: str) -> tuple[float, float]:
    """(start, end) of the venv's own pip, as typed in a terminal."""
    started = time.monotonic()
    subprocess.run(
        [str(env / "bin" / "python"), "-m", "pip", *args], check=True, capture_output=True
    )
    return started, time.monotonic()


#: Set before each change: the page notes (epoch ms) when the omega row is as expected.
OBSERVE = """installing => {
  window.shownAt = null;
  const check = () => {
    const present = !!document.querySelector('tr[data-package="omega"]');
    if (present === installing && window.shownAt === null) window.shownAt = Date.now();
  };
  new MutationObserver(check).observe(document.body, { childList: true, subtree: true });
}"""


def open_page(browser: Browser, served: Serving, env_id: int) -> Page:
    page = browser.new_page()
    page.goto(served.login_url)
    page.goto(served.url(f"/environments/{env_id}/"))
    return page


def rounds(
    served: Serving, env: Path, wheels: Path, changes: int, *, ask_rescan: bool, page_of: Browser
) -> list[dict[str, float]]:
    env_id = find_env(served, env)
    page = open_page(page_of, served, env_id)
    time.sleep(3)  # the workers' and the watcher's start-up work is done
    results = []
    for index in range(changes):
        installing = index % 2 == 0
        page.evaluate(OBSERVE, installing)
        epoch = time.time() - time.monotonic()  # monotonic → epoch, for the page's clock
        if installing:
            started, ended = pip(
                env, "install", "-q", "--no-index", "--find-links", str(wheels), "omega"
            )
        else:
            started, ended = pip(env, "uninstall", "-q", "-y", "omega")
        if ask_rescan:
            api(served, f"/api/environments/{env_id}/rescan", method="POST")
        deadline = ended + 30
        while ("omega" in packages(served, env_id)) != installing:
            if time.monotonic() > deadline:
                raise SystemExit(f"change {index} not shown after 30 s")
            time.sleep(READ_EVERY)
        shown = time.monotonic()
        while (noted := page.evaluate("() => window.shownAt")) is None:  # CSP: no eval
            if time.monotonic() > deadline:
                raise SystemExit(f"change {index} not on the page after 30 s")
            time.sleep(READ_EVERY)
        on_page = noted / 1000 - epoch
        listed, listed_end = pip(env, "list")
        results.append(
            {
                "page_after_exit": on_page - ended,
                "after_exit": shown - ended,
                "after_start": shown - started,
                "pip": ended - started,
                "pip_list": listed_end - listed,
            }
        )
        time.sleep(0.5)  # the next change is a new one, not part of this one's events
    return results


def serve(work: Path, name: str, root: Path, *extra: str) -> tuple[list[str], dict[str, str]]:
    env = serve_environ(
        work / f"data-{name}",
        secrets.token_urlsafe(24),
        ENVDASH_SCAN_ROOTS=str(root),
        ENVDASH_OFFLINE="1",
        DATABASE_URL=os.environ.get("DATABASE_URL", ""),
    )
    return [sys.executable, "-m", "dashboard.cli", "serve", "--port", "0", *extra], env


def home(work: Path, name: str, wheels: Path) -> tuple[Path, Path]:
    root = work / name
    project = root / "shop"
    project.mkdir(parents=True)
    (project / "requirements.txt").write_text("alpha==1.0\n")
    env = make_venv(project / ".venv", ["alpha==1.0"], wheelhouse=wheels, with_pip=True)
    return root, env


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def report(label: str, rows: list[dict[str, float]]) -> None:
    exit_ = [row["after_exit"] for row in rows]
    start = [row["after_start"] for row in rows]
    page = [row["page_after_exit"] for row in rows]
    listed = statistics.median(row["pip_list"] for row in rows)
    print(
        f"| {label} | {statistics.median(exit_):.2f} | {p90(exit_):.2f} "
        f"| {statistics.median(start):.2f} | {p90(start):.2f} "
        f"| {statistics.median(page):.2f} | {p90(page):.2f} | {listed:.2f} "
        f"| {statistics.median(exit_) / listed:.2f}x |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--old-way", action="store_true", help="also serve --no-watch + rescan")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="envdash-bench-follow-"))
    wheels = work / "wheels"
    write_wheel(wheels, "alpha", "1.0")
    write_wheel(wheels, "omega", "1.0", summary="installed from a terminal")
    table: dict[str, list[dict[str, float]]] = {}
    try:
        ways = [("watching", ())] + (
            [("no watch + rescan", ("--no-watch",))] if args.old_way else []
        )
        for label, extra in ways:
            root, env = home(work, label.split()[0], wheels)
            argv, environ = serve(work, label.split()[0], root, *extra)
            with serving(argv, cwd=REPO, env=environ) as served, sync_playwright() as driver:
                browser = driver.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
                )
                table[label] = rounds(
                    served, env, wheels, args.changes, ask_rescan=bool(extra), page_of=browser
                )
                browser.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    print(
        f"{args.changes} changes (install/uninstall alternating), {database}, "
        f"{os.cpu_count()} cores; seconds"
    )
    print(
        "| dashboard | API, after pip's exit: median | p90 | API, after pip's start: median "
        "| p90 | open page, after pip's exit: median | p90 | `pip list` (peer) "
        "| API after exit / pip list |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, rows in table.items():
        report(label, rows)
    for label, rows in table.items():
        print(f"{label}, API after exit:", [round(r["after_exit"], 2) for r in rows])
        print(f"{label}, page after exit:", [round(r["page_after_exit"], 2) for r in rows])
    pip_times = [r["pip"] for rows in table.values() for r in rows]
    print(f"pip install/uninstall itself: median {statistics.median(pip_times):.2f} s")


if __name__ == "__main__":
    main()
