"""`drift ENV`: what is installed vs what the project asks for; a CI gate by exit status."""

from __future__ import annotations

import argparse
import sys

from envcore.commands._common import (
    add_report_arguments,
    open_inventory,
    print_json,
    print_table,
)
from envcore.drift import STATUSES, DriftReport, drift_for_environment
from envcore.errors import RequirementsError
from envcore.text import counted


def configure(parser: argparse.ArgumentParser) -> None:
    add_report_arguments(parser)
    parser.add_argument(
        "--strict", action="store_true", help="also fail when packages are untracked"
    )
    parser.add_argument(
        "--extra", action="append", default=[], metavar="NAME", help="pyproject extra to include"
    )
    parser.add_argument(
        "--group", action="append", default=[], metavar="NAME", help="dependency group to include"
    )
    parser.set_defaults(func=run)


def _summary_line(report: DriftReport) -> str:
    counts = ", ".join(
        f"{report.counts[status]} {status}" for status in STATUSES if report.counts.get(status)
    )
    line = report.summary + (f" ({counts})" if counts else "")
    if report.problems:
        line += f"; {counted(len(report.problems), 'dependency problem')}"
    return line


def run(args: argparse.Namespace) -> int:
    inventory = open_inventory(args.env)
    env = inventory.environment
    source = args.requirements
    if source is not None and not source.is_file():
        raise RequirementsError(f"{source} is not a file")
    report = drift_for_environment(env, inventory, source, extras=args.extra, groups=args.group)
    if report.source is None:
        print(f"envcore: error: {report.note}; pass -r FILE", file=sys.stderr)
        return 2
    if args.json:
        data = report.to_json()
        data["environment"] = str(env.path)
        data["strict_failed"] = report.failed(strict=True)
        print_json(data)
    else:
        rows = [
            [item.name, item.status, item.installed_version or "-", item.message, item.source]
            for item in report.items
        ]
        rows += [
            [name, "untracked", "", "installed, not required by anything", ""]
            for name in report.untracked
        ]
        if rows:
            print_table(["Package", "Status", "Installed", "Detail", "Source"], rows)
        for problem in report.problems:
            print(f"pip check: {problem}")
        for issue in report.parse_errors:
            print(f"envcore: invalid: {issue}", file=sys.stderr)
        if report.summary == "broken":
            print(f"broken: {report.note}")
        print(_summary_line(report))
    return 1 if report.failed(strict=args.strict) else 0
