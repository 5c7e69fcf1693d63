"""`list ENV`: the installed distributions, as `pip list` prints them."""

from __future__ import annotations

import argparse

from envcore.commands._common import add_env_argument, open_inventory, print_json, print_table
from envcore.pipcompat import list_json


def configure(parser: argparse.ArgumentParser) -> None:
    add_env_argument(parser)
    parser.add_argument("--json", action="store_true", help="print pip list --format=json")
    parser.add_argument("--not-required", action="store_true", help="only top-level packages")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inventory = open_inventory(args.env)
    rows = list_json(inventory)
    if args.not_required:
        wanted = {dist.name for dist in inventory.not_required()}
        rows = [row for row in rows if row["name"] in wanted]
    if args.json:
        print_json(rows)
        return 0
    editable = any("editable_project_location" in row for row in rows)
    header = ["Package", "Version"] + (["Editable project location"] if editable else [])
    table = [
        [row["name"], row["version"]]
        + ([row.get("editable_project_location", "")] if editable else [])
        for row in rows
    ]
    if table:
        print_table(header, table)
    return 0
