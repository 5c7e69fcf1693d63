"""`python -m envcore` as whole processes: start-up and scan, against `find` and `python -c pass`.

Builds the synthetic home of bench_scan.py (100 real venvs among 100,000 clutter files), or
reuses one (--keep DIR), then times, alternating A B A B so the machine's noise hits both:
  - `python -m envcore scan HOME --json`   vs  `find HOME -name pyvenv.cfg`
  - `python -m envcore --help`             vs  `python -c pass`
  - `python -m envcore drift ENV -r FILE`  vs  `python -c pass`
and, inside one process, describing every environment (what `scan` does after the walk)
one after the other vs a pool of 4 threads vs a pool of 2 processes.
Each ratio is the median of the per-pair ratios; wall and CPU (user + system) seconds.
The children run without PYTHONDONTWRITEBYTECODE, so the warm-up run leaves bytecode
caches behind as an installed package has them.
Usage: python -m benchmarks.bench_cli [--runs 9] [--envs 100] [--clutter 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_scan import build_home  # noqa: E402
from envcore.commands.scan import describe  # noqa: E402
from envcore.discover import discover  # noqa: E402


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime + children_cpu()


def run_once(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one whole process."""
    cpu = children_cpu()
    start = time.perf_counter()
    subprocess.run(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - start, children_cpu() - cpu


def compare(
    label: str, ours: Sequence[str], peer: Sequence[str], runs: int, env: dict[str, str]
) -> None:
    run_once(ours, env)  # warm-up: page cache, bytecode caches
    run_once(peer, env)
    walls: dict[str, list[float]] = {"ours": [], "peer": []}
    cpus: dict[str, list[float]] = {"ours": [], "peer": []}
    for index in range(runs):
        order = ("ours", "peer") if index % 2 == 0 else ("peer", "ours")
        for side in order:
            wall, cpu = run_once(ours if side == "ours" else peer, env)
            walls[side].append(wall)
            cpus[side].append(cpu)
    wall_ratio = statistics.median(a / b for a, b in zip(walls["ours"], walls["peer"], strict=True))
    cpu_ratio = statistics.median(a / b for a, b in zip(cpus["ours"], cpus["peer"], strict=True))
    print(f"\n{label}  (median of {runs} alternating runs)")
    for measure, values, ratio in (("wall", walls, wall_ratio), ("cpu", cpus, cpu_ratio)):
        print(
            f"  {measure:4}  envcore {statistics.median(values['ours']) * 1000:7.1f} ms"
            f"   peer {statistics.median(values['peer']) * 1000:7.1f} ms"
            f"   ratio envcore/peer {ratio:5.2f}"
        )


def serially(paths: Sequence[Path]) -> list[dict[str, object]]:
    return [describe(path) for path in paths]


def in_threads(paths: Sequence[Path]) -> list[dict[str, object]]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(describe, paths))


def in_processes(paths: Sequence[Path]) -> list[dict[str, object]]:
    with ProcessPoolExecutor(max_workers=2) as pool:
        return list(pool.map(describe, paths, chunksize=max(1, (len(paths) + 1) // 2)))


def compare_strategies(home: Path, runs: int) -> None:
    paths = discover([home]).environments
    strategies: dict[str, Callable[[Sequence[Path]], list[dict[str, object]]]] = {
        "serial": serially,
        "4 threads": in_threads,
        "2 processes": in_processes,
    }
    expected = serially(paths)
    for strategy in strategies.values():  # warm-up, and the same answer from each
        assert strategy(paths) == expected
    walls: dict[str, list[float]] = {name: [] for name in strategies}
    cpus: dict[str, list[float]] = {name: [] for name in strategies}
    names = list(strategies)
    for index in range(runs):
        for name in names[index % len(names) :] + names[: index % len(names)]:
            cpu = own_cpu()
            start = time.perf_counter()
            strategies[name](paths)
            walls[name].append(time.perf_counter() - start)
            cpus[name].append(own_cpu() - cpu)
    print(f"\ndescribing {len(paths)} environments in one process (median of {runs} rounds)")
    for name in names:
        ratio = statistics.median(a / b for a, b in zip(walls[name], walls["serial"], strict=True))
        print(
            f"  {name:11}  wall {statistics.median(walls[name]) * 1000:7.1f} ms"
            f"  cpu {statistics.median(cpus[name]) * 1000:7.1f} ms"
            f"  wall ratio to serial {ratio:5.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--envs", type=int, default=100)
    parser.add_argument("--clutter", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--keep", type=Path, help="build the home here once, reuse it later")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="envdash-bench-cli-"))
    home = base / "home"
    if not home.exists():
        build_home(base, args.envs, args.clutter)
    project = home / "code" / "project000"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    python = sys.executable
    compare(
        "python -m envcore scan HOME --json  vs  find HOME -name pyvenv.cfg",
        [python, "-m", "envcore", "scan", str(home), "--json"],
        ["find", str(home), "-name", "pyvenv.cfg"],
        args.runs,
        env,
    )
    compare(
        "python -m envcore --help  vs  python -c pass",
        [python, "-m", "envcore", "--help"],
        [python, "-c", "pass"],
        args.runs,
        env,
    )
    compare(
        "python -m envcore drift ENV -r FILE  vs  python -c pass",
        [
            python,
            "-m",
            "envcore",
            "drift",
            str(project / ".venv"),
            "-r",
            str(project / "requirements.txt"),
        ],
        [python, "-c", "pass"],
        args.runs,
        env,
    )
    compare_strategies(home, args.runs)
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("UV_NO_CONFIG", "1")
    main()
