"""`python -m envcore`: the library's command line, usable without Django.

Only the chosen subcommand's module is imported, after a first parse has named it: `--help`
and each subcommand start without loading what the other subcommands need.

What a command prints may come from files anyone can write (a METADATA `Name:` holding
`ESC]0;…BEL` sets the terminal's title, `ESC[2J` clears it): while it runs, stdout and
stderr show every control and bidi character as ⟨U+XXXX⟩, line feeds kept, as the
dashboard's pages do (envcore.text.mark_invisible). JSON output is unchanged by this: it
escapes every such character itself.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TextIO, cast

from envcore import __version__
from envcore.errors import EnvcoreError

#: Subcommand → its one-line help. `envcore.commands.<name>` defines `configure(parser)`,
#: which adds the arguments and `run`; it is imported only when that subcommand is chosen.
COMMANDS = {
    "scan": "find environments under directories",
    "list": "list installed distributions (like pip list)",
    "freeze": "print pins like pip freeze",
    "check": "verify dependencies (like pip check)",
    "tree": "why each package is installed (a dependency tree)",
    "reqs": "parse a requirements file exactly as pip does",
    "drift": "compare an environment with its requirements",
    "outdated": "what could be upgraded, and how far the requirements allow",
    "plan": "what sync would change (the installer's own dry run)",
    "sync": "make an environment match its requirements, as plan shows",
}

#: What `python -m envcore COMMAND --help` adds under its usage line, where there is more to say.
DESCRIPTIONS = {
    "scan": (
        "Without ROOT, scans your home and the well-known homes of environments "
        "(virtualenvwrapper, pipenv, poetry, pyenv, conda, hatch)."
    ),
    "reqs": (
        "Exit status: 0 when every line is valid, 1 when some lines are not "
        "(they are reported with file:line), 2 when the file cannot be read."
    ),
    "drift": (
        "Without -r, the requirements come from the environment's project "
        "(requirements.txt, then requirements/*.txt, then pyproject.toml). Exit status: 0 in "
        "sync, 1 drifted (or broken, or invalid lines), 2 usage or input error."
    ),
    "tree": (
        "The roots are the packages nothing else requires; markers are evaluated for the "
        "environment's own Python, and a requirement naming extras brings in what they "
        "require. Missing and unsatisfied requirements are marked and listed on stderr. Exit "
        "status: 0 (1 with --strict when a requirement is missing or not satisfied), 2 usage "
        "or input error."
    ),
    "outdated": (
        "Asks the indexes pip would use (pip's config files and PIP_* variables) through a "
        "cache. Without -r, the requirements come from the environment's project. Exit "
        "status 0, or 2 on a usage or input error."
    ),
    "plan": (
        "Runs pip's or uv's own resolver in dry-run mode with your pip configuration, keeping "
        "installed versions that satisfy; what the requirements no longer need is planned for "
        "removal (pip, setuptools and wheel never). Exit status: 0 nothing to change, 1 "
        "changes planned, 2 error."
    ),
    "sync": (
        "Plans as `plan` does, then installs exactly the planned versions and removes the "
        "planned removals. Exit status: 0 done, 2 error (the environment is left as the "
        "installer left it)."
    ),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; only `command`'s subparser gets its arguments (none when None).

    The others are placeholders that accept anything, so that a first parse can find the
    command's name (and handle `--help`, `--version` and an unknown command) cheaply.
    """
    parser = argparse.ArgumentParser(
        prog="python -m envcore",
        description="Find, inspect and compare Python environments without running them.",
    )
    parser.add_argument("--version", action="version", version=f"envcore {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        subparser = subparsers.add_parser(
            name, help=help_text, description=DESCRIPTIONS.get(name), add_help=name == command
        )
        if name == command:
            importlib.import_module(f"envcore.commands.{name}").configure(subparser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    chosen, _ = build_parser().parse_known_args(arguments)
    args = build_parser(chosen.command).parse_args(arguments)
    if argv is None:
        # The process's own command line: what is loaded by now (modules, the parser) lives
        # until exit, so it is moved out of the collector's sight, and the collections that
        # a command's many small objects trigger no longer walk it each time (~9 % of the
        # CPU of `tree` and of `drift -r uv.lock` on 300 packages). Not done for a caller's
        # argv (tests run main in their own process, which must keep collecting).
        gc.freeze()
    with _shown_visibly():
        try:
            result: int = args.func(args)
        except EnvcoreError as exc:
            print(f"envcore: error: {exc}", file=sys.stderr)
            return 2
        except BrokenPipeError:  # `python -m envcore freeze ENV | head`
            return 0
        except KeyboardInterrupt:
            return 130
    return result


class _Visible:
    """A text stream writing control and bidi characters as ⟨U+XXXX⟩, line feeds kept;
    the rest (flush, fileno, encoding…) is the stream's own."""

    def __init__(self, stream: TextIO) -> None:
        from envcore.text import mark_invisible  # after the parse: `--help` does without

        self._mark = mark_invisible
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(self._mark(text, lines=True))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        # One pass over the whole text: `tree` writes ~10^5 lines at once.
        self._stream.write(self._mark("".join(lines), lines=True))

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _shown_visibly() -> Iterator[None]:
    """stdout and stderr as `_Visible` streams, given back afterwards (tests run `main`
    in their own process, with their own captured streams)."""
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = cast(TextIO, _Visible(stdout)), cast(TextIO, _Visible(stderr))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = stdout, stderr
