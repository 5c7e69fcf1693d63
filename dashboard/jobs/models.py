"""Jobs: every change to an environment, queued, run by a worker, logged, cancellable."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from dashboard.models import Environment
from envcore.interpreters import is_end_of_life
from envcore.runner import ProcessIdentity

__all__ = ["Interpreter", "Job", "JobLine", "RecoveryRecord"]


class Job(models.Model):
    class Kind(models.TextChoices):
        CREATE = "create", "Create"
        INSTALL = "install", "Install"
        UPGRADE = "upgrade", "Upgrade"
        UPGRADE_ALL = "upgrade-all", "Upgrade all"
        UNINSTALL = "uninstall", "Uninstall"
        SYNC = "sync", "Sync"
        FREEZE = "freeze", "Freeze"
        RECREATE = "recreate", "Recreate"
        DELETE = "delete", "Delete"
        #: Works out what a change would do (a dry run) for the user to confirm.
        PLAN = "plan", "Plan"
        #: Applies exactly a confirmed plan.
        APPLY = "apply", "Apply"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        INTERRUPTED = "interrupted", "Interrupted"

    FINISHED = frozenset({"succeeded", "failed", "cancelled", "interrupted"})

    kind = models.CharField(max_length=16, choices=Kind.choices)
    environment = models.ForeignKey(
        "dashboard.Environment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
    )
    #: Kept when the environment row goes (delete): the job page still says what it was.
    env_path = models.CharField(max_length=4096, db_index=True)
    machine = models.CharField(max_length=255)
    #: Validated parameters (package specs, names, modes): never raw pip options.
    params = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    #: The running command's process group (its leader's pid) and the leader's start time,
    #: so a reaper can end it after a worker died, and never a later process with that pid.
    pgid = models.IntegerField(null=True, blank=True)
    leader_started = models.FloatField(null=True, blank=True)
    worker = models.CharField(max_length=128, blank=True)
    #: One line: why it failed, or what it changed.
    summary = models.CharField(max_length=1024, blank=True)
    #: The installer that ran ("pip" or "uv"; empty until one was chosen, or for a job that
    #: runs none) and why that one (`envcore.ops.BackendChoice.reason`), for the job's page.
    installer = models.CharField(max_length=8, blank=True, default="")
    installer_reason = models.CharField(max_length=1024, blank=True, default="")
    result = models.JSONField(default=dict)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = (models.Index(fields=("state",)),)

    def __str__(self) -> str:
        return f"{self.kind} {self.env_path} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in self.FINISHED

    @property
    def leader(self) -> ProcessIdentity | None:
        """The running command's group leader as recorded at its start: with its start time,
        so a pid that now names another process is never taken for it."""
        if self.pgid is None or self.leader_started is None:
            return None
        return ProcessIdentity(self.pgid, self.leader_started)

    @property
    def new_environment(self) -> Environment | None:
        """A create job's environment once the rescan after it recorded it (found by path
        until `after_run` links it), for its page to link to; None for other kinds."""
        if self.kind != self.Kind.CREATE:
            return None
        if self.environment is not None:
            return self.environment
        return Environment.objects.filter(path=self.env_path, gone_at__isnull=True).first()

    @property
    def title(self) -> str:
        detail = self.params.get("what", "")
        return f"{self.get_kind_display()} {detail}".strip()

    @property
    def retry_with_pip(self) -> bool:
        """A failed job that ran with uv may be run again with pip (its page offers it)."""
        return self.state == self.State.FAILED and self.installer == "uv"


class JobLine(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="lines")
    seq = models.PositiveIntegerField()
    stream = models.CharField(max_length=8)
    text = models.TextField()
    #: When the worker read the line (rows are written in batches, a little later).
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("job", "seq")
        constraints = (models.UniqueConstraint(fields=("job", "seq"), name="one_line_per_seq"),)

    def __str__(self) -> str:
        return self.text


class Interpreter(models.Model):
    """Base interpreters from trusted places, refreshed by the worker after each scan.

    Finding them runs each candidate (`python -c ...`), which a page must never do; the
    only exception is the one path a user adds in Settings (source "user"), probed when
    added. Never one named by a scanned environment's pyvenv.cfg.
    """

    path = models.CharField(max_length=4096, unique=True)
    version = models.CharField(max_length=64)
    implementation = models.CharField(max_length=32)
    source = models.CharField(max_length=32)
    found_at = models.DateTimeField()

    class Meta:
        # Only a fallback: lists sort by version in Python (`listed_interpreters`), since
        # the version is text here and "3.9" > "3.13" as text.
        ordering = ("-found_at", "path")

    def __str__(self) -> str:
        return f"{self.implementation} {self.version} ({self.path})"

    @property
    def past_end_of_life(self) -> bool:
        """No longer supported by the Python core team (`envcore.interpreters.END_OF_LIFE`)."""
        return is_end_of_life(self.version, timezone.localdate())


class RecoveryRecord(models.Model):
    """A directory a job renamed aside (a recreate's backup, a delete's trash), recorded
    before the rename and removed once the operation finished.

    Recovery at worker start acts on these rows only, never on names found on disk. Each
    row belongs to the machine whose disk it describes.
    """

    class Kind(models.TextChoices):
        RECREATE = "recreate", "Recreate backup"
        DELETE = "delete", "Delete trash"

    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="recovery_records"
    )
    machine = models.CharField(max_length=255, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    #: Random, and also the end of `moved`'s name: recovery checks both agree.
    nonce = models.CharField(max_length=64, unique=True)
    original = models.CharField(max_length=4096)
    moved = models.CharField(max_length=4096)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"{self.kind} {self.original} -> {self.moved}"
