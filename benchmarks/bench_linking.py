"""What linking environments to their projects costs `scan`: this checkout vs another one.

Builds (or reuses, --keep DIR) the synthetic home of bench_scan.py, then a second copy
where a third of the envs live in poetry's cache, named as poetry names them, each with
its project's editable install (`direct_url.json`), and a third are `venv312` inside their
project: the envs the linking reads more for. For each home, alternating A B A B, times
`python -m envcore scan HOME --json` run from this checkout and from --base DIR (a
checkout of the code before, e.g. `git worktree add --detach /tmp/base COMMIT`): CPU
(user + system of the child), which the load of a shared machine disturbs less than wall
time. Prints the medians, the ratio, and how many envs each linked to a project.
Usage: python -m benchmarks.bench_linking --base DIR [--runs 15] [--envs 60] [--keep DIR]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_scan import build_home  # noqa: E402


def linked_variant(home: Path, target: Path) -> Path:
    """A copy of `home` with a third of the envs in poetry's cache, a third `venv312`."""
    if target.exists():
        return target
    shutil.copytree(home, target, symlinks=True)
    projects = sorted((target / "code").iterdir())
    cache = target / ".cache" / "pypoetry" / "virtualenvs"
    cache.mkdir(parents=True)
    third = len(projects) // 3
    for project in projects[:third]:
        (project / ".venv").rename(project / "venv312")
    for project in projects[third : 2 * third]:
        name = project.name
        (project / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "0.1"\n')
        real = os.path.normcase(os.path.realpath(project))
        digest = base64.urlsafe_b64encode(hashlib.sha256(real.encode()).digest()).decode()[:8]
        env = cache / f"{name}-{digest}-py3.11"
        (project / ".venv").rename(env)
        (site,) = env.glob("lib/python*/site-packages")
        info = site / f"{name}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
        url = {"url": project.as_uri(), "dir_info": {"editable": True}}
        (info / "direct_url.json").write_text(json.dumps(url))
    return target


def scan_cpu(checkout: Path, home: Path) -> tuple[float, int]:
    """CPU seconds of one `scan --json` run from `checkout`, and the envs it linked."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-m", "envcore", "scan", "--json", str(home)],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
        check=True,
        capture_output=True,
        text=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return cpu, sum(1 for row in json.loads(result.stdout) if row["project"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True, help="checkout of the code before")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--envs", type=int, default=60)
    parser.add_argument("--clutter", type=int, default=30_000)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="envdash-bench-linking-"))
    home = base / "home"
    if not home.exists():
        build_home(base, args.envs, args.clutter)
    variant = linked_variant(home, base / "home-linked")
    for label, tree in (("bench_scan home (.venv in projects)", home), ("linked variant", variant)):
        times: dict[str, list[float]] = {"before": [], "now": []}
        linked: dict[str, int] = {}
        for checkout in (args.base, ROOT):  # warm-up: bytecode and page caches
            scan_cpu(checkout, tree)
        for _ in range(args.runs):
            for name, checkout in (("before", args.base), ("now", ROOT)):
                cpu, linked[name] = scan_cpu(checkout, tree)
                times[name].append(cpu)
        before, now = (statistics.median(times[name]) * 1000 for name in ("before", "now"))
        print(
            f"{label}: scan --json CPU median before {before:.1f} ms, now {now:.1f} ms "
            f"({now / before:.2f}x); envs linked before {linked['before']}, now {linked['now']}"
        )
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("UV_NO_CONFIG", "1")
    main()
