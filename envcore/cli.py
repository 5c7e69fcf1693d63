"""`python -m envcore`: the library's command line, usable without Django."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from envcore import __version__
from envcore.errors import EnvcoreError

#: Modules under envcore.commands; each adds one subcommand through `register(subparsers)`.
COMMANDS = ("scan", "list", "freeze", "check", "reqs", "drift", "outdated")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m envcore",
        description="Find, inspect and compare Python environments without running them.",
    )
    parser.add_argument("--version", action="version", version=f"envcore {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"envcore.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
    except EnvcoreError as exc:
        print(f"envcore: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `python -m envcore freeze ENV | head`
        return 0
    except KeyboardInterrupt:
        return 130
    return result
