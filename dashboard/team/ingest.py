"""Store a validated snapshot for a member, all or nothing; and check member tokens.

Both the API and the upload form come through `store_snapshot`, so the ownership,
duplicate and newest-wins rules hold whichever way a snapshot arrives.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from packaging.utils import canonicalize_name

from dashboard.team.models import (
    Machine,
    Member,
    MemberToken,
    ProjectReport,
    Snapshot,
    TeamEnvironment,
    TeamProject,
)
from envcore.snapshot import content_hash

__all__ = [
    "IngestError",
    "StoredSnapshot",
    "authenticate_token",
    "issue_token",
    "store_snapshot",
    "token_digest",
]

TOKEN_PREFIX = "envdash_team_"  # noqa: S105 - a public marker, not a secret


class IngestError(Exception):
    """A snapshot or token refused with an HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class StoredSnapshot:
    snapshot_id: str
    host: str
    environments: int


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(member: Member, label: str = "") -> str:
    """Create a token for `member`; the plain token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    MemberToken.objects.create(
        member=member,
        label=label,
        digest=token_digest(token),
        prefix=token[: len(TOKEN_PREFIX) + 4],
    )
    return token


def authenticate_token(header: str) -> Member:
    """The member an `Authorization: Bearer ...` header belongs to, else IngestError 401/403."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise IngestError(401, "missing API token: send 'Authorization: Bearer <token>'")
    digest = token_digest(token)
    row = MemberToken.objects.select_related("member").filter(digest=digest).first()
    # The lookup is by digest; compare again in constant time so timing says nothing either way.
    if row is None or not hmac.compare_digest(row.digest, digest):
        raise IngestError(401, "unknown API token")
    if row.revoked_at is not None:
        raise IngestError(403, "this API token has been revoked; ask an admin for a new one")
    MemberToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.member


def _environment_row(
    machine: Machine,
    projects: dict[str, TeamProject],
    env: dict[str, Any],
    reported_at: datetime,
) -> TeamEnvironment:
    project_data = env["project"]
    drift = env["drift"]
    counts: dict[str, int] = dict(drift["counts"]) if drift else {}
    drift_items = (
        {
            canonicalize_name(item["name"]): item["status"]
            for item in drift["items"]
            if item["status"] != "ok"
        }
        if drift
        else {}
    )
    if drift:
        status = str(drift["summary"])
    elif env["health"] == "broken":
        status = "broken"
    else:
        status = "unknown"
    return TeamEnvironment(
        machine=machine,
        project=projects[project_data["identity"]] if project_data else None,
        path=env["path"],
        name=env["name"],
        kind=env["kind"],
        python_version=env["python_version"] or "",
        status=status,
        broken_reason=env["broken_reason"],
        requirements_hash=(project_data or {}).get("requirements_hash") or "",
        drift_counts=counts,
        packages=[
            [canonicalize_name(d["name"]), d["version"], d["source"]] for d in env["distributions"]
        ],
        required={r["name"]: r["specifier"] for r in project_data["requirements"]}
        if project_data
        else {},
        drift_items=drift_items,
        reported_at=reported_at,
    )


def store_snapshot(member: Member, data: dict[str, Any]) -> StoredSnapshot:
    """Store a snapshot `validate_snapshot` accepted, in one transaction.

    The machine row is locked first, so parallel pushes for one machine are applied one at
    a time and only a snapshot newer than the stored one replaces it.
    """
    host = data["host"]
    created = datetime.fromisoformat(data["created_at"])
    digest = content_hash(data)
    now = timezone.now()
    with transaction.atomic():
        # Insert-if-absent then lock: safe when two first pushes of a machine race.
        Machine.objects.bulk_create([Machine(host=host, member=member)], ignore_conflicts=True)
        machine = Machine.objects.select_for_update().get(host=host)
        if machine.member_id != member.pk:
            raise IngestError(403, f"machine {host} belongs to another member")
        duplicate = Snapshot.objects.filter(
            Q(snapshot_id=data["snapshot_id"]) | Q(content_hash=digest), machine=machine
        ).exists()
        if duplicate:
            raise IngestError(409, f"this snapshot of {host} was already received")
        if machine.snapshot_at is not None and created <= machine.snapshot_at:
            raise IngestError(
                409,
                f"a newer snapshot of {host} is already stored "
                f"({machine.snapshot_at.isoformat(timespec='seconds')})",
            )
        snapshot = Snapshot.objects.create(
            machine=machine,
            snapshot_id=data["snapshot_id"],
            content_hash=digest,
            created_at=created,
            environment_count=len(data["environments"]),
        )
        names = {
            env["project"]["identity"]: env["project"]["name"]
            for env in data["environments"]
            if env["project"]
        }
        TeamProject.objects.bulk_create(
            [TeamProject(identity=identity, name=name) for identity, name in names.items()],
            ignore_conflicts=True,
        )
        projects = {p.identity: p for p in TeamProject.objects.filter(identity__in=names)}
        TeamEnvironment.objects.filter(machine=machine).delete()
        rows = TeamEnvironment.objects.bulk_create(
            [_environment_row(machine, projects, env, created) for env in data["environments"]],
            batch_size=200,
        )
        ProjectReport.objects.bulk_create(_reports(snapshot, machine, rows, created))
        machine.user = data["user"]
        machine.tool_version = data["tool_version"]
        machine.snapshot_at = created
        machine.received_at = now
        machine.save(update_fields=["user", "tool_version", "snapshot_at", "received_at"])
    return StoredSnapshot(data["snapshot_id"], host, len(rows))


def _reports(
    snapshot: Snapshot, machine: Machine, rows: list[TeamEnvironment], when: datetime
) -> list[ProjectReport]:
    tally: dict[int, list[int]] = {}
    for row in rows:
        if row.project_id is None:
            continue
        counts = tally.setdefault(row.project_id, [0, 0, 0])
        counts[0] += 1
        counts[1] += row.status == "drifted"
        counts[2] += row.status == "broken"
    return [
        ProjectReport(
            project_id=project_id,
            machine=machine,
            snapshot=snapshot,
            reported_at=when,
            environments=total,
            drifted=drifted,
            broken=broken,
        )
        for project_id, (total, drifted, broken) in tally.items()
    ]
