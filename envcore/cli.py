"""`python -m envcore`: the library's command line, usable without Django.

Only the chosen subcommand's module is imported, after a first parse has named it: `--help`
and each subcommand start without loading what the other subcommands need.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from envcore import __version__
from envcore.errors import EnvcoreError

#: Subcommand → its one-line help. `envcore.commands.<name>` defines `configure(parser)`,
#: which adds the arguments and `run`; it is imported only when that subcommand is chosen.
COMMANDS = {
    "scan": "find environments under directories",
    "list": "list installed distributions (like pip list)",
    "freeze": "print pins like pip freeze",
    "check": "verify dependencies (like pip check)",
    "reqs": "parse a requirements file exactly as pip does",
    "drift": "compare an environment with its requirements",
    "outdated": "what could be upgraded, and how far the requirements allow",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; only `command`'s subparser gets its arguments (none when None).

    The others are placeholders that accept anything, so that a first parse can find the
    command's name (and handle `--help`, `--version` and an unknown command) cheaply.
    """
    parser = argparse.ArgumentParser(
        prog="python -m envcore",
        description="Find, inspect and compare Python environments without running them.",
    )
    parser.add_argument("--version", action="version", version=f"envcore {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=help_text, add_help=name == command)
        if name == command:
            importlib.import_module(f"envcore.commands.{name}").configure(subparser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    chosen, _ = build_parser().parse_known_args(arguments)
    args = build_parser(chosen.command).parse_args(arguments)
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
