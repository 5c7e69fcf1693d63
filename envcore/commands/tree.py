"""`tree ENV`: why each package is installed, drawn as pipdeptree draws it."""

from __future__ import annotations

import argparse
import json
import sys

from envcore.commands._common import add_env_argument, open_inventory
from envcore.errors import EnvcoreError
from envcore.tree import ANY, DependencyGraph, Node


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
    names = [name.strip() for value in args.package for name in value.split(",") if name.strip()]
    unknown = [name for name in names if not graph.known(name)]
    if unknown:
        raise EnvcoreError(
            f"not installed in {args.env} and required by nothing: {', '.join(unknown)}"
        )
    build = graph.reverse if args.reverse else graph.tree
    nodes = build(names, depth=args.depth)
    if args.json:
        # One C-encoded string: json.dump would write a 300-package tree in ~10^5 pieces.
        sys.stdout.write(json.dumps([node.to_json() for node in nodes]) + "\n")
    else:
        write = sys.stdout.write
        for node in nodes:
            write(_root_line(node))
            for line in _lines(node, "", reverse=args.reverse):
                write(line)
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
    return 1 if args.strict and conflicts else 0


def _root_line(node: Node) -> str:
    return f"{node.name}=={node.version if node.version is not None else '?'}\n"


def _lines(parent: Node, prefix: str, *, reverse: bool) -> list[str]:
    lines = []
    for index, node in enumerate(parent.children):
        last = index == len(parent.children) - 1
        label = _label(node, parent, reverse=reverse)
        lines.append(f"{prefix}{'└── ' if last else '├── '}{label}\n")
        if node.children:
            lines += _lines(node, prefix + ("    " if last else "│   "), reverse=reverse)
    return lines


def _label(node: Node, parent: Node, *, reverse: bool) -> str:
    """pipdeptree's line, plus the conflict it leaves to its warnings."""
    extra = f", extra: {node.extra}" if node.extra else ""
    installed = node.version if node.version is not None else "?"
    if reverse:
        required = "" if node.required == ANY else node.required
        label = f"{node.name}=={installed} [requires: {parent.name}{required}{extra}]"
    else:
        label = f"{node.name} [required: {node.required}, installed: {installed}{extra}]"
    if node.conflict:
        label += f" ({node.conflict})"
    if node.repeated:
        label += " (*)"
    return label
