"""`plan ENV`: what `sync` would change, by the installer's own dry run; exit 1 if anything."""

from __future__ import annotations

import argparse

from envcore.commands._common import add_sync_arguments, print_json, print_table
from envcore.ops.context import Context
from envcore.ops.plan import Plan, plan_sync


def configure(parser: argparse.ArgumentParser) -> None:
    add_sync_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def plan_rows(plan: Plan) -> list[list[str]]:
    return [
        [change.name, change.action, change.before or "-", change.after or "-"]
        for change in plan.changes
    ]


def run(args: argparse.Namespace) -> int:
    plan = plan_sync(
        args.env,
        args.requirements,
        keep_untracked=args.keep_untracked,
        context=Context(installer=args.installer),
    )
    if args.json:
        print_json(plan.to_json())
    elif plan.empty:
        print(f"nothing to change ({plan.installer} dry run)")
    else:
        print_table(["Package", "Action", "From", "To"], plan_rows(plan))
        print(f"{len(plan.changes)} change(s) planned ({plan.installer} dry run)")
    return 0 if plan.empty else 1
