"""Helpers shared by the subcommands: common arguments, opening an environment, printing."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from envcore.text import mark_invisible

if TYPE_CHECKING:
    from envcore.distributions import Inventory


def add_env_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("env", metavar="ENV", type=Path, help="path of the environment")


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """ENV, -r FILE and --json: what `drift` and `outdated` both take."""
    add_env_argument(parser)
    parser.add_argument(
        "-r",
        "--requirements",
        metavar="FILE",
        type=Path,
        help="requirements file or pyproject.toml",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def add_sync_arguments(parser: argparse.ArgumentParser) -> None:
    """ENV, -r FILE, --installer and --keep-untracked: what `plan` and `sync` both take."""
    parser.add_argument("env", metavar="ENV", type=Path, help="path of the environment")
    parser.add_argument(
        "-r",
        "--requirements",
        metavar="FILE",
        type=Path,
        help="requirements file or pyproject.toml (default: the project's own)",
    )
    parser.add_argument(
        "--installer",
        choices=("auto", "pip", "uv"),
        default="auto",
        help="whose resolver plans and installs (default: uv when found, else pip)",
    )
    parser.add_argument(
        "--keep-untracked",
        action="store_true",
        help="do not remove what the requirements do not need",
    )


def open_inventory(path: Path) -> Inventory:
    """Inspect + read; per-package metadata problems go to stderr as warnings."""
    from envcore.distributions import read_inventory  # `reqs` does without both
    from envcore.environment import inspect_environment

    inventory = read_inventory(inspect_environment(path))
    for warning in inventory.warnings:
        print(f"envcore: warning: {warning}", file=sys.stderr)
    return inventory


def echo_line(stream: str, text: str) -> None:
    """An installer's output line, passed on to our stderr as pip would show it."""
    print(text, file=sys.stderr)


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=None)
    sys.stdout.write("\n")


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns like pip's: a header, a dashed rule, left-aligned cells; a control or bidi
    character in a cell shown as ⟨U+XXXX⟩ before the columns are measured."""
    cells = [[mark_invisible(str(cell)) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    lines = [header, ["-" * width for width in widths], *cells]
    for row in lines:
        print(
            " ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
