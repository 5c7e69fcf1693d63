"""`outdated ENV`: like `pip list --outdated`, plus the newest version the requirements allow."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from envcore.commands._common import (
    add_report_arguments,
    print_json,
    print_table,
)
from envcore.distributions import read_inventory
from envcore.environment import inspect_environment
from envcore.errors import RequirementsError
from envcore.index import DEFAULT_TTL, IndexClient
from envcore.outdated import allowed_by, outdated
from envcore.pipconfig import read_pip_config
from envcore.requirements import find_requirements_source
from envcore.text import counted


def configure(parser: argparse.ArgumentParser) -> None:
    add_report_arguments(parser)
    parser.add_argument("--all", action="store_true", help="list up-to-date packages too")
    parser.add_argument("--pre", action="store_true", help="include pre-releases")
    parser.add_argument("--offline", action="store_true", help="use the cache only")
    parser.add_argument("--index-url", metavar="URL", help="instead of the configured index")
    parser.add_argument("--cache-dir", metavar="DIR", type=Path)
    parser.add_argument("--ttl", type=float, default=DEFAULT_TTL, help="cache lifetime (s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    env = inspect_environment(args.env)
    inventory = read_inventory(env)
    source = args.requirements
    if source is None and env.project is not None:
        source = find_requirements_source(env.project)
    if source is not None and not source.is_file():
        raise RequirementsError(f"{source} is not a file")
    # A lock (the project's source when it has one) is selected for the env's own markers,
    # and "Allowed" follows the ranges its project declares, not its pins.
    environment = env.marker_environment()
    parsed = allowed_by(source, environment) if source is not None else None
    config = read_pip_config(os.environ, site_prefix=env.path)
    if args.index_url:
        config = config.with_overrides(index_url=args.index_url)
    client = IndexClient(config, cache_dir=args.cache_dir, ttl=args.ttl, offline=args.offline)
    report = outdated(env, inventory, client, parsed, pre=args.pre)
    shown = report.packages if args.all else report.upgradable
    if args.json:
        data = report.to_json()
        data["environment"] = str(env.path)
        print_json(data)
        return 0
    rows = [
        [
            item.name,
            item.installed,
            item.latest or "?",
            item.latest_allowed or "-",
            item.jump,
            item.reason,
        ]
        for item in shown
    ]
    unknown = [item for item in report.packages if item.status == "unknown"]
    if rows:
        print_table(["Package", "Version", "Latest", "Allowed", "Type", "Note"], rows)
    else:
        print("everything is up to date")
    if unknown and not args.all:
        print(f"{counted(len(unknown), 'package')} unknown: {unknown[0].reason}")
    return 0
