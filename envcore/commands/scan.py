"""`scan [ROOT...]`: every environment under the roots, with kind, Python, health and size."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from envcore.commands._common import print_json, print_table
from envcore.discover import DEFAULT_MAX_DEPTH, default_excludes, default_roots, discover
from envcore.distributions import read_inventory
from envcore.environment import inspect_environment
from envcore.errors import EnvcoreError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("roots", metavar="ROOT", nargs="*", type=Path)
    parser.add_argument("--json", action="store_true", help="print JSON objects")
    parser.add_argument("--max-depth", type=int, default=DEFAULT_MAX_DEPTH, metavar="N")
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB", help="skip matching dirs"
    )
    parser.set_defaults(func=run)


def describe(path: Path, roots: Sequence[Path] | None = None) -> dict[str, object]:
    """One environment as the JSON `scan` prints (also used by the benchmark); `roots`:
    the scan's, where a `.project` file may link it."""
    env = inspect_environment(path, roots=roots)
    inventory = read_inventory(env)
    return {
        "path": str(env.path),
        "name": env.name,
        "kind": env.kind,
        "manager": env.manager,
        "is_app_env": env.is_app_env,
        "python_version": env.python_version,
        "broken": env.broken,
        "broken_reason": env.broken_reason or None,
        "project": str(env.project) if env.project else None,
        "is_django": env.is_django,
        "packages": len(inventory.distributions),
        "warnings": list(inventory.warnings),
    }


def _safe_describe(path: Path, roots: Sequence[Path]) -> dict[str, object] | str:
    try:
        return describe(path, roots)
    except EnvcoreError as exc:
        return f"{path}: {exc}"


def run(args: argparse.Namespace) -> int:
    if args.max_depth < 0:
        raise SystemExit("envcore scan: error: --max-depth must be 0 or more")
    roots = args.roots or default_roots()
    excludes = [*args.exclude, *([] if args.roots else default_excludes())]
    for root in args.roots:
        if not root.is_dir():
            print(f"envcore: error: {root} is not a directory", file=sys.stderr)
            return 2
    found = discover(roots, max_depth=args.max_depth, exclude=excludes)
    for warning in found.warnings:
        print(f"envcore: warning: {warning}", file=sys.stderr)
    # One after the other: a pool of threads was slower on two cores (the work is short
    # system calls and the GIL), and one of processes costs more than it saves
    # (benchmarks/README.md, "Command line").
    described = [_safe_describe(path, roots) for path in found.environments]
    rows = [item for item in described if isinstance(item, dict)]
    for item in described:
        if isinstance(item, str):
            print(f"envcore: warning: {item}", file=sys.stderr)
    if args.json:
        print_json(rows)
        return 0
    table = [
        [
            str(row["path"]),
            str(row["kind"]),
            str(row["python_version"] or "?"),
            "broken" if row["broken"] else "ok",
            str(row["packages"]),
        ]
        for row in rows
    ]
    if table:
        print_table(["Environment", "Kind", "Python", "Health", "Packages"], table)
    return 0
