"""Outdated information for a 100-package environment: envcore (cold and warm cache) beside
`pip list --outdated`, against the same local index over HTTP, in one run.

100 projects with 3 releases each (wheels built here) are served by the tests' local
index (PEP 691 JSON); a venv gets the oldest release of each (installed by uv, offline).
Rounds alternate: envcore with an empty cache (cold), envcore with the cache just filled
(warm), and `pip list --outdated --format=json`. Targets (issue 7): warm < 50 ms, cold
< 2 s.
Usage: .venv/bin/python benchmarks/bench_outdated.py [--packages 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from envcore.distributions import read_inventory
from envcore.environment import inspect_environment
from envcore.index import IndexClient
from envcore.outdated import outdated
from envcore.pipconfig import IndexConfig
from tests.envcore.indexserver import IndexState, serve_index
from tests.wheelmaker import write_wheel

UV = str(Path(sys.executable).parent / "uv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="envdash-bench-outdated-"))
    wheels = work / "wheels"
    state = IndexState()
    names = [f"pkg{i:03d}" for i in range(args.packages)]
    for name in names:
        for version in ("1.0", "1.1", "2.0"):
            state.publish(write_wheel(wheels, name, version))
    env = work / ".venv"
    subprocess.run([UV, "venv", "-q", "--seed", "--python", sys.executable, str(env)], check=True)
    python = str(env / "bin" / "python")
    pins = [f"{name}==1.0" for name in names]
    subprocess.run(
        [UV, "pip", "install", "-q", "--python", python, "--no-index", "-f", str(wheels), *pins],
        check=True,
    )
    facts = inspect_environment(env)
    cold, warm, peer = [], [], []
    with serve_index(state) as url:
        config = IndexConfig(index_url=url)
        for _ in range(args.rounds):
            cache = work / "cache"
            shutil.rmtree(cache, ignore_errors=True)
            started = time.perf_counter()
            report = outdated(facts, read_inventory(facts), IndexClient(config, cache_dir=cache))
            cold.append(time.perf_counter() - started)
            assert len(report.upgradable) == args.packages, report.upgradable[:3]
            started = time.perf_counter()
            outdated(facts, read_inventory(facts), IndexClient(config, cache_dir=cache))
            warm.append(time.perf_counter() - started)
            started = time.perf_counter()
            listed = subprocess.run(
                [
                    python,
                    "-m",
                    "pip",
                    "list",
                    "--outdated",
                    "--format=json",
                    "--index-url",
                    url,
                    "--disable-pip-version-check",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            peer.append(time.perf_counter() - started)
            assert len(json.loads(listed.stdout)) >= args.packages
    c, w, p = (statistics.median(values) * 1000 for values in (cold, warm, peer))
    print(f"{args.packages} packages, local index over HTTP, median of {args.rounds} rounds")
    print("| measurement | median | vs pip list --outdated |")
    print("| --- | --- | --- |")
    print(f"| pip list --outdated | {p:.0f} ms | 1× |")
    print(f"| envcore outdated, cold cache | {c:.0f} ms | {p / c:.1f}× faster (target < 2 s) |")
    print(f"| envcore outdated, warm cache | {w:.1f} ms | {p / w:.0f}× faster (target < 50 ms) |")


if __name__ == "__main__":
    main()
