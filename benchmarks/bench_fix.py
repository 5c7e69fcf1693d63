"""Fix drift in the browser: click "Fix drift" → the plan is shown → click Apply → the page
shows "In sync" by itself, for a 3-package fix, with uv and with pip; beside it, the same
install done by hand (`uv pip install` / `pip install` of the requirements) in a twin venv.

The real `envdash serve` (its worker processes at their default polling interval) runs over
a home of drifted venvs, driven by Playwright in Debian's Chromium; the index is a local
wheel directory (offline). Each round fixes a fresh venv; the by-hand peer runs right after,
on its twin, so both see the same machine load. Targets (issue 13): uv under 3 s; pip
within 1.2x of pip by hand.
Usage: .venv/bin/python benchmarks/bench_fix.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Page, expect, sync_playwright

from envcore.ops import find_uv
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.envtools import make_venv
from tests.serving import serve_environ, serving
from tests.wheelmaker import write_wheel

REPO = Path(__file__).resolve().parent.parent
#: Three changes: alpha upgraded, beta and gamma installed.
REQUIREMENTS = "alpha==1.1\nbeta==1.0\ngamma==1.0\n"


def by_hand(installer: str, env: Path, wheels: Path, requirements: Path) -> float:
    """The same fix typed in a terminal: one install of the requirements file."""
    if installer == "uv":
        argv = [str(find_uv()), "pip", "install", "--python", str(env / "bin" / "python")]
    else:
        argv = [str(env / "bin" / "python"), "-m", "pip", "install", "-q"]
    argv += ["--no-index", "--find-links", str(wheels), "-r", str(requirements)]
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - started


def fix_in_browser(page: Page, base_url: str, name: str) -> tuple[float, float]:
    """(click Fix drift → plan shown, click Apply → "In sync" shown), in seconds."""
    page.goto(f"{base_url}/environments/")
    page.get_by_role("link", name=f"{name}/.venv").click()
    expect(page.locator("h1 .badge")).to_have_text("Drifted")
    started = time.perf_counter()
    page.get_by_role("button", name="Fix drift").click()
    apply = page.get_by_role("button", name="Apply 3 changes")
    expect(apply).to_be_visible(timeout=60_000)
    planned = time.perf_counter()
    apply.click()
    expect(page.locator("h1 .badge")).to_have_text("In sync", timeout=60_000)
    return planned - started, time.perf_counter() - planned


def run(
    installer: str, rounds: int, work: Path, wheels: Path, page: Page
) -> list[dict[str, float]]:
    home = work / f"home-{installer}"
    twins = work / f"twins-{installer}"
    for index in range(rounds):
        for base in (home, twins):
            project = base / f"{installer}{index}"
            project.mkdir(parents=True)
            (project / "requirements.txt").write_text(REQUIREMENTS)
            make_venv(project / ".venv", ["alpha==1.0"], wheelhouse=wheels, with_pip=True)
    env = serve_environ(
        work / f"data-{installer}",
        secrets.token_urlsafe(24),
        ENVDASH_SCAN_ROOTS=str(home),
        ENVDASH_INSTALLER=installer,
        ENVDASH_FIND_LINKS=str(wheels),
        ENVDASH_NO_INDEX="1",
        ENVDASH_JOB_CONCURRENCY="1",
        DATABASE_URL="",
    )
    results = []
    argv = [sys.executable, "-m", "dashboard.cli", "serve", "--port", "0"]
    with serving(argv, cwd=REPO, env=env) as served:
        page.goto(served.login_url)
        deadline = time.monotonic() + 120
        while page.locator("#env-table tbody tr a").count() < rounds:
            assert time.monotonic() < deadline, "the first scan did not finish"
            time.sleep(0.5)
            page.goto(served.url("/environments/"))
        time.sleep(2)  # the workers' start-up work (interpreter probe) is done
        for index in range(rounds):
            plan, apply = fix_in_browser(page, served.base_url, f"{installer}{index}")
            twin = twins / f"{installer}{index}"
            hand = by_hand(installer, twin / ".venv", wheels, twin / "requirements.txt")
            results.append({"plan": plan, "apply": apply, "total": plan + apply, "hand": hand})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if find_uv() is None:
        raise SystemExit("uv is not installed: pip install uv")
    work = Path(tempfile.mkdtemp(prefix="envdash-bench-fix-"))
    wheels = work / "wheels"
    for name, version in (("alpha", "1.0"), ("alpha", "1.1"), ("beta", "1.0"), ("gamma", "1.0")):
        write_wheel(wheels, name, version)
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    table: dict[str, list[dict[str, float]]] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            page = browser.new_page()
            for installer in ("uv", "pip"):
                table[installer] = run(installer, args.rounds, work, wheels, page)
            browser.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"median of {args.rounds} rounds, {os.cpu_count()} cores; seconds")
    print(
        "| installer | Fix drift → plan shown | Apply → In sync shown | total | by hand | ratio |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for installer, rows in table.items():
        med = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
        ratios = statistics.median(row["total"] / row["hand"] for row in rows)
        print(
            f"| {installer} | {med['plan']:.2f} | {med['apply']:.2f} | {med['total']:.2f} "
            f"| {med['hand']:.2f} | {ratios:.2f}x |"
        )
    spread = {i: [round(r["total"], 2) for r in rows] for i, rows in table.items()}
    print("totals per round:", re.sub(r"[{}']", "", str(spread)))


if __name__ == "__main__":
    main()
