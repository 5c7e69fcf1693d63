"""`check ENV`: dependency problems, with pip check's lines and exit status."""

from __future__ import annotations

import argparse
import sys

from envcore.commands._common import add_env_argument, open_inventory
from envcore.pipcompat import check


def configure(parser: argparse.ArgumentParser) -> None:
    add_env_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inventory = open_inventory(args.env)
    problems = check(inventory)
    for problem in problems:
        if problem.kind == "unreadable":  # pip warns about these on stderr
            print(f"envcore: warning: {problem}", file=sys.stderr)
        else:
            print(problem)
    if problems or inventory.warnings:
        return 1
    print("No broken requirements found.")
    return 0
