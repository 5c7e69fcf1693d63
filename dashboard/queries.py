"""Read-side helpers for the pages: filtering, sorting, summaries, all in a fixed number of
queries whatever the number of environments (the tests assert the counts)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from django.db.models import (
    Case,
    Count,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from packaging.utils import canonicalize_name

from dashboard.lockpins import pin_refusal
from dashboard.models import Distribution, DriftItem, Environment, EnvironmentStatus, Project, Scan
from dashboard.shells import quote_cmd, quote_csh, quote_fish, quote_posix, quote_powershell
from envcore.versions import parse_version

__all__ = [
    "SORTS",
    "Activation",
    "DonutSegment",
    "EnvironmentFilter",
    "FilterError",
    "PackageUse",
    "activation_commands",
    "donut",
    "last_full_scan",
    "needs_attention",
    "package_rows",
    "package_usage",
    "projects_with_environments",
    "status_counts",
]

#: URL sort key -> ORDER BY; a leading "-" in the URL flips it.
SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "path"),
    "project": ("project__name", "name"),
    "python": ("python_minor", "python_version", "name"),
    "kind": ("kind", "name"),
    "packages": ("package_count", "name"),
    "status": ("status_rank", "-attention", "name"),
    "size": ("size_bytes", "name"),
    "scanned": ("last_scanned", "name"),
}

COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("project", "Project"),
    ("python", "Python"),
    ("kind", "Kind"),
    ("packages", "Packages"),
    ("status", "Status"),
    ("size", "Size"),
    ("scanned", "Last scanned"),
)

_STATUS_RANK = Case(
    When(gone_at__isnull=False, then=Value(5)),
    When(status=EnvironmentStatus.BROKEN, then=Value(0)),
    When(status=EnvironmentStatus.DRIFTED, then=Value(1)),
    When(status=EnvironmentStatus.NO_REQUIREMENTS, then=Value(3)),
    default=Value(2),
    output_field=IntegerField(),
)


class FilterError(ValueError):
    """A filter value the list does not know (the API refuses it; the page drops it)."""


#: The environment list's query parameters (the page's and the API's).
FILTER_PARAMETERS = ("q", "status", "kind", "manager", "python", "sort", "gone", "page")
_LIMITS = {"q": 200, "kind": 32, "manager": 32, "python": 8}


@dataclass(frozen=True)
class EnvironmentFilter:
    """The list's state as it appears in the URL (so links and the back button work)."""

    q: str = ""
    status: str = ""
    kind: str = ""
    manager: str = ""
    python: str = ""
    sort: str = "status"
    show_gone: bool = False

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, strict: bool = False) -> EnvironmentFilter:
        """The page drops what it does not know (an old bookmark still opens); `strict`
        (the API) raises FilterError with a one-line reason instead."""
        sort = query.get("sort", "status")
        status = query.get("status", "")
        if strict:
            _check(query, sort, status)
        if sort.lstrip("-") not in SORTS:
            sort = "status"
        if status not in {*EnvironmentStatus.values, ""}:
            status = ""
        return cls(
            q=query.get("q", "").strip()[:200],
            status=status,
            kind=query.get("kind", "")[:32],
            manager=query.get("manager", "")[:32],
            python=query.get("python", "")[:8],
            sort=sort,
            show_gone=query.get("gone") == "1" or status == EnvironmentStatus.GONE,
        )

    def apply(self, queryset: QuerySet[Environment]) -> QuerySet[Environment]:
        if self.status == EnvironmentStatus.GONE:
            queryset = queryset.filter(gone_at__isnull=False)
        else:
            if not self.show_gone:
                queryset = queryset.filter(gone_at__isnull=True)
            if self.status:
                queryset = queryset.filter(status=self.status)
        if self.kind:
            queryset = queryset.filter(kind=self.kind)
        if self.manager:
            queryset = queryset.filter(manager=self.manager)
        if self.python:
            queryset = queryset.filter(python_minor=self.python)
        for word in self.q.split():
            queryset = queryset.filter(
                Q(name__icontains=word) | Q(path__icontains=word) | Q(project__name__icontains=word)
            )
        order = SORTS[self.sort.lstrip("-")]
        if self.sort.startswith("-"):
            order = tuple(f"-{key}" if not key.startswith("-") else key[1:] for key in order)
        return queryset.annotate(status_rank=_STATUS_RANK).order_by(*order)

    def columns(self) -> list[dict[str, object]]:
        """Header cells: the sort each links to (same key again flips it) and aria-sort."""
        cells: list[dict[str, object]] = []
        for key, label in COLUMNS:
            aria = ""
            if self.sort == key:
                aria = "ascending"
            elif self.sort == f"-{key}":
                aria = "descending"
            cells.append(
                {
                    "key": key,
                    "label": label,
                    "link": f"-{key}" if self.sort == key else key,
                    "aria_sort": aria,
                    "numeric": key in {"packages", "size"},
                }
            )
        return cells


def _check(query: Mapping[str, str], sort: str, status: str) -> None:
    unknown = sorted(set(query) - set(FILTER_PARAMETERS))
    if unknown:
        raise FilterError(
            f"unknown parameter {unknown[0]!r}; the filters are {', '.join(FILTER_PARAMETERS)}"
        )
    if sort.lstrip("-") not in SORTS:
        raise FilterError(f"sort is one of {', '.join(SORTS)}, optionally with a leading '-'")
    if status not in {*EnvironmentStatus.values, ""}:
        raise FilterError(f"status is one of {', '.join(EnvironmentStatus.values)}")
    if query.get("gone", "") not in {"", "0", "1"}:
        raise FilterError("gone is 1 (include vanished environments) or 0")
    for name, limit in _LIMITS.items():
        if len(query.get(name, "")) > limit:
            raise FilterError(f"{name} is at most {limit} characters")


def last_full_scan() -> Scan | None:
    """The newest scan of every root (not one environment's rescan): "last scan" on pages."""
    return Scan.objects.filter(target="").order_by("-started_at").first()


def projects_with_environments() -> QuerySet[Project]:
    """Projects with their live environments by name, prefetched (two queries)."""
    live = Environment.objects.filter(gone_at__isnull=True).order_by("name")
    return Project.objects.prefetch_related(Prefetch("environments", queryset=live))


def status_counts() -> dict[str, int]:
    """Every number on the overview in one query."""
    live = Q(gone_at__isnull=True)
    row = Environment.objects.aggregate(
        total=Count("pk", filter=live),
        broken=Count("pk", filter=live & Q(status=EnvironmentStatus.BROKEN)),
        drifted=Count("pk", filter=live & Q(status=EnvironmentStatus.DRIFTED)),
        in_sync=Count("pk", filter=live & Q(status=EnvironmentStatus.IN_SYNC)),
        no_requirements=Count("pk", filter=live & Q(status=EnvironmentStatus.NO_REQUIREMENTS)),
        gone=Count("pk", filter=Q(gone_at__isnull=False)),
        disk=Sum("size_bytes", filter=live),
        packages=Sum("package_count", filter=live),
    )
    return {key: int(value or 0) for key, value in row.items()}


def needs_attention(limit: int = 10) -> list[Environment]:
    """Broken first, then the most drift."""
    return list(
        Environment.objects.filter(gone_at__isnull=True)
        .filter(Q(status=EnvironmentStatus.BROKEN) | Q(status=EnvironmentStatus.DRIFTED))
        .select_related("project")
        .annotate(status_rank=_STATUS_RANK)
        .order_by("status_rank", "-attention", "name")[:limit]
    )


@dataclass(frozen=True)
class DonutSegment:
    status: str
    label: str
    count: int
    dasharray: str
    dashoffset: str


def donut(counts: Mapping[str, int], radius: float = 54.0) -> list[DonutSegment]:
    """Stroke-dash segments of one SVG circle per status (no chart library, no inline JS)."""
    circumference = 2 * math.pi * radius
    order = (
        (EnvironmentStatus.IN_SYNC, "in_sync"),
        (EnvironmentStatus.DRIFTED, "drifted"),
        (EnvironmentStatus.BROKEN, "broken"),
        (EnvironmentStatus.NO_REQUIREMENTS, "no_requirements"),
    )
    total = sum(counts.get(key, 0) for _, key in order)
    segments: list[DonutSegment] = []
    start = 0.0
    for status, key in order:
        count = counts.get(key, 0)
        if not count or not total:
            continue
        length = circumference * count / total
        segments.append(
            DonutSegment(
                status=status.value,
                label=str(status.label),
                count=count,
                dasharray=f"{length:.2f} {circumference - length:.2f}",
                dashoffset=f"{-start:.2f}",
            )
        )
        start += length
    return segments


@dataclass(frozen=True)
class Activation:
    shell: str
    command: str


def activation_commands(env: Environment) -> list[Activation]:
    """How to activate the environment in each shell, quoted for that shell (see shells)."""
    if env.kind == "conda":
        commands = [
            ("conda (bash / zsh)", quote_posix(env.path)),
            ("conda (fish)", quote_fish(env.path)),
            ("conda (csh / tcsh)", quote_csh(env.path)),
            ("conda (PowerShell)", quote_powershell(env.path)),
            ("conda (cmd)", quote_cmd(env.path)),
        ]
        return [Activation(shell, f"conda activate {q}") for shell, q in commands if q]
    if env.layout == "windows":
        scripts = PureWindowsPath(env.path) / "Scripts"
        cmd = quote_cmd(str(scripts / "activate.bat"))
        return [
            Activation("PowerShell", f"& {quote_powershell(str(scripts / 'Activate.ps1'))}"),
            *([Activation("cmd", cmd)] if cmd else []),
            Activation("bash (Git Bash)", f"source {quote_posix(str(scripts / 'activate'))}"),
        ]
    bin_dir = PurePosixPath(env.path) / "bin"
    return [
        Activation("bash / zsh", f"source {quote_posix(str(bin_dir / 'activate'))}"),
        Activation("fish", f"source {quote_fish(str(bin_dir / 'activate.fish'))}"),
        Activation("csh / tcsh", f"source {quote_csh(str(bin_dir / 'activate.csh'))}"),
        Activation("PowerShell", f"& {quote_powershell(str(bin_dir / 'Activate.ps1'))}"),
    ]


@dataclass(frozen=True)
class PackageRow:
    name: str
    display_name: str
    version: str
    summary: str
    required: str
    status: str
    detail: str
    source: str
    editable: bool
    required_by: list[str]
    latest: str = ""
    latest_allowed: str = ""
    jump: str = ""
    update_status: str = ""
    update_reason: str = ""
    choices: tuple[str, ...] = ()
    #: Why Upgrade is not offered: the lock the environment is held to pins the package, and
    #: its tool's command moves it (`dashboard.lockpins`); "" when it may be upgraded.
    lock_pin: str = ""
    #: False for a requirement that is missing: listed so it can be installed from here.
    installed: bool = True


def package_rows(env: Environment, q: str = "") -> list[PackageRow]:
    """Missing requirements first, then the installed packages joined with their drift
    verdicts (two queries)."""
    verdicts = {item.name.lower(): item for item in env.drift_items.all()}
    needle = q.strip().lower()
    rows = [
        PackageRow(
            name=item.name,
            display_name=item.name,
            version="",
            summary="",
            required=item.required,
            status=item.status,
            detail=item.detail,
            source="",
            editable=False,
            required_by=[],
            installed=False,
        )
        for item in verdicts.values()
        if item.status == "missing" and (not needle or needle in item.name.lower())
    ]
    for dist in env.distributions.all():
        if needle and needle not in dist.name and needle not in dist.summary.lower():
            continue
        verdict: DriftItem | None = verdicts.get(dist.name) or verdicts.get(
            dist.display_name.lower()
        )
        rows.append(
            PackageRow(
                name=dist.name,
                display_name=dist.display_name,
                version=dist.version,
                summary=dist.summary,
                required=verdict.required if verdict else "",
                status=verdict.status if verdict else "",
                detail=verdict.detail if verdict else "",
                source=dist.source_url,
                editable=dist.editable,
                required_by=list(dist.required_by),
                latest=dist.latest,
                latest_allowed=dist.latest_allowed,
                jump=dist.jump,
                update_status=dist.update_status,
                update_reason=dist.update_reason,
                choices=tuple(dist.choices),
                lock_pin=pin_refusal(env, verdict),
            )
        )
    return rows


@dataclass(frozen=True)
class PackageUse:
    environment: Environment
    version: str
    below: bool


def package_usage(name: str, below: str = "") -> list[PackageUse]:
    """Every live environment that has `name` installed; `below` marks versions < it.

    Versions are compared as PEP 440 versions (2.9 < 2.32), not as text; a version that
    does not parse is never "below".
    """
    canonical = canonicalize_name(name)
    limit = parse_version(below) if below else None
    uses: list[PackageUse] = []
    rows = (
        Distribution.objects.filter(name=canonical, environment__gone_at__isnull=True)
        .select_related("environment", "environment__project")
        .order_by("environment__name")
    )
    for dist in rows:
        installed = parse_version(dist.version)
        is_below = limit is not None and installed is not None and installed < limit
        uses.append(PackageUse(dist.environment, dist.version, is_below))
    return uses
