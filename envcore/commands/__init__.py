"""One module per `python -m envcore` subcommand, imported only when that subcommand runs.

Each defines `configure(parser)`, which adds the subcommand's arguments and sets `func=run`;
the one-line help of each is in `envcore.cli.COMMANDS`.
"""
