"""Scan + inventory speed against `find`, `pip list` and `uv pip list`, side by side.

Builds a synthetic home: N real venvs (made by `uv venv`, filled by `uv pip install` from a
local wheelhouse with 30-60 distributions each) among >=100k clutter files (node_modules,
.git, sources). Then, in one run, alternating to share the machine's noise:
  - envcore discover + inspect + read_inventory of every env   vs  `find ROOT -name pyvenv.cfg`
  - envcore listing of one env                                  vs  `pip list --format=json`
                                                                 and `uv pip list --format json`
Usage: .venv/bin/python benchmarks/bench_scan.py [--envs 100] [--clutter 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from envcore.discover import discover
from envcore.distributions import read_inventory
from envcore.environment import inspect_environment
from envcore.pipcompat import list_json
from tests.wheelmaker import write_wheel

UV = str(Path(sys.executable).parent / "uv")


def offline_venv(env: Path, wheels: Path, names: list[str]) -> Path:
    """A venv (uv's, fast) with `names` installed from the `wheels` directory only: the
    benchmarks' environments are built offline, as the tests' are."""
    subprocess.run([UV, "venv", "-q", "--python", sys.executable, str(env)], check=True)
    python = str(env / "bin" / "python")
    options = ["-q", "--python", python, "--no-index", "--find-links", str(wheels)]
    subprocess.run([UV, "pip", "install", *options, *names], check=True)
    return env


def build_home(root: Path, envs: int, clutter: int) -> list[Path]:
    rng = random.Random(42)
    wheelhouse = root / "_wheelhouse"
    names = [f"pkg{i:03d}" for i in range(80)]
    for name in names:
        write_wheel(wheelhouse, name, f"1.{rng.randint(0, 9)}", summary=f"{name} summary")
    home = root / "home"
    env_paths = []
    for index in range(envs):
        project = home / "code" / f"project{index:03d}"
        project.mkdir(parents=True)
        (project / "requirements.txt").write_text("\n".join(rng.sample(names, 5)) + "\n")
        env = offline_venv(project / ".venv", wheelhouse, rng.sample(names, rng.randint(30, 60)))
        env_paths.append(env)
    made = 0
    per_project = max(1, clutter // envs)
    for index in range(envs):
        project = home / "code" / f"project{index:03d}"
        for sub in ("node_modules/lib", ".git/objects", "src/app"):
            (project / sub).mkdir(parents=True, exist_ok=True)
        for number in range(per_project):
            sub = ("node_modules/lib", ".git/objects", "src/app")[number % 3]
            (project / sub / f"f{number}.txt").write_bytes(b"x")
            made += 1
    print(f"built {envs} venvs, {made} clutter files under {home}")
    return env_paths


def timed(function: object, repeat: int) -> list[float]:
    results = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()  # type: ignore[operator]
        results.append(time.perf_counter() - start)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--envs", type=int, default=100)
    parser.add_argument("--clutter", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="envdash-bench-scan-"))
    home = base / "home"
    if home.exists():
        env_paths = sorted(p.parent for p in home.glob("code/*/.venv/pyvenv.cfg"))
    else:
        env_paths = build_home(base, args.envs, args.clutter)

    def scan() -> int:
        found = discover([home])
        return sum(
            len(read_inventory(inspect_environment(p)).distributions) for p in found.environments
        )

    def find() -> None:
        subprocess.run(
            ["find", str(home), "-name", "pyvenv.cfg"], check=True, stdout=subprocess.DEVNULL
        )

    scan()  # warm the page cache for both
    find()
    ours_scan, find_scan = [], []
    for _ in range(args.repeat):
        ours_scan += timed(scan, 1)
        find_scan += timed(find, 1)
    dists = scan()
    print(f"\nwhole tree: {len(env_paths)} envs, {dists} distributions")
    print(f"  envcore scan+inventory  median {statistics.median(ours_scan) * 1000:8.1f} ms")
    print(f"  find -name pyvenv.cfg   median {statistics.median(find_scan) * 1000:8.1f} ms")
    ratio = statistics.median(find_scan) / statistics.median(ours_scan)
    print(f"  ratio find/envcore      {ratio:8.2f}x")

    sample = env_paths[: min(10, len(env_paths))]
    ours, pip_times, uv_times = [], [], []
    for env in sample:
        python = str(env / "bin" / "python")
        ours += timed(lambda env=env: list_json(read_inventory(inspect_environment(env))), 3)
        pip_times += timed(
            lambda python=python: subprocess.run(
                [sys.executable, "-m", "pip", "--python", python, "list", "--format=json"],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            1,
        )
        uv_times += timed(
            lambda python=python: subprocess.run(
                [UV, "pip", "list", "--python", python, "--format", "json"],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            3,
        )
    o, p, u = (statistics.median(x) for x in (ours, pip_times, uv_times))
    print(f"\nper-env listing over {len(sample)} envs (median)")
    print(f"  envcore list    {o * 1000:8.2f} ms")
    print(f"  pip list        {p * 1000:8.2f} ms   ratio {p / o:7.1f}x")
    print(f"  uv pip list     {u * 1000:8.2f} ms   ratio {u / o:7.1f}x")
    total_ours = sum(
        timed(lambda: [list_json(read_inventory(inspect_environment(e))) for e in env_paths], 1)
    )
    start = time.perf_counter()
    for env in env_paths:
        subprocess.run(
            [UV, "pip", "list", "--python", str(env / "bin" / "python"), "--format", "json"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    total_uv = time.perf_counter() - start
    print(
        f"\nsummed over all {len(env_paths)} envs: envcore {total_ours * 1000:.0f} ms, "
        f"uv pip list {total_uv * 1000:.0f} ms (ratio {total_uv / total_ours:.1f}x)"
    )
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("UV_NO_CONFIG", "1")
    main()
