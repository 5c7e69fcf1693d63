"""What a team server stores: members and their tokens, machines, and each machine's latest state.

Only the newest snapshot of a machine is kept in full (`TeamEnvironment` rows, replaced on
each push); every accepted push leaves a `Snapshot` row (duplicate detection) and one
`ProjectReport` per project (the drift history the sparklines draw).
"""

from __future__ import annotations

from django.db import models

__all__ = [
    "Machine",
    "Member",
    "MemberToken",
    "ProjectReport",
    "PushState",
    "Snapshot",
    "TeamEnvironment",
    "TeamProject",
]


class Member(models.Model):
    name = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class MemberToken(models.Model):
    """An API token for one member; only its sha256 is stored, the token is shown once."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tokens")
    label = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    #: The first characters, so an admin can tell tokens apart without the secret.
    prefix = models.CharField(max_length=24)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("member__name", "-created_at")

    def __str__(self) -> str:
        return f"{self.member.name} {self.prefix}…"


class Machine(models.Model):
    """One reporting machine, owned by the member whose token first pushed it."""

    host = models.CharField(max_length=253, unique=True)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="machines")
    user = models.CharField(max_length=64, blank=True)
    tool_version = models.CharField(max_length=64, blank=True)
    #: `created_at` of the newest stored snapshot: an older one arriving later is refused.
    snapshot_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.host


class Snapshot(models.Model):
    """One accepted push (its content lives on in TeamEnvironment until the next push)."""

    machine = models.ForeignKey(Machine, on_delete=models.CASCADE, related_name="snapshots")
    snapshot_id = models.CharField(max_length=32)
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    environment_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("machine", "snapshot_id"), name="team_snapshot_id"),
            models.UniqueConstraint(
                fields=("machine", "content_hash"), name="team_snapshot_content"
            ),
        )

    def __str__(self) -> str:
        return f"{self.machine_id}:{self.snapshot_id}"


class TeamProject(models.Model):
    """A project as every machine names it (normalised git remote, or dir:<name>)."""

    identity = models.CharField(max_length=512, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ("name", "identity")

    def __str__(self) -> str:
        return self.identity


class TeamEnvironment(models.Model):
    """One environment of a machine's newest snapshot, with the facts the team page shows.

    Packages, requirement specs and drift verdicts are JSON: they are only ever read
    whole, one project at a time, so rows per package would cost inserts for nothing.
    """

    machine = models.ForeignKey(Machine, on_delete=models.CASCADE, related_name="environments")
    project = models.ForeignKey(
        TeamProject,
        on_delete=models.CASCADE,
        related_name="environments",
        null=True,
        blank=True,
    )
    path = models.TextField()
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=32)
    python_version = models.CharField(max_length=32, blank=True)
    #: in-sync, drifted, broken, or unknown (no drift result in the snapshot).
    status = models.CharField(max_length=16)
    broken_reason = models.TextField(blank=True)
    requirements_hash = models.CharField(max_length=64, blank=True)
    drift_counts = models.JSONField(default=dict)
    #: [[canonical name, version, source], ...] in the snapshot's order.
    packages = models.JSONField(default=list)
    #: {canonical name: specifier} from the project's requirements on that machine.
    required = models.JSONField(default=dict)
    #: {canonical name: drift status} for requirements that are not "ok".
    drift_items = models.JSONField(default=dict)
    reported_at = models.DateTimeField()

    class Meta:
        indexes = (
            models.Index(fields=("project", "machine"), name="team_env_project_machine"),
            models.Index(fields=("status",), name="team_env_status"),
        )

    def __str__(self) -> str:
        return self.path


class ProjectReport(models.Model):
    """One machine's state of one project at one snapshot: a point of the drift history."""

    project = models.ForeignKey(TeamProject, on_delete=models.CASCADE, related_name="reports")
    machine = models.ForeignKey(Machine, on_delete=models.CASCADE, related_name="reports")
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="reports")
    reported_at = models.DateTimeField()
    environments = models.PositiveIntegerField()
    drifted = models.PositiveIntegerField()
    broken = models.PositiveIntegerField()

    class Meta:
        indexes = (
            models.Index(fields=("project", "reported_at"), name="team_report_project_time"),
        )

    def __str__(self) -> str:
        return f"{self.project_id}@{self.reported_at:%Y-%m-%d %H:%M}"


class PushState(models.Model):
    """This machine's auto-push to its team server (a single row): failures stay visible."""

    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"push attempts={self.attempts}"
