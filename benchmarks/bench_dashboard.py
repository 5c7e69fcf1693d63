"""Dashboard speed: page response times on a big database, and rescan vs first scan.

1. Pages: 500 environments × 100 packages (plus drift rows) in a fresh SQLite database,
   one environment with 300 packages; the real WSGI app behind waitress on loopback,
   timed with urllib (median of N). Targets (issue 4): overview and environment list
   < 100 ms, detail of the 300-package environment < 150 ms. A static file served by the
   same server in the same run is the floor.
2. Scans: a home of real venvs (uv, local wheels, like bench_scan.py); first scan of the
   tree vs a rescan of the unchanged tree, alternating. Target: rescan >= 10x faster.

Usage: .venv/bin/python benchmarks/bench_dashboard.py [--envs 500] [--requests 40]
       [--scan-envs 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_scan import build_home
from benchmarks.bench_team import page_timings


def fill_database(envs: int, packages: int) -> int:
    """Synthetic rows (the page speed does not depend on how they were found)."""
    from dashboard.models import Distribution, DriftItem, Environment, Project

    now = datetime.now(UTC)
    projects = Project.objects.bulk_create(
        Project(path=f"/home/dev/code/p{i}", name=f"p{i}", requirements_source="requirements.txt")
        for i in range(envs // 2)
    )
    rows = Environment.objects.bulk_create(
        Environment(
            path=f"/home/dev/code/p{i // 2}/.venv{i % 2}",
            name=f"p{i // 2}/.venv{i % 2}",
            kind=("venv", "uv", "virtualenv", "conda")[i % 4],
            python_version=f"3.{9 + i % 4}.1",
            python_minor=f"3.{9 + i % 4}",
            status=("in-sync", "drifted", "broken", "no-requirements")[i % 4],
            attention=i % 7,
            drift_counts={"ok": 90, "mismatch": i % 7},
            package_count=packages,
            size_bytes=50_000_000 + i,
            project=projects[i // 2],
            first_seen=now,
            last_seen=now,
            last_scanned=now,
            last_changed=now,
        )
        for i in range(envs)
    )
    big = rows[0]
    for env in rows:
        count = 300 if env is big else packages
        Distribution.objects.bulk_create(
            Distribution(
                environment=env,
                name=f"package-{n:03d}",
                display_name=f"Package_{n:03d}",
                version=f"1.{n % 10}.0",
                summary="A package that does things" * 2,
                required_by=[f"package-{(n + 1) % count:03d}"],
            )
            for n in range(count)
        )
        DriftItem.objects.bulk_create(
            DriftItem(
                environment=env,
                name=f"package-{n:03d}",
                status="mismatch" if n % 9 == 0 else "ok",
                required=f"==1.{n % 10}.1" if n % 9 == 0 else f"==1.{n % 10}.0",
                installed=f"1.{n % 10}.0",
                position=n,
            )
            for n in range(min(count, 100))
        )
    return big.pk


def median_ms(url: str, cookie: str, requests: int) -> float:
    return statistics.median(page_timings(url, cookie, requests))


def bench_pages(envs: int, requests: int) -> None:
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from waitress.server import create_server

    from dashboard.auth import SESSION_KEY, session_fingerprint
    from dashboard.wsgi import application

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    big = fill_database(envs, 100)
    print(f"database: {envs} environments × 100 packages ({time.perf_counter() - started:.0f} s)")
    server = create_server(application, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    session = SessionStore()
    session[SESSION_KEY] = session_fingerprint()
    session.save()
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    pages = [
        ("static file (floor)", "/static/css/envdash.css", None),
        ("overview", "/", 100.0),
        ("environment list", "/environments/", 100.0),
        ("environment list, filtered + sorted", "/environments/?q=p1&sort=-size", 100.0),
        ("detail, 300 packages", f"/environments/{big}/", 150.0),
    ]
    for _, path, _ in pages:  # warm up
        median_ms(base + path, cookie, 2)
    print("| page | median | target |")
    print("| --- | --- | --- |")
    for label, path, target in pages:
        value = median_ms(base + path, cookie, requests)
        verdict = "" if target is None else (" ✓" if value < target else " ✗")
        shown = "—" if target is None else f"< {target:.0f} ms{verdict}"
        print(f"| {label} | {value:.1f} ms | {shown} |")


def bench_scans(scan_envs: int, rounds: int) -> None:
    from dashboard.models import Environment
    from dashboard.scanning import scan_tree

    work = Path(tempfile.mkdtemp(prefix="envdash-bench-scan-"))
    build_home(work, scan_envs, clutter=scan_envs * 200)
    from django.conf import settings

    settings.SCAN_ROOTS = [work / "home"]
    first, again = [], []
    for _ in range(rounds):
        Environment.objects.all().delete()
        started = time.perf_counter()
        scan = scan_tree()
        first.append(time.perf_counter() - started)
        assert scan.changed == scan_envs, scan
        started = time.perf_counter()
        scan = scan_tree()
        again.append(time.perf_counter() - started)
        assert scan.unchanged == scan_envs, scan
    a, b = statistics.median(first) * 1000, statistics.median(again) * 1000
    print(f"\nscan of {scan_envs} real venvs (median of {rounds}):")
    print(f"| first scan | {a:.0f} ms |\n| rescan, unchanged | {b:.0f} ms |")
    print(f"| ratio | {a / b:.1f}× faster (target ≥ 10×) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=500)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--scan-envs", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["ENVDASH_DATA_DIR"] = tempfile.mkdtemp(prefix="envdash-bench-dash-")
    os.environ["DATABASE_URL"] = ""
    os.environ["DJANGO_SETTINGS_MODULE"] = "dashboard.settings"
    import django

    django.setup()
    bench_pages(args.envs, args.requests)
    bench_scans(args.scan_envs, args.rounds)


if __name__ == "__main__":
    main()
