"""Idle cost: CPU of every dashboard process (serve, its workers, its watcher: the whole
process tree) while nothing changes, with N watched environments and one page open.

Builds N real venvs (`uv venv` + `uv pip install` of 5–15 small wheels each, offline) under
one scan root, starts the real `envdash serve` from this checkout over it, opens the
overview in Debian's Chromium (Playwright) and waits until the first scan is stored and
the processes have settled; then reads each process's CPU time (psutil, user + system)
over the measured window. The issue's target: under 1 % of one core in total.
Usage: .venv/bin/python benchmarks/bench_idle.py [--envs 100] [--seconds 60] [--no-page]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
from playwright.sync_api import sync_playwright

from benchmarks.bench_scan import offline_venv
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.serving import serve_environ, serving
from tests.wheelmaker import write_wheel

REPO = Path(__file__).resolve().parent.parent
UV = str(Path(sys.executable).parent / "uv")


def build_home(root: Path, envs: int) -> Path:
    """N projects, each with a requirements.txt and a .venv of 5–15 distributions."""
    rng = random.Random(14)
    wheelhouse = root / "wheelhouse"
    names = [f"idle{i:02d}" for i in range(30)]
    for name in names:
        write_wheel(wheelhouse, name, "1.0")
    home = root / "home"
    for index in range(envs):
        project = home / f"project{index:03d}"
        project.mkdir(parents=True)
        chosen = rng.sample(names, rng.randint(5, 15))
        (project / "requirements.txt").write_text("\n".join(chosen[:4]) + "\n")
        offline_venv(project / ".venv", wheelhouse, chosen)
    return home


def role(process: psutil.Process) -> str:
    """serve, worker or watch, from the command line serve started it with."""
    argv = process.cmdline()
    for name in ("serve", "worker", "watch"):
        if name in argv:
            return name
    return " ".join(argv[-3:])


def tree(root: psutil.Process) -> list[psutil.Process]:
    return [root, *root.children(recursive=True)]


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def measure(root: psutil.Process, seconds: float) -> list[tuple[str, int, float]]:
    """(role, pid, % of one core) for each process alive through the whole window."""
    processes = tree(root)
    before = {p.pid: cpu_seconds(p) for p in processes}
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    rows = []
    for process in tree(root):
        if process.pid not in before:
            raise SystemExit(f"process {process.pid} ({role(process)}) started while measuring")
        used = cpu_seconds(process) - before[process.pid]
        rows.append((role(process), process.pid, 100 * used / elapsed))
    if len(rows) != len(processes):
        raise SystemExit("a dashboard process ended while measuring")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--settle", type=float, default=15, help="seconds before measuring")
    parser.add_argument("--no-page", action="store_true", help="no browser page open")
    parser.add_argument("--workers", type=int, default=2, help="ENVDASH_JOB_CONCURRENCY")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="envdash-bench-idle-"))
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    try:
        started = time.perf_counter()
        home = build_home(work, args.envs)
        print(f"built {args.envs} venvs in {time.perf_counter() - started:.0f} s")
        env = serve_environ(
            work / "data",
            secrets.token_urlsafe(24),
            ENVDASH_SCAN_ROOTS=str(home),
            ENVDASH_JOB_CONCURRENCY=str(args.workers),
            ENVDASH_OFFLINE="1",
            DATABASE_URL=os.environ.get("DATABASE_URL", ""),
        )
        argv = [sys.executable, "-m", "dashboard.cli", "serve", "--port", "0"]
        with serving(argv, cwd=REPO, env=env) as served, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            page = browser.new_page()
            page.goto(served.login_url)
            deadline = time.monotonic() + 300
            while page.locator("#env-table tbody tr a").count() < min(args.envs, 100):
                if time.monotonic() > deadline:
                    raise SystemExit("the first scan did not finish:\n" + "".join(served.output))
                time.sleep(1)
                page.goto(served.url("/environments/?status="))
            page.goto(served.url("/"))
            if args.no_page:
                page.close()
            time.sleep(args.settle)
            rows = measure(psutil.Process(served.process.pid), args.seconds)
            browser.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    database = "PostgreSQL" if env["DATABASE_URL"] else "SQLite"
    page_state = "no page" if args.no_page else "one page"
    print(
        f"{args.envs} envs, {page_state}, {database}, {args.workers} workers, "
        f"{args.seconds:.0f} s, {os.cpu_count()} cores; % of one core"
    )
    print("| process | pid | CPU |")
    print("| --- | --- | --- |")
    for name, pid, percent in rows:
        print(f"| {name} | {pid} | {percent:.2f} % |")
    print(f"| **total** | | **{sum(r[2] for r in rows):.2f} %** |")


if __name__ == "__main__":
    main()
