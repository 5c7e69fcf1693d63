"""`envdash serve`: migrate, queue a first scan, serve with waitress, and keep the workers
and the watcher running (restarted when they die, ended when serve ends: see
dashboard.supervisor).

Loopback only unless --allow-remote is given: the dashboard can run pip, so exposing it
to a network is a decision the user must make explicitly (and is warned about).
"""

from __future__ import annotations

import ipaddress
import os
import signal
import sys
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from waitress.server import create_server

from dashboard import live
from dashboard.auth import login_token, name_cookies_for_port
from dashboard.supervisor import Supervisor
from dashboard.tasks import enqueue_scan
from dashboard.team.conf import max_request_body_bytes
from dashboard.wsgi import application


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Command(BaseCommand):
    help = "Start the envdash dashboard (web server and background worker)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default=settings.HOST, help="Address to bind.")
        parser.add_argument("--port", type=int, default=settings.PORT, help="Port (0: any).")
        parser.add_argument(
            "--allow-remote",
            action="store_true",
            help="Allow binding to a non-loopback address (anyone who can reach it and has "
            "the token can run pip on this machine).",
        )
        parser.add_argument("--no-worker", action="store_true", help="Do not start workers.")
        parser.add_argument("--no-scan", action="store_true", help="Skip the first scan.")
        parser.add_argument(
            "--no-watch",
            action="store_true",
            help="Do not follow changes on disk (no watcher process; see ENVDASH_WATCH).",
        )
        parser.add_argument("--threads", type=int, default=8, help="Web server threads.")

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"]
        if not is_loopback(host):
            if not options["allow_remote"]:
                raise CommandError(
                    f"refusing to bind to {host}: envdash binds to loopback only; "
                    "pass --allow-remote (and set ENVDASH_ALLOWED_HOSTS) to expose it"
                )
            self.stderr.write(
                f"WARNING: serving on {host}, reachable from the network. Anyone with the "
                "token can run pip on this machine. Prefer an SSH tunnel."
            )
        if settings.DEBUG:
            raise CommandError("ENVDASH_DEBUG is on: use `manage.py runserver` for development")
        call_command("migrate", interactive=False, verbosity=0)
        # Sessions live in the database; expired ones would otherwise pile up forever.
        call_command("clearsessions", verbosity=0)
        try:
            # Bound before the first scan is queued: a port in use ends here, with nothing
            # left waiting for a worker that never starts.
            server = create_server(
                application,
                host=host,
                port=options["port"],
                threads=options["threads"],
                max_request_body_size=max_request_body_bytes(),
                # Reads ahead on a busy connection, so a held live poll learns that its
                # tab went away (environ's waitress.client_disconnected) and frees its thread.
                channel_request_lookahead=1,
            )
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {host}:{options['port']}: {exc.strerror or exc}; "
                "another program (or another envdash) uses it, pass --port to pick another"
            ) from exc
        # Held live polls each hold a thread: half of them stay for page views and actions.
        live.hold_at_most(options["threads"] // 2)
        if not options["no_scan"]:
            enqueue_scan()
        # The login URL is the last line of start-up: the workers' INFO lines (each says it
        # is listening) would come after it. Warnings and errors still show;
        # ENVDASH_LOG_LEVEL, when set, decides.
        quiet = {"ENVDASH_LOG_LEVEL": "WARNING", **os.environ}
        workers = Supervisor(
            [sys.executable, "-m", "dashboard.cli", "worker", "--supervised"],
            0 if options["no_worker"] else int(settings.JOB_CONCURRENCY),
            log=self.stderr.write,
            env=quiet,
        )
        # One watcher follows the disk (dashboard.watcher), supervised like the workers.
        watcher = Supervisor(
            [sys.executable, "-m", "dashboard.cli", "watch", "--supervised"],
            0 if options["no_watch"] else 1,
            log=self.stderr.write,
            env=quiet,
            name="watcher",
        )
        workers.start()
        watcher.start()
        port = server.effective_port
        name_cookies_for_port(int(port))
        shown_host = f"[{host}]" if ":" in host else host
        token = login_token()
        self.stdout.write(f"envdash: open http://{shown_host}:{port}/login/?token={token}")
        self.stdout.flush()

        def stop(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            live.stop_holding()
            server.close()
            watcher.stop(grace=5.0)
            workers.stop()
