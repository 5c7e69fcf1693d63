"""`freeze ENV`: requirement pins, byte-identical to `pip freeze` for valid metadata."""

from __future__ import annotations

import argparse
import sys

from envcore.commands._common import add_env_argument, open_inventory
from envcore.pipcompat import freeze


def configure(parser: argparse.ArgumentParser) -> None:
    add_env_argument(parser)
    parser.add_argument("--all", action="store_true", help="do not skip pip/setuptools/wheel")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    frozen = freeze(open_inventory(args.env), include_all=args.all)
    for line in frozen.lines:
        print(line)
    for line in frozen.skipped:  # stderr: `envcore freeze > requirements.txt` stays clean
        print(line, file=sys.stderr)
    return 0
