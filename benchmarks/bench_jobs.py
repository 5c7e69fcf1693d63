"""Jobs: enqueue-to-first-log-line latency with the real worker, beside pip run directly.

A venv with pip, a local wheelhouse (offline); one `envdash worker` process polling with
its default interval. Each round queues an install job (as the Install button does) and
times until its first log line is in the database (what the page's 1 s poll reads);
the peer is the same pip command started directly, timed to its first output line.
Target (issue 5): under 1 s.
Usage: .venv/bin/python benchmarks/bench_jobs.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.envtools import make_venv
from tests.wheelmaker import write_wheel


def first_line_of_pip(env: Path, wheelhouse: Path, version: str) -> float:
    argv = [str(env / "bin" / "python"), "-m", "pip", "install", "--no-index"]
    argv += ["--find-links", str(wheelhouse), "--", f"alpha=={version}"]
    started = time.perf_counter()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        process.stdout.readline()
        elapsed = time.perf_counter() - started
        process.communicate()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="envdash-bench-jobs-"))
    wheelhouse = work / "wheels"
    for version in ("1.0", "1.1"):
        write_wheel(wheelhouse, "alpha", version)
    env = make_venv(work / "home" / "app" / ".venv", with_pip=True)
    os.environ.update(
        ENVDASH_DATA_DIR=str(work / "data"),
        ENVDASH_SCAN_ROOTS=str(work / "home"),
        ENVDASH_INSTALLER="pip",
        DATABASE_URL="",
        DJANGO_SETTINGS_MODULE="dashboard.settings",
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheelhouse),
    )
    import django

    django.setup()
    from django.core.management import call_command

    from dashboard.jobs.models import Job, JobLine
    from dashboard.jobs.queue import enqueue
    from dashboard.models import Environment
    from dashboard.scanning import scan_tree

    call_command("migrate", verbosity=0)
    scan_tree()
    row = Environment.objects.get()
    worker = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "worker"], stderr=subprocess.DEVNULL
    )
    time.sleep(3)  # let it start (imports, random startup delay)
    ours, peer = [], []
    try:
        for index in range(args.rounds):
            version = ("1.0", "1.1")[index % 2]
            started = time.perf_counter()
            job = enqueue("install", row, {"specs": f"alpha=={version}"})
            # pip's own first line (not the "$ command" line envdash writes before it).
            while not JobLine.objects.filter(job=job, stream="stdout").exists():
                time.sleep(0.005)
            ours.append(time.perf_counter() - started)
            while not Job.objects.get(pk=job.pk).finished:
                time.sleep(0.05)
            peer.append(first_line_of_pip(env, wheelhouse, ("1.1", "1.0")[index % 2]))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    a, b = statistics.median(ours) * 1000, statistics.median(peer) * 1000
    print(f"median of {args.rounds} rounds")
    print("| measurement | median |")
    print("| --- | --- |")
    print(f"| envdash: Install clicked → pip's first line stored | {a:.0f} ms |")
    print(f"| pip started directly → its first output line | {b:.0f} ms |")
    print(f"| overhead of queue + worker | {a - b:.0f} ms (target: total < 1,000 ms) |")


if __name__ == "__main__":
    main()
