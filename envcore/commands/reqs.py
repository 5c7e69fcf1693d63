"""`reqs FILE`: a requirements file (or pyproject.toml) as pip reads it, with every problem."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from envcore.commands._common import print_json, print_table
from envcore.requirements import RequirementEntry, load_requirements
from envcore.text import shown_url


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", metavar="FILE", type=Path, help="requirements file or pyproject.toml"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def _flags(entry: RequirementEntry) -> str:
    flags = []
    if entry.editable:
        flags.append("editable")
    if entry.constraint:
        flags.append("constraint")
    if entry.hashes:
        flags.append(f"{len(entry.hashes)} hash{'es' if len(entry.hashes) > 1 else ''}")
    return ",".join(flags)


def run(args: argparse.Namespace) -> int:
    parsed = load_requirements(args.file)
    if args.json:
        print_json(parsed.to_json())
    else:
        rows = [
            [
                (entry.name or "(unnamed)")
                + (f"[{','.join(entry.extras)}]" if entry.extras else ""),
                f"{entry.specifier}" if not entry.url else f"@ {shown_url(entry.url)}",
                entry.marker or "",
                _flags(entry),
                entry.source,
            ]
            for entry in parsed.entries
        ]
        if rows:
            print_table(["Name", "Requirement", "Marker", "Flags", "Source"], rows)
        for warning in parsed.warnings:
            print(f"envcore: warning: {warning}", file=sys.stderr)
        for error in parsed.errors:
            print(f"envcore: invalid: {error}", file=sys.stderr)
    return 1 if parsed.errors else 0
