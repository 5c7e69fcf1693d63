"""`tree ENV`: why each package is installed, drawn as pipdeptree draws it."""

from __future__ import annotations

import argparse
import json
import sys

from envcore.commands._common import add_env_argument, open_inventory
from envcore.errors import EnvcoreError
from envcore.tree import DependencyGraph


def configure(parser: argparse.ArgumentParser) -> None:
    add_env_argument(parser)
    parser.add_argument(
        "-r", "--reverse", action="store_true", help="what requires each package, up to the roots"
    )
    parser.add_argument(
        "-p",
        "--package",
        metavar="NAME",
        action="append",
        default=[],
        help="start from these packages (repeat, or NAME,NAME)",
    )
    parser.add_argument(
        "-d", "--depth", metavar="N", type=_depth, help="show N levels below each start"
    )
    parser.add_argument("--json", action="store_true", help="print the tree as nested JSON")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a requirement is missing or not satisfied (pipdeptree --warn fail)",
    )
    parser.set_defaults(func=run)


def _depth(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def run(args: argparse.Namespace) -> int:
    inventory = open_inventory(args.env)
    graph = DependencyGraph.from_inventory(inventory)
    for reason in inventory.unreadable_dependencies.values():
        print(f"envcore: warning: {reason}", file=sys.stderr)
    names = [name.strip() for value in args.package for name in value.split(",") if name.strip()]
    unknown = [name for name in names if not graph.known(name)]
    if unknown:
        raise EnvcoreError(
            f"not installed in {args.env} and required by nothing: {', '.join(unknown)}"
        )
    build = graph.reverse if args.reverse else graph.tree
    nodes = build(names, depth=args.depth)
    if args.json:
        # One C-encoded string: json.dump would write a large tree in ~10^5 pieces.
        sys.stdout.write(json.dumps([node.to_json() for node in nodes]) + "\n")
    else:
        from envcore.treelines import label, tree_lines  # the text form only

        sys.stdout.writelines(
            f"{line.guide}{label(line, reverse=args.reverse)}\n" for line in tree_lines(nodes)
        )
    conflicts = graph.conflicts()
    if conflicts:
        print("Warning: dependency problems found:", file=sys.stderr)
        for package, dep, conflict in conflicts:
            installed = graph.packages.get(dep.key)
            version = installed.version if installed is not None else "?"
            print(
                f"* {package.name}=={package.version} requires {dep.name} "
                f"[required: {dep.required}, installed: {version}] ({conflict})",
                file=sys.stderr,
            )
    cycles = graph.cycles()
    if cycles:
        print("Warning: dependency cycles found:", file=sys.stderr)
        for cycle in cycles:
            print("* " + " => ".join(graph.packages[key].name for key in cycle), file=sys.stderr)
    return 1 if args.strict and conflicts else 0
