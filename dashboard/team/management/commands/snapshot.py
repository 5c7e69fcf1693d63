"""`envdash snapshot export [-o FILE]` and `envdash snapshot push URL --token T [FILE]`."""

from __future__ import annotations

import json
import os
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.team.client import PushError, push_snapshot_document
from dashboard.team.local import machine_snapshot
from envcore.errors import EnvcoreError
from envcore.snapshot import parse_snapshot


class _PositionalsFirst(CommandParser):
    """Lets `push URL --token T FILE` work: argparse fills an optional positional at its
    first chance (before --token) and then refuses FILE, so options are moved last."""

    _FLAGS = frozenset({"-h", "--help"})

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        words = list(args) if args is not None else sys.argv[1:]
        positionals: list[str] = []
        options: list[str] = []
        index = 0
        while index < len(words):
            word = words[index]
            if word.startswith("-") and word != "-":
                takes_value = "=" not in word and word not in self._FLAGS
                options.extend(words[index : index + (2 if takes_value else 1)])
                index += 2 if takes_value else 1
            else:
                positionals.append(word)
                index += 1
        return super().parse_known_args(positionals + options, namespace)


class Command(BaseCommand):
    help = "Export this machine's environments as a team snapshot, or push one to a team server."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, parser_class=_PositionalsFirst
        )
        export = actions.add_parser("export", help="write this machine's snapshot as JSON")
        export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
        export.add_argument(
            "--root", action="append", type=Path, default=[], help="scan this root instead"
        )
        push = actions.add_parser("push", help="send a snapshot to a team server")
        push.add_argument("url", help="the team server, e.g. https://envdash.example:8000")
        push.add_argument(
            "--token",
            default=os.environ.get("ENVDASH_TEAM_TOKEN", ""),
            help="your member API token (default: $ENVDASH_TEAM_TOKEN)",
        )
        push.add_argument(
            "file", nargs="?", type=Path, help="a snapshot file (default: scan this machine now)"
        )
        push.add_argument(
            "--root", action="append", type=Path, default=[], help="scan this root instead"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "export":
                self._export(options["output"], options["root"])
            else:
                self._push(options["url"], options["token"], options["file"], options["root"])
        except (EnvcoreError, PushError, OSError) as exc:
            raise CommandError(str(exc)) from exc

    def _export(self, output: Path | None, roots: list[Path]) -> None:
        text = json.dumps(machine_snapshot(roots or None), indent=1) + "\n"
        if output is None:
            sys.stdout.write(text)
            return
        # Write beside the target then rename: an interrupted export leaves no half file.
        partial = output.with_name(output.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(output)
        self.stderr.write(f"wrote {output}")

    def _push(self, url: str, token: str, file: Path | None, roots: list[Path]) -> None:
        if file is not None:
            # Checked here too, so a bad file gets its reason without a round trip.
            document = parse_snapshot(file.read_bytes())
        else:
            document = machine_snapshot(roots or None)
        answer = push_snapshot_document(url, token, document)
        self.stdout.write(
            f"pushed snapshot of {answer.get('host', '?')} "
            f"({answer.get('environments', '?')} environments)"
        )
