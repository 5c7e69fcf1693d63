"""`python -m envcore plan` against the installer's own dry run alone, as whole processes.

Builds a 50-package environment (`uv venv`, no pip inside, as the dashboard's uv-made
environments are) and 100 wheels (two releases of each package, a third of them depending
on the next package) served by the tests' local HTTP index, and a requirements file that
drifts from it: 40 pins met, 4 to upgrade, 3 to downgrade, 3 missing, and 3 installed
packages untracked. Then times, for pip and for uv, alternating A B A B so the machine's
noise hits both:
  - `python -m envcore plan ENV -r FILE --installer X --json`
  - the dry run that plan runs (its own `dry_run_argv`), alone
Each ratio is the median of the per-pair ratios; wall and CPU (user + system) seconds.
With --hold, it prints the two commands per installer (and PIP_INDEX_URL) and keeps the
index up until interrupted, for timing them with another tool.
Usage: python -m benchmarks.bench_plan [--runs 9] [--keep DIR] [--hold]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_cli import compare  # noqa: E402
from envcore.ops import find_uv  # noqa: E402
from tests.envcore.indexserver import IndexState, serve_index  # noqa: E402
from tests.envtools import ISOLATED_ENV  # noqa: E402
from tests.wheelmaker import write_wheel  # noqa: E402

PACKAGES = 50


def name(index: int) -> str:
    return f"bench-pkg{index:02d}"


def build(directory: Path, state: IndexState, index_url: str) -> tuple[Path, Path]:
    """Publish the wheels, make the environment and the drifting requirements file."""
    wheels = directory / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    for index in range(PACKAGES + 3):
        requires = (f"{name(index + 1)}>=1.0",) if index % 3 == 0 and index < PACKAGES - 1 else ()
        for version in ("1.0", "2.0"):
            state.publish(write_wheel(wheels, name(index), version, requires=requires))
    env = directory / "env"
    if not env.exists():
        uv = str(find_uv())
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(env)], check=True)
        # 0-39 at 1.0 (met), 40-43 at 1.0 (to upgrade), 44-46 at 2.0 (to downgrade),
        # 47-49 missing, 50-52 installed and untracked.
        installed = [f"{name(i)}==1.0" for i in range(44)]
        installed += [f"{name(i)}==2.0" for i in range(44, 47)]
        installed += [f"{name(i)}==1.0" for i in range(50, 53)]
        python = str(env / "bin" / "python")
        argv = [uv, "pip", "install", "--quiet", "--no-deps", "--python", python]
        argv += [f"--index-url={index_url}", *installed]
        subprocess.run(argv, check=True, env=benchmark_environment(index_url))
    requirements = directory / "requirements.txt"
    lines = [f"{name(i)}==1.0" for i in range(40)]
    lines += [f"{name(i)}==2.0" for i in range(40, 44)]
    lines += [f"{name(i)}==1.0" for i in range(44, 50)]
    requirements.write_text("\n".join(lines) + "\n")
    return env, requirements


def benchmark_environment(index_url: str) -> dict[str, str]:
    """No user configuration, no network: the local index is pip's (and so uv's) only one.

    Bytecode caches are allowed (PYTHONDONTWRITEBYTECODE dropped), as an installed program
    has them: otherwise every envcore run compiles envcore again while pip's are cached."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_"))
        and key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"}
    }
    cache = Path(tempfile.gettempdir()) / "envdash-bench-plan-uv-cache"
    return {**environ, **ISOLATED_ENV, "PIP_INDEX_URL": index_url, "UV_CACHE_DIR": str(cache)}


def commands(
    env: Path, requirements: Path, installer: str, environ: dict[str, str]
) -> tuple[list[str], list[str]]:
    """(envcore's plan, the installer's dry run that plan runs)."""
    plan = [sys.executable, "-m", "envcore", "plan", str(env), "-r", str(requirements)]
    plan += ["--installer", installer, "--json"]
    result = subprocess.run(
        plan, capture_output=True, text=True, env=environ, cwd=ROOT, check=False
    )
    if result.returncode != 1:
        raise SystemExit(f"plan with {installer} failed: {result.stderr.strip()}")
    data = json.loads(result.stdout)
    counts: dict[str, int] = {}
    for action in data["actions"]:
        counts[action["action"]] = counts.get(action["action"], 0) + 1
    print(f"{installer}: {counts}")
    dry_run = [arg for arg in data["dry_run_argv"] if not arg.startswith("--report=")]
    if installer == "pip":  # the report is part of the dry run's work: keep writing one
        dry_run.append(f"--report={Path(tempfile.gettempdir()) / 'envdash-bench-report.json'}")
    return plan, dry_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--keep", type=Path, help="build in (or reuse) this directory")
    parser.add_argument("--hold", action="store_true", help="print commands, keep serving")
    args = parser.parse_args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="envdash-bench-plan-"))
    state = IndexState()
    try:
        with serve_index(state) as index_url:
            env, requirements = build(directory, state, index_url)
            environ = benchmark_environment(index_url)
            for installer in ("pip", "uv"):
                plan, dry_run = commands(env, requirements, installer, environ)
                if args.hold:
                    print(f"PIP_INDEX_URL={index_url} {shlex.join(plan)}")
                    print(f"PIP_INDEX_URL={index_url} {shlex.join(dry_run)}")
                else:
                    label = f"{installer}: envcore plan vs the installer's dry run alone"
                    compare(label, plan, dry_run, args.runs, environ)
            while args.hold:
                time.sleep(60)
    except KeyboardInterrupt:
        pass
    finally:
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
