"""`plan ENV`: what `sync` would change, by the installer's own dry run; exit 1 if anything."""

from __future__ import annotations

import argparse

from envcore.commands._common import (
    add_sync_arguments,
    echo_line,
    print_json,
    print_table,
)
from envcore.ops.context import Context, Log
from envcore.ops.plan import plan_sync
from envcore.ops.plans import Plan
from envcore.text import counted


def configure(parser: argparse.ArgumentParser) -> None:
    add_sync_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show the installer's own output on stderr",
    )
    parser.set_defaults(func=run)


def plan_rows(plan: Plan) -> list[list[str]]:
    return [
        [change.name, change.action, change.before or "-", change.after or "-"]
        for change in plan.changes
    ]


def run(args: argparse.Namespace) -> int:
    """Prints only the plan: the dry run's own chatter (uv's "Would install", the compile's
    pins) is noise beside the table unless asked for; a failure still names its reason."""
    log = Log(on_line=echo_line) if args.verbose else Log()
    plan = plan_sync(
        args.env,
        args.requirements,
        keep_untracked=args.keep_untracked,
        context=Context(installer=args.installer, log=log),
    )
    if args.json:
        print_json(plan.to_json())
    elif plan.empty:
        print(f"nothing to change ({plan.installer} dry run)")
    else:
        print_table(["Package", "Action", "From", "To"], plan_rows(plan))
        print(f"{counted(len(plan.changes), 'change')} planned ({plan.installer} dry run)")
    return 0 if plan.empty else 1
