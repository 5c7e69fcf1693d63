"""`python -m envcore tree ENV --json` against `pipdeptree --json-tree`, as whole processes.

Builds a 300-package environment shaped like real ones (wheels made by tests/wheelmaker.py,
installed offline by uv from a local directory): 90 leaves (the six/idna/certifi kind, a
few of them hubs that most packages require), 100 libraries on top of them, 80 frameworks
on those, 30 applications nothing requires; requirements with ranges, some under markers
false for this Python, some through extras. Checks first that both tools draw the same
tree (names, versions, required specifiers; pipdeptree's JSON as in
tests/envcore/test_tree.py), then times them alternating A B A B, medians of the per-pair
ratios, wall and CPU (user + system) of the child processes.
Usage: python -m benchmarks.bench_tree [--runs 11] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_cli import compare  # noqa: E402
from benchmarks.bench_scan import offline_venv  # noqa: E402
from tests.wheelmaker import write_wheel  # noqa: E402

UV = str(Path(sys.executable).parent / "uv")
PIPDEPTREE = str(Path(sys.executable).parent / "pipdeptree")
#: (layer name, how many, how many requirements each, from which earlier layers)
LAYERS = [
    ("leaf", 90, (0, 0), ()),
    ("lib", 100, (1, 3), ("leaf",)),
    ("framework", 80, (2, 6), ("leaf", "lib")),
    ("app", 30, (4, 12), ("leaf", "lib", "framework")),
]
FALSE_MARKERS = [
    'python_version < "3.8"',
    'sys_platform == "win32"',
    'implementation_name == "pypy"',
]


def requirement(name: str, rng: random.Random) -> str:
    spec = rng.choice(["", ">=1.0", ">=1.0,<2", "~=1.0", ">=0.9,!=0.9.5,<2", "<2"])
    return f"{name}{spec}"


def build_env(base: Path, rng: random.Random) -> Path:
    wheels = base / "wheels"
    names: dict[str, list[str]] = {}
    extras_of: dict[str, str] = {}
    for layer, count, (low, high), below in LAYERS:
        names[layer] = [f"{layer}-{index:03d}" for index in range(count)]
        pool = [name for other in below for name in names[other]]
        hubs = names["leaf"][:6]  # typing-extensions, packaging, urllib3...
        for name in names[layer]:
            picked = set(rng.sample(pool, rng.randint(low, high)) if pool else [])
            if pool and rng.random() < 0.5:
                picked.add(rng.choice(hubs))
            requires = []
            for dep in sorted(picked):
                text = requirement(dep, rng)
                if dep in extras_of and rng.random() < 0.3:
                    text = text.replace(dep, f"{dep}[{extras_of[dep]}]", 1)
                requires.append(text)
            if pool and rng.random() < 0.15:
                requires.append(f"{rng.choice(pool)}; {rng.choice(FALSE_MARKERS)}")
            extras = {}
            if layer in ("lib", "framework") and rng.random() < 0.2:
                extras_of[name] = "speed"
                extras["speed"] = [requirement(rng.choice(names["leaf"]), rng)]
            write_wheel(
                wheels,
                name,
                f"1.{rng.randint(0, 9)}.0",
                requires=requires,
                extras=extras,
                summary=f"The {name} package",
            )
    every = [name for layer in names.values() for name in layer]
    return offline_venv(base / "env", wheels, every)


def same_tree(env: Path) -> None:
    """Both tools' nested JSON, reduced to (name, version, required, extra, repeated, children)."""

    def theirs(node: dict[str, object]) -> tuple[object, ...]:
        children = node["dependencies"]
        assert isinstance(children, list)
        return (
            node["package_name"],
            node["installed_version"],
            node["required_version"],
            node.get("extra") or None,
            node.get("repeated", False),
            tuple(theirs(child) for child in children),
        )

    def ours(node: dict[str, object]) -> tuple[object, ...]:
        children = node["children"]
        assert isinstance(children, list)
        return (
            node["name"],
            node["version"] or "?",
            node["required"],
            node["extra"],
            node["repeated"],
            tuple(ours(child) for child in children),
        )

    python = str(env / "bin" / "python")
    their_tree = json.loads(
        subprocess.run(
            [PIPDEPTREE, "--json-tree", "--python", python],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    our_tree = json.loads(
        subprocess.run(
            [sys.executable, "-m", "envcore", "tree", str(env), "--json"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
    )
    assert [ours(node) for node in our_tree] == [theirs(node) for node in their_tree]
    count = sum(1 for _ in (env / "lib").glob("python*/site-packages/*.dist-info"))
    print(f"{count} distributions, {len(our_tree)} roots: the same tree from both tools")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--keep", type=Path, help="build the environment here once, reuse it")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="envdash-bench-tree-"))
    env = base / "env"
    if not env.exists():
        build_env(base, random.Random(15))
    same_tree(env)
    children_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    python = str(env / "bin" / "python")
    compare(
        "python -m envcore tree ENV --json  vs  pipdeptree --json-tree --python ENV/bin/python",
        [sys.executable, "-m", "envcore", "tree", str(env), "--json"],
        [PIPDEPTREE, "--json-tree", "--python", python],
        args.runs,
        children_env,
    )
    compare(
        "python -m envcore tree ENV  vs  pipdeptree --python ENV/bin/python (text)",
        [sys.executable, "-m", "envcore", "tree", str(env)],
        [PIPDEPTREE, "--python", python, "-o", "text"],
        args.runs,
        children_env,
    )
    compare(
        "the floor: python -c pass  vs  pipdeptree --json-tree",
        [sys.executable, "-c", "pass"],
        [PIPDEPTREE, "--json-tree", "--python", python],
        args.runs,
        children_env,
    )
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("UV_NO_CONFIG", "1")
    main()
