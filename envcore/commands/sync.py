"""`sync ENV`: make the environment match its requirements, exactly as `plan` shows."""

from __future__ import annotations

import argparse

from envcore.commands._common import add_sync_arguments, echo_line, print_table
from envcore.ops.context import Context, Log
from envcore.ops.sync import sync
from envcore.text import counted


def configure(parser: argparse.ArgumentParser) -> None:
    add_sync_arguments(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="do not echo pip/uv output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    log = Log() if args.quiet else Log(on_line=echo_line)
    result = sync(
        args.env,
        args.requirements,
        keep_untracked=args.keep_untracked,
        context=Context(installer=args.installer, log=log),
    )
    rows = [line.split(" ", 1) for line in result.changes]
    if rows:
        print_table(["", "Change"], rows)
    summary = result.drift.summary if result.drift is not None else "done"
    print(f"{counted(len(rows), 'change')} made with {result.backend}; now {summary}")
    return 0
