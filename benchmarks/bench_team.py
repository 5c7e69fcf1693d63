"""Team server load: concurrent snapshot pushes to a live server on loopback, then the team page.

Pushes 200 snapshots (50 environments × 80 packages each) from concurrent clients to
envdash served by waitress, checks none was lost or duplicated, and times the team page
(target: median under 200 ms). The peer is the same pushes to a null WSGI app on waitress
(reads the body, answers 201): the floor set by HTTP and JSON on this machine.

    .venv/bin/python benchmarks/bench_team.py [--database-url postgres://postgres@127.0.0.1/envdash]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_MS = 200.0


def make_documents(
    snapshots: int, members: int, environments: int, packages: int, projects: int
) -> dict[str, list[dict[str, Any]]]:
    """Snapshots per machine (one machine per member), oldest first."""
    start = datetime.now(UTC) - timedelta(days=2)
    per_machine: dict[str, list[dict[str, Any]]] = {f"m{i:03d}": [] for i in range(members)}
    hosts = list(per_machine)
    for index in range(snapshots):
        host = hosts[index % members]
        member = int(host[1:])
        envs = []
        for env_index in range(environments):
            project = env_index % projects
            # Every 7th member is one minor version behind on a few packages: real drift.
            lag = 1 if member % 7 == 0 else 0
            shift = index // members
            dists = [
                {
                    "name": f"pkg-{p:03d}",
                    "version": f"{1 + p % 5}.{(p + shift) % 10 - (lag if p < 6 else 0) + 1}.0",
                    "source": "index",
                }
                for p in range(packages)
            ]
            envs.append(
                {
                    "path": f"/home/{host}/work/proj{project}/env{env_index}",
                    "name": f"proj{project}/env{env_index}",
                    "kind": "venv",
                    "python_version": "3.11.7",
                    "health": "ok",
                    "broken_reason": "",
                    "project": {
                        "identity": f"github.com/acme/proj{project}",
                        "name": f"proj{project}",
                        "requirements_hash": "a" * 64,
                        "requirements_source": "requirements.txt",
                        "requirements": [
                            {"name": f"pkg-{p:03d}", "specifier": ">=1.0"} for p in range(10)
                        ],
                    },
                    "distributions": dists,
                    "drift": {
                        "summary": "drifted" if lag else "in-sync",
                        "counts": {"ok": 10 - 2 * lag, "mismatch": 2 * lag},
                        "items": [],
                        "untracked": [],
                    },
                }
            )
        per_machine[host].append(
            {
                "schema_version": 1,
                "snapshot_id": uuid.uuid4().hex,
                "created_at": (start + timedelta(minutes=index)).isoformat(),
                "host": host,
                "user": f"user{member}",
                "tool_version": "0.1.0",
                "environments": envs,
            }
        )
    return per_machine


def post(url: str, body: bytes, token: str) -> int:
    request = urllib.request.Request(  # noqa: S310 - loopback http
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.read()
        return int(exc.code)


def push_all(
    url: str, per_machine: dict[str, list[bytes]], tokens: dict[str, str], clients: int
) -> tuple[float, list[int]]:
    """Each machine's snapshots in order (as one member's dashboard sends them), machines in
    parallel over `clients` threads."""
    statuses: list[int] = []
    lock = threading.Lock()

    def machine(host: str) -> None:
        for body in per_machine[host]:
            status = post(url, body, tokens[host])
            with lock:
                statuses.append(status)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(machine, per_machine))
    return time.perf_counter() - started, statuses


def serve(app: Callable[..., Iterable[bytes]], threads: int) -> tuple[str, Any]:
    from waitress.server import create_server

    server = create_server(
        app, host="127.0.0.1", port=0, threads=threads, max_request_body_size=64 << 20
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.effective_port}", server


def null_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    json.loads(environ["wsgi.input"].read(length))
    start_response("201 Created", [("Content-Type", "application/json")])
    return [b"{}"]


def fresh_postgres(url: str) -> tuple[str, Callable[[], None]]:
    """A throw-away database on the given server; returns its URL and a dropper."""
    import psycopg

    parts = urlsplit(url)
    name = f"envdash_bench_{os.getpid()}"
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(
            admin.replace("postgres://", "postgresql://", 1), autocommit=True
        ) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", "")), drop


def page_timings(url: str, cookie: str, requests: int) -> list[float]:
    timings = []
    for _ in range(requests):
        request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            response.read()
            assert response.status == 200
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL server (default: SQLite)")
    parser.add_argument("--snapshots", type=int, default=200)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--environments", type=int, default=50)
    parser.add_argument("--packages", type=int, default=80)
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8, help="concurrent pushing clients")
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads")
    parser.add_argument("--requests", type=int, default=30, help="team page requests timed")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="envdash-bench-team-")
    os.environ["ENVDASH_DATA_DIR"] = data_dir
    drop: Callable[[], None] = lambda: None  # noqa: E731
    if args.database_url:
        os.environ["DATABASE_URL"], drop = fresh_postgres(args.database_url)
        backend = "PostgreSQL"
    else:
        os.environ["DATABASE_URL"] = ""
        backend = "SQLite (WAL)"
    os.environ["DJANGO_SETTINGS_MODULE"] = "dashboard.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    from dashboard.auth import SESSION_KEY, session_fingerprint
    from dashboard.team.ingest import issue_token
    from dashboard.team.models import Machine, Member, Snapshot, TeamEnvironment

    try:
        call_command("migrate", verbosity=0)
        documents = make_documents(
            args.snapshots, args.members, args.environments, args.packages, args.projects
        )
        bodies = {host: [json.dumps(d).encode() for d in docs] for host, docs in documents.items()}
        tokens = {
            host: issue_token(Member.objects.create(name=f"member-{host}")) for host in documents
        }
        size = statistics.mean(len(b) for docs in bodies.values() for b in docs)
        print(
            f"{backend}: {args.snapshots} snapshots of {args.environments} environments × "
            f"{args.packages} packages ({size / 1024:.0f} KiB each), {args.members} machines, "
            f"{args.clients} concurrent clients, waitress {args.threads} threads"
        )

        peer_url, peer = serve(null_app, args.threads)
        peer_seconds, peer_statuses = push_all(peer_url, bodies, tokens, args.clients)
        peer.close()
        assert set(peer_statuses) == {201}

        url, server = serve(get_wsgi_application(), args.threads)
        seconds, statuses = push_all(f"{url}/api/snapshots", bodies, tokens, args.clients)
        refused = [s for s in statuses if s != 201]
        stored = Snapshot.objects.count()
        distinct = Snapshot.objects.values("snapshot_id").distinct().count()
        expected_ids = {d["snapshot_id"] for docs in documents.values() for d in docs}
        stored_ids = set(Snapshot.objects.values_list("snapshot_id", flat=True))
        newest_ok = all(
            machine.snapshot_at == datetime.fromisoformat(documents[machine.host][-1]["created_at"])
            for machine in Machine.objects.all()
        )
        environments = TeamEnvironment.objects.count()
        print(
            f"  push: envdash {args.snapshots / seconds:6.1f} snapshots/s ({seconds:.2f} s)   "
            f"null WSGI peer {args.snapshots / peer_seconds:6.1f}/s ({peer_seconds:.2f} s)   "
            f"ratio {seconds / peer_seconds:.1f}× the HTTP+JSON floor"
        )
        lost = len(expected_ids - stored_ids)
        print(
            f"  stored {stored} snapshots ({distinct} distinct), lost {lost}, "
            f"duplicated {stored - distinct}, refused {len(refused)}, "
            f"newest kept per machine: {newest_ok}, {environments} environment rows"
        )

        session = SessionStore()
        session[SESSION_KEY] = session_fingerprint()
        session.save()
        cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
        page_timings(f"{url}/team/", cookie, 3)  # warm caches and connections
        team = page_timings(f"{url}/team/", cookie, args.requests)
        from dashboard.team.models import TeamProject

        first = TeamProject.objects.order_by("name").first()
        assert first is not None
        matrix = page_timings(f"{url}/team/?expand={first.pk}", cookie, max(args.requests // 3, 5))
        median = statistics.median(team)
        print(
            f"  team page ({environments} rows): median {median:.1f} ms, "
            f"p90 {statistics.quantiles(team, n=10)[-1]:.1f} ms over {len(team)} requests — "
            f"target {TARGET_MS:.0f} ms: {'met' if median < TARGET_MS else 'MISSED'}"
        )
        print(
            f"  expanded matrix ({args.packages} packages × "
            f"{TeamEnvironment.objects.filter(project=first).count()} environments): "
            f"median {statistics.median(matrix):.1f} ms"
        )
        server.close()
        ok = not refused and lost == 0 and stored == distinct == args.snapshots and newest_ok
        return 0 if ok else 1
    finally:
        drop()


if __name__ == "__main__":
    raise SystemExit(main())
