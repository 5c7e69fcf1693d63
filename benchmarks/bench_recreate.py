"""Recreate an environment of 20 distributions with the pip and the uv backend, side by side.

Builds 20 wheels (with wheelmaker, some depending on others) into a local wheelhouse, fills
one venv per backend with them, then times `envcore.ops.recreate` on each, alternating the
backends round by round so they share the machine's noise. Offline: --no-index +
find-links. The uv cache is warm after the first round, as it would be on a dev machine.
Usage: .venv/bin/python benchmarks/bench_recreate.py [--rounds 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
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
from envcore.interpreters import base_interpreter
from envcore.ops import Context, IndexOptions, recreate
from tests.envtools import ISOLATED_ENV
from tests.wheelmaker import write_wheel

DISTRIBUTIONS = 20


def build_wheelhouse(directory: Path) -> list[str]:
    names = [f"benchpkg{i:02d}" for i in range(DISTRIBUTIONS)]
    for index, name in enumerate(names):
        # Every fifth package depends on the next one: a little resolution work for both.
        requires = [f"{names[index + 1]}>=1.0"] if index % 5 == 0 else []
        write_wheel(directory, name, "1.0", requires=requires, summary=f"{name} for benchmarks")
    return names


def make_env(path: Path, names: list[str], wheelhouse: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(path / "bin" / "python"),
            "install",
            "-q",
            "--no-index",
            "--find-links",
            str(wheelhouse),
            *names,
        ],
        check=True,
    )
    return path


def timed_recreate(env: Path, base: Path, backend: str, index: IndexOptions) -> float:
    start = time.perf_counter()
    # The interpreter is given: no interpreter probing.
    recreate(env, base, context=Context(installer=backend, index=index))
    elapsed = time.perf_counter() - start
    count = len(read_inventory(inspect_environment(env)).distributions)
    assert count == DISTRIBUTIONS, f"{backend}: {count} distributions after recreate"
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build in this directory and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="envdash-bench-recreate-"))
    root.mkdir(parents=True, exist_ok=True)
    os.environ.update(ISOLATED_ENV)
    os.environ["UV_CACHE_DIR"] = str(root / "uv-cache")
    try:
        wheelhouse = root / "wheelhouse"
        names = build_wheelhouse(wheelhouse)
        index = IndexOptions(no_index=True, find_links=(str(wheelhouse),))
        envs = {
            backend: make_env(root / backend / "env", names, wheelhouse)
            for backend in ("pip", "uv")
        }
        base = base_interpreter(inspect_environment(envs["pip"]))
        assert base is not None, "the benchmark's base interpreter is gone"
        print(f"{DISTRIBUTIONS} distributions, base {base}, {args.rounds} rounds (+1 warm-up)")
        times: dict[str, list[float]] = {"pip": [], "uv": []}
        for round_number in range(args.rounds + 1):
            order = ("pip", "uv") if round_number % 2 else ("uv", "pip")
            for backend in order:
                elapsed = timed_recreate(envs[backend], base, backend, index)
                if round_number:  # round 0 warms caches and the page cache
                    times[backend].append(elapsed)
        median = {backend: statistics.median(values) for backend, values in times.items()}
        for backend, values in times.items():
            print(
                f"  recreate with {backend:3}: median {median[backend]:6.2f} s  "
                f"(min {min(values):.2f}, max {max(values):.2f})"
            )
        print(f"  ratio pip / uv: {median['pip'] / median['uv']:.1f}x")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
