"""One module per `python -m envcore` subcommand; each exposes `register(subparsers)`."""
