"""Drift against a 300-package uv.lock, as whole processes, against uv's own check.

Builds (or reuses, --keep DIR) 300 small wheels (tests/wheelmaker.py) in a find-links
directory and a project that needs them: 295 in a dependency tree under the project's
dependencies (some behind markers false on Linux, which uv.lock keeps and envdash reports
as not applicable) and 5 in the dev group. `uv lock` and `uv sync` make the lock and the
300-package env, offline. Then times, alternating A B A B so the machine's noise hits both:
  - `python -m envcore drift ENV -r uv.lock --json`  vs  `uv sync --locked --dry-run`
  - the same                                         vs  `uv pip sync --dry-run` of
                                                         `uv export` (requirements.txt)
Each ratio is the median of the per-pair ratios; wall and CPU (user + system) seconds.
Then the same drift inside one process, as the dashboard runs it (CPU per stage).
Usage: python -m benchmarks.bench_lock_drift [--runs 15] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_cli import compare  # noqa: E402
from envcore.ops import find_uv  # noqa: E402
from tests.wheelmaker import make_project, write_wheel  # noqa: E402

PACKAGES = 300
DEV = 5


def _name(index: int) -> str:
    return f"pkg{index:03d}"


def build(base: Path) -> Path:
    """The wheels, the project, its uv.lock, its exported requirements and its .venv."""
    wheels = base / "wheels"
    tree = PACKAGES - DEV
    for index in range(PACKAGES):
        children = [i for i in (2 * index + 1, 2 * index + 2) if i < tree] if index < tree else []
        requires = [_name(i) for i in children]
        if index % 40 == 7:  # a Windows-only dependency: locked, not installed here
            requires.append(f"win{index:03d}; sys_platform == 'win32'")
            write_wheel(wheels, f"win{index:03d}", "1.0")
        write_wheel(wheels, _name(index), "1.0", requires=requires)
        write_wheel(wheels, _name(index), "0.9", requires=requires)  # an older release
    project = make_project(base / "project", "bench-project", "1.0", dependencies=[_name(0)])
    dev = ", ".join(f'"{_name(i)}"' for i in range(tree, PACKAGES))
    with (project / "pyproject.toml").open("a") as handle:
        handle.write(f'requires-python = ">=3.9"\n\n[dependency-groups]\ndev = [{dev}]\n')
    uv = str(find_uv())
    links = ["--no-index", "--find-links", str(wheels)]
    for argv in (
        [uv, "lock", *links, "--python", sys.executable],
        [uv, "sync", "--quiet", *links, "--python", sys.executable],
        [uv, "export", "--quiet", "--no-hashes", "-o", "requirements.txt", *links],
    ):
        subprocess.run(argv, cwd=project, check=True, capture_output=True)
    return project


def drift_argv(project: Path, python: str) -> list[str]:
    lock = project / "uv.lock"
    return [python, "-m", "envcore", "drift", str(project / ".venv"), "-r", str(lock), "--json"]


def check(project: Path, python: str) -> None:
    """Both sides answer "nothing to do" before anything is timed."""
    result = subprocess.run(
        drift_argv(project, python),
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    counts = report["counts"]
    print(f"envcore: {report['summary']}, {counts}; {report.get('selection', '')}")
    assert result.returncode == 0 and counts["ok"] == PACKAGES + 1, result.stdout[:500]


def in_process(project: Path, runs: int) -> None:
    """What the dashboard pays per environment (no interpreter start-up, modules loaded):
    read and select the lock (first read, and read again unchanged: kept by
    envcore.locks._cache), read the inventory, compare; CPU seconds, median."""
    from envcore.distributions import read_inventory
    from envcore.drift import compute_drift
    from envcore.environment import inspect_environment
    from envcore.locks import _cache, lock_requirements, read_lock

    env = inspect_environment(project / ".venv")
    marker_env = env.marker_environment()
    stages: dict[str, list[float]] = {"lock, first read": [], "lock, unchanged": []}
    stages |= {"inventory": [], "compare": []}
    for _ in range(runs + 1):
        _cache.forget()
        start = time.process_time()
        lock = read_lock(project / "uv.lock")
        parsed = lock_requirements(lock, lock.select(marker_env))
        first = time.process_time()
        lock = read_lock(project / "uv.lock")
        parsed = lock_requirements(lock, lock.select(marker_env))
        again = time.process_time()
        inventory = read_inventory(env)
        listed = time.process_time()
        report = compute_drift(env, inventory, parsed)
        done = time.process_time()
        assert report.summary == "in-sync"
        seconds = (first - start, again - first, listed - again, done - listed)
        for stage, value in zip(stages, seconds, strict=True):
            stages[stage].append(value)
    print(f"\nin one process (median CPU of {runs} runs after a warm-up)")
    for stage, values in stages.items():
        print(f"  {stage:17}  {statistics.median(values[1:]) * 1000:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", type=Path, help="build here once, reuse it later")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="envdash-bench-lock-"))
    project = base / "project"
    if not (project / ".venv").is_dir():
        project = build(base)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["UV_NO_CONFIG"] = "1"
    python = sys.executable
    uv = str(find_uv())
    index = ["--no-index", "--find-links", str(base / "wheels")]
    check(project, python)
    ours = drift_argv(project, python)
    compare(
        "drift ENV -r uv.lock --json  vs  uv sync --locked --dry-run",
        ours,
        [uv, "sync", "--directory", str(project), "--locked", "--dry-run", "--quiet", *index],
        args.runs,
        env,
    )
    compare(
        "drift ENV -r uv.lock --json  vs  uv pip sync --dry-run requirements.txt (uv export)",
        ours,
        [
            *[uv, "pip", "sync", "--dry-run", "--quiet", "--python", str(project / ".venv")],
            *[*index, str(project / "requirements.txt")],
        ],
        args.runs,
        env,
    )
    in_process(project, args.runs)
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
