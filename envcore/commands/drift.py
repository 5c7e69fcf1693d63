"""`drift ENV`: what is installed vs what the project asks for; a CI gate by exit status."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from envcore.commands._common import (
    add_env_argument,
    open_inventory,
    print_json,
    print_table,
)
from envcore.drift import STATUSES, DriftReport, drift_for_environment
from envcore.errors import RequirementsError
from envcore.requirements.source import SourceChoice, source_kind
from envcore.text import counted


def configure(parser: argparse.ArgumentParser) -> None:
    add_env_argument(parser)
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "-r",
        "--requirements",
        metavar="FILE",
        type=Path,
        help="requirements file, pyproject.toml, Pipfile or lock file (default: the project's "
        "lock file, else its requirements)",
    )
    source.add_argument(
        "--lock",
        metavar="FILE",
        type=Path,
        help="lock file: uv.lock, pylock.toml, pylock.NAME.toml, poetry.lock or Pipfile.lock",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
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


def _given(args: argparse.Namespace) -> SourceChoice | None:
    """The source named on the command line (None: let choose_source pick); a missing file,
    or a --lock that is not a lock file, is a usage error."""
    source: Path | None = args.lock or args.requirements
    if source is None:
        return None
    if not source.is_file():
        raise RequirementsError(f"{source} is not a file")
    kind = source_kind(source)
    if args.lock is not None and kind != "lock":
        raise RequirementsError(
            f"{source} is not a lock file (uv.lock, pylock.toml, pylock.NAME.toml, "
            "poetry.lock, Pipfile.lock); pass it with -r"
        )
    return SourceChoice(source, kind, "given with --lock" if args.lock else "given with -r")


def _without_name(text: str, source: Path) -> str:
    """A reason or selection line without its leading "FILE: ", already shown beside it."""
    head, colon, rest = text.partition(": ")
    return rest if colon and str(source).endswith(head) else text


def _source_lines(report: DriftReport, source: Path) -> list[str]:
    """Which file, why, what of it was selected, and whether the lock is out of date."""
    lines = [f"source: {source} ({_without_name(report.source_reason, source)})"]
    if report.selection:
        lines.append(f"selection: {_without_name(report.selection, source)}")
    if report.lock_outdated:
        lines.append(f"lock out of date: {report.lock_outdated}")
    return lines


def run(args: argparse.Namespace) -> int:
    choice = _given(args)
    inventory = open_inventory(args.env)
    env = inventory.environment
    report = drift_for_environment(
        env, inventory, choice=choice, extras=args.extra, groups=args.group
    )
    source = report.source
    if source is None:
        print(f"envcore: error: {report.note}; pass -r FILE or --lock FILE", file=sys.stderr)
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
        for line in _source_lines(report, source):
            print(line)
        print(_summary_line(report))
    return 1 if report.failed(strict=args.strict) else 0
