"""Helpers shared by the subcommands: opening an environment and printing tables."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from envcore.distributions import Inventory, read_inventory
from envcore.environment import Environment, inspect_environment


def add_env_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("env", metavar="ENV", type=Path, help="path of the environment")


def open_inventory(path: Path) -> Inventory:
    """Inspect + read; per-package metadata problems go to stderr as warnings."""
    env: Environment = inspect_environment(path)
    inventory = read_inventory(env)
    for warning in inventory.warnings:
        print(f"envcore: warning: {warning}", file=sys.stderr)
    return inventory


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=None)
    sys.stdout.write("\n")


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns like pip's: a header, a dashed rule, left-aligned cells."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [header, ["-" * width for width in widths], *rows]
    for row in lines:
        print(
            " ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
