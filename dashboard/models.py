"""What the local dashboard knows about this machine: scan roots, environments, their packages
and drift, the projects they belong to, and what happened recently.

Rows mirror envcore's inspection results; a rescan updates them in place. An environment
that vanished from disk is marked gone (with the time) rather than deleted, so history and
job records that point at it keep making sense.
"""

from __future__ import annotations

from pathlib import PurePath

from django.db import models

__all__ = [
    "Activity",
    "Distribution",
    "DriftItem",
    "Environment",
    "EnvironmentStatus",
    "Project",
    "Revision",
    "Scan",
    "ScanRoot",
    "WatchState",
    "Worker",
]


class ScanRoot(models.Model):
    """A directory the scanner walks; none configured means envcore's default roots."""

    path = models.CharField(max_length=4096, unique=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("path",)

    def __str__(self) -> str:
        return self.path


class Scan(models.Model):
    """One run of the scanner, kept for the overview ("last scan: 2 min ago, 3 changed")."""

    class State(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    #: The single environment rescanned, or empty for a whole-tree scan.
    target = models.CharField(max_length=4096, blank=True)
    roots = models.JSONField(default=list)
    found = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    gone = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-started_at",)
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"scan {self.pk} ({self.state})"


class Project(models.Model):
    """A directory with a requirements source; several environments can belong to one."""

    path = models.CharField(max_length=4096, unique=True)
    name = models.CharField(max_length=255)
    #: The requirements file or pyproject.toml drift is computed against (may be empty).
    requirements_source = models.CharField(max_length=4096, blank=True)
    #: True when the user chose the source; a scan then never replaces it with a guess.
    requirements_explicit = models.BooleanField(default=False)
    #: The files a user may hold the project to (envcore's `candidate_sources`, as the last
    #: scan found them): the chooser offers these, and a choice is checked against them.
    source_candidates = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name", "path")

    def __str__(self) -> str:
        return self.name

    def label_of(self, path: str) -> str:
        """A file of the project as its user knows it: `requirements/dev.txt`, `uv.lock`."""
        try:
            return str(PurePath(path).relative_to(self.path))
        except ValueError:
            return path


class EnvironmentStatus(models.TextChoices):
    """One word per environment, shown as a badge; ordered worst first for "needs attention"."""

    BROKEN = "broken", "Broken"
    DRIFTED = "drifted", "Drifted"
    IN_SYNC = "in-sync", "In sync"
    NO_REQUIREMENTS = "no-requirements", "No requirements"
    GONE = "gone", "Gone"


class Environment(models.Model):
    path = models.CharField(max_length=4096, unique=True)
    name = models.CharField(max_length=512)
    kind = models.CharField(max_length=32)
    #: The tool that made or keeps it (pdm, pipx, uv-tool, poetry...; else the kind): envcore's
    #: `Environment.manager`, which the kind alone cannot tell (a pdm env is a "virtualenv").
    manager = models.CharField(max_length=32, blank=True)
    layout = models.CharField(max_length=16, default="posix")
    python_version = models.CharField(max_length=32, blank=True)
    #: major.minor, for the Python filter.
    python_minor = models.CharField(max_length=8, blank=True, db_index=True)
    interpreter = models.CharField(max_length=4096, blank=True)
    base_interpreter = models.CharField(max_length=4096, blank=True)
    prompt = models.CharField(max_length=255, blank=True)
    system_site_packages = models.BooleanField(default=False)
    health = models.CharField(max_length=16, default="ok")
    broken_reason = models.TextField(blank=True)
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="environments"
    )
    requirements_source = models.CharField(max_length=4096, blank=True)
    #: What kind of file it is held to (lock, requirements, pyproject, pipfile, tox, none)
    #: and why that one, in one line (envcore's `SourceChoice`).
    source_kind = models.CharField(max_length=16, blank=True)
    source_reason = models.CharField(max_length=1024, blank=True)
    #: Which part of a lock applies to it ("groups main, dev; markers for CPython 3.12...").
    selection = models.CharField(max_length=1024, blank=True)
    #: Why its lock no longer matches what the project declares; empty when fresh.
    lock_outdated = models.CharField(max_length=1024, blank=True)
    #: Every file the last drift read (the source and what it includes), for the signature.
    requirement_files = models.JSONField(default=list)
    status = models.CharField(
        max_length=20, choices=EnvironmentStatus.choices, default=EnvironmentStatus.IN_SYNC
    )
    #: Drift counts per status (ok, mismatch, missing, ...), for badges without a join.
    drift_counts = models.JSONField(default=dict)
    drift_total = models.PositiveIntegerField(default=0)
    #: Findings that need action (mismatch, missing, source-differs, dependency problems):
    #: stored so "needs attention" and sorting by drift stay one indexed query.
    attention = models.PositiveIntegerField(default=0)
    #: `pip check` findings as one-line texts.
    problems = models.JSONField(default=list)
    #: Lines that could not be parsed in the requirements source, "file:line: reason".
    requirement_errors = models.JSONField(default=list)
    package_count = models.PositiveIntegerField(default=0)
    size_bytes = models.BigIntegerField(default=0)
    #: site-packages + requirements-source fingerprint; unchanged means the scan skips it.
    signature = models.CharField(max_length=128, blank=True)
    #: What `pip freeze` would print (the freeze preview).
    freeze_text = models.TextField(blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    last_scanned = models.DateTimeField()
    last_changed = models.DateTimeField()
    gone_at = models.DateTimeField(null=True, blank=True)
    upgradable = models.PositiveIntegerField(default=0)
    updates_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("name", "path")
        indexes = (models.Index(fields=("status",)), models.Index(fields=("kind",)))

    def __str__(self) -> str:
        return self.name

    @property
    def is_gone(self) -> bool:
        return self.gone_at is not None

    @property
    def status_label(self) -> str:
        return str(EnvironmentStatus(self.status).label)

    @property
    def source_label(self) -> str:
        """The file it is held to, relative to its project when inside it ("" for none)."""
        if self.project is None or not self.requirements_source:
            return self.requirements_source
        return self.project.label_of(self.requirements_source)

    @property
    def source_why(self) -> str:
        """Why that file, without repeating its name: envcore's reasons start with it
        ("uv.lock: the project's lock file, ..."), the page shows it just before."""
        return self._after_source_name(self.source_reason)

    @property
    def selection_shown(self) -> str:
        """The lock's selection, without its file name (as `source_why`)."""
        return self._after_source_name(self.selection)

    def _after_source_name(self, text: str) -> str:
        for name in (self.source_label, PurePath(self.requirements_source).name):
            if name and text.startswith(f"{name}: "):
                return text[len(name) + 2 :]
        return text


class Distribution(models.Model):
    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="distributions"
    )
    name = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255)
    version = models.CharField(max_length=128)
    summary = models.CharField(max_length=512, blank=True)
    installer = models.CharField(max_length=64, blank=True)
    editable = models.BooleanField(default=False)
    #: envcore's word for where it came from: index, editable, vcs, url or local.
    source = models.CharField(max_length=16, blank=True)
    #: Where it was installed from when not an index: a URL or a local path.
    source_url = models.CharField(max_length=4096, blank=True)
    #: Why its metadata must never reach pip (freeze Write and recreate skip it); '' if it may.
    unsafe_reason = models.CharField(max_length=128, blank=True)
    #: Canonical names of the installed distributions that require this one.
    required_by = models.JSONField(default=list)
    #: What it requires here, markers evaluated for the environment's Python, each entry
    #: under the extra it belongs to (`envcore.tree.Dependency.to_json()`): the tree's edges.
    requires = models.JSONField(default=list)
    #: From the last update check (see dashboard.updates): what the indexes offer.
    latest = models.CharField(max_length=128, blank=True)
    latest_allowed = models.CharField(max_length=128, blank=True)
    jump = models.CharField(max_length=8, blank=True)
    update_status = models.CharField(max_length=16, blank=True)
    update_reason = models.CharField(max_length=512, blank=True)
    #: Installable versions, newest first (the "choose a version" list).
    choices = models.JSONField(default=list)

    class Meta:
        ordering = ("name",)
        constraints = (
            models.UniqueConstraint(fields=("environment", "name"), name="one_dist_per_name"),
        )
        indexes = (models.Index(fields=("name",)),)

    def __str__(self) -> str:
        return f"{self.display_name} {self.version}"


class DriftItem(models.Model):
    """One requirement (or untracked distribution) and how the environment stands against it."""

    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="drift_items"
    )
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=20)
    required = models.CharField(max_length=1024, blank=True)
    installed = models.CharField(max_length=128, blank=True)
    detail = models.CharField(max_length=1024, blank=True)
    origin = models.CharField(max_length=1024, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("environment", "position")

    def __str__(self) -> str:
        return f"{self.name}: {self.status}"


class Activity(models.Model):
    """Something worth telling the user on the overview: a new, changed or vanished env."""

    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=32)
    message = models.CharField(max_length=1024)
    environment = models.ForeignKey(
        Environment, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )

    class Meta:
        ordering = ("-at", "-pk")
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return self.message


class Worker(models.Model):
    """A worker process that is alive, as it says itself every few seconds: pages warn when
    no worker on this machine has spoken lately (queued scans and jobs would wait forever)."""

    machine = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("machine", "pid")
        constraints = (
            models.UniqueConstraint(fields=("machine", "pid"), name="one_worker_per_pid"),
        )

    def __str__(self) -> str:
        return f"worker {self.pid} on {self.machine}"


class Revision(models.Model):
    """One row: a counter raised by every change a page shows (see dashboard.live).

    Open pages poll it every few seconds; reading one row by its primary key is the
    cheapest question a database answers, so an idle dashboard costs next to nothing.
    """

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"revision {self.value}"


class WatchState(models.Model):
    """How this machine's watcher follows the disk (see dashboard.watcher), as it says
    itself: the Settings page shows it, and a stale heartbeat as "not running"."""

    class Mode(models.TextChoices):
        WATCHING = "watching"
        POLLING = "polling"
        MIXED = "mixed"
        OFF = "off"

    machine = models.CharField(max_length=255, unique=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.WATCHING)
    #: Why some or all paths are polled (one sentence a user can act on); empty otherwise.
    reason = models.CharField(max_length=1024, blank=True)
    #: The OS's notification API in use (inotify, FSEvents, ...).
    backend = models.CharField(max_length=32, blank=True)
    environments = models.PositiveIntegerField(default=0)
    watched = models.PositiveIntegerField(default=0)
    polled = models.PositiveIntegerField(default=0)
    poll_interval = models.FloatField(default=2.0)
    rescan_interval = models.PositiveIntegerField(default=0)
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_rescan_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"watcher {self.pid} on {self.machine} ({self.mode})"
