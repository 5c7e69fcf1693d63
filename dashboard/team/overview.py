"""What the team page shows, computed from a bounded number of queries.

Project rows, the package × member matrix of one project and the drift sparkline are
built here in Python from a few flat queries, so the page costs the same number of
queries for two members or two hundred.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from django.db.models import Count, QuerySet
from django.utils import timezone

from dashboard.team.models import ProjectReport, TeamEnvironment, TeamProject
from envcore.versions import parse_specifier, satisfies

__all__ = [
    "EnvironmentRow",
    "Matrix",
    "MatrixRow",
    "ProjectCard",
    "Sparkline",
    "build_matrix",
    "project_cards",
    "projects_with_environments",
]

HISTORY_DAYS = 30
SPARK_WIDTH, SPARK_HEIGHT, SPARK_POINTS = 120, 24, 40
#: Drift counters worth showing on a row, in the order shown.
SHOWN_COUNTS = ("mismatch", "missing", "source-differs", "untracked")


@dataclass(frozen=True)
class EnvironmentRow:
    member: str
    host: str
    name: str
    path: str
    status: str
    python_version: str
    counts: tuple[tuple[str, int], ...]
    reported_at: datetime
    stale: bool
    requirements_hash: str
    other_requirements: bool

    # Formatted here, not with the `date` filter: on a 1,000-row page the filter's
    # per-call locale and time zone work was a third of the render time.
    @property
    def reported_iso(self) -> str:
        return self.reported_at.isoformat()

    @property
    def reported_text(self) -> str:
        return timezone.localtime(self.reported_at).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Sparkline:
    """Environments out of step (drifted or broken) across the team, oldest to newest."""

    points: str
    values: tuple[int, ...]
    width: int = SPARK_WIDTH
    height: int = SPARK_HEIGHT

    @property
    def latest(self) -> int:
        return self.values[-1] if self.values else 0

    @property
    def peak(self) -> int:
        return max(self.values, default=0)


@dataclass(frozen=True)
class ProjectCard:
    project: TeamProject
    rows: tuple[EnvironmentRow, ...]
    sparkline: Sparkline
    out_of_step: int
    stale: int


@dataclass(frozen=True)
class MatrixRow:
    name: str
    specifier: str
    majority: str
    cells: tuple[tuple[str, str], ...]  # (version or "", css state)
    off_majority: tuple[str, ...]
    differs: bool


@dataclass(frozen=True)
class Matrix:
    project: TeamProject
    columns: tuple[str, ...]
    rows: tuple[MatrixRow, ...]
    differing: int
    total: int
    only_differing: bool
    mixed_requirements: bool = field(default=False)


def projects_with_environments() -> QuerySet[TeamProject]:
    return (
        TeamProject.objects.annotate(environment_count=Count("environments"))
        .filter(environment_count__gt=0)
        .order_by("name", "identity")
    )


def _majority(values: Iterable[str]) -> str:
    """The most common value; ties go to the first seen (stable across reloads)."""
    counted = Counter(value for value in values if value)
    return counted.most_common(1)[0][0] if counted else ""


def _sparkline(reports: Sequence[tuple[int, datetime, int]]) -> Sparkline:
    """Carry each machine's latest count forward in time and sum: the team's state over time."""
    latest: dict[int, int] = {}
    values: list[int] = []
    for machine_id, _when, bad in reports:
        latest[machine_id] = bad
        values.append(sum(latest.values()))
    values = values[-SPARK_POINTS:]
    if not values:
        return Sparkline(points="", values=())
    top = max(*values, 1)
    step = SPARK_WIDTH / max(len(values) - 1, 1)
    points = " ".join(
        f"{index * step:.1f},{SPARK_HEIGHT - 2 - (value / top) * (SPARK_HEIGHT - 4):.1f}"
        for index, value in enumerate(values)
    )
    return Sparkline(points=points, values=tuple(values))


def project_cards(
    projects: Sequence[TeamProject], *, now: datetime, stale_days: int
) -> list[ProjectCard]:
    """One card per project: rows per member/machine environment plus the drift history."""
    stale_before = now - timedelta(days=stale_days)
    # Key 0 never occurs (the query filters on project); it keeps mypy honest about None.
    by_project: dict[int, list[TeamEnvironment]] = {project.pk: [] for project in projects}
    by_project[0] = []
    environments = (
        TeamEnvironment.objects.filter(project__in=[p.pk for p in projects])
        .select_related("machine__member")
        .only(
            "project_id",
            "name",
            "path",
            "status",
            "python_version",
            "drift_counts",
            "reported_at",
            "requirements_hash",
            "machine__host",
            "machine__member__name",
        )
        .order_by("machine__member__name", "machine__host", "name")
    )
    for env in environments:
        by_project[env.project_id or 0].append(env)
    history: dict[int, list[tuple[int, datetime, int]]] = {project.pk: [] for project in projects}
    reports = (
        ProjectReport.objects.filter(
            project__in=[p.pk for p in projects],
            reported_at__gte=now - timedelta(days=HISTORY_DAYS),
        )
        .order_by("reported_at", "pk")
        .values_list("project_id", "machine_id", "reported_at", "drifted", "broken")
    )
    for project_id, machine_id, when, drifted, broken in reports:
        history[project_id].append((machine_id, when, drifted + broken))
    cards = []
    for project in projects:
        envs = by_project[project.pk]
        usual = _majority(env.requirements_hash for env in envs)
        rows = tuple(
            EnvironmentRow(
                member=env.machine.member.name,
                host=env.machine.host,
                name=env.name,
                path=env.path,
                status=env.status,
                python_version=env.python_version,
                counts=tuple(
                    (label, int(env.drift_counts.get(label, 0)))
                    for label in SHOWN_COUNTS
                    if env.drift_counts.get(label)
                ),
                reported_at=env.reported_at,
                stale=env.reported_at < stale_before,
                requirements_hash=env.requirements_hash[:12],
                other_requirements=bool(usual) and env.requirements_hash != usual,
            )
            for env in envs
        )
        cards.append(
            ProjectCard(
                project=project,
                rows=rows,
                sparkline=_sparkline(history[project.pk]),
                out_of_step=sum(row.status in {"drifted", "broken"} for row in rows),
                stale=sum(row.stale for row in rows),
            )
        )
    return cards


@lru_cache(maxsize=16384)
def _satisfies(specifier: str, version: str) -> bool:
    spec = parse_specifier(specifier)
    return spec is None or satisfies(spec, version)


def build_matrix(project: TeamProject, *, only_differing: bool) -> Matrix:
    """Package × member/machine environment versions of one project, against its spec.

    A cell is `differs` when it is not the majority version and `violates` when it does
    not satisfy the requirement spec; an empty cell means "not installed".
    """
    envs = list(
        TeamEnvironment.objects.filter(project=project)
        .select_related("machine__member")
        .only(
            "name",
            "packages",
            "required",
            "requirements_hash",
            "machine__host",
            "machine__member__name",
        )
        .order_by("machine__member__name", "machine__host", "name")
    )
    columns = tuple(f"{env.machine.member.name}@{env.machine.host}: {env.name}" for env in envs)
    installed = [{name: version for name, version, _source in env.packages} for env in envs]
    specs: dict[str, str] = {}
    for name in sorted({name for env in envs for name in env.required}):
        specs[name] = _majority(str(env.required.get(name, "")) for env in envs)
    names = sorted(set(specs) | {name for versions in installed for name in versions})
    rows = []
    for name in names:
        versions = [versions.get(name, "") for versions in installed]
        majority = _majority(versions)
        spec = specs.get(name, "")
        cells = tuple(
            (
                version,
                "violates"
                if spec and (not version or not _satisfies(spec, version))
                else ("differs" if version != majority else "same"),
            )
            for version in versions
        )
        off = tuple(columns[i] for i, version in enumerate(versions) if version != majority)
        rows.append(
            MatrixRow(
                name=name,
                specifier=spec,
                majority=majority,
                cells=cells,
                off_majority=off,
                differs=len(set(versions)) > 1,
            )
        )
    differing = sum(row.differs for row in rows)
    return Matrix(
        project=project,
        columns=columns,
        rows=tuple(row for row in rows if row.differs or not only_differing),
        differing=differing,
        total=len(rows),
        only_differing=only_differing,
        mixed_requirements=len({env.requirements_hash for env in envs}) > 1,
    )
