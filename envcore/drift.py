"""Drift: how far what an environment has installed is from what its project asks for.

Each requirement gets one status (see STATUSES), judged with the markers of *that*
environment's interpreter; constraints narrow the accepted versions; installed top-level
distributions nobody asked for are `untracked`; `pip check` findings are included. What
the environment is compared with, and why, is `envcore.requirements.source.choose_source`'s
choice (a lock, selected for the environment, is a list of exact pins like any other).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from packaging.utils import canonicalize_name

from envcore._install_source import locked_version_difference, match_unnamed, source_difference
from envcore._pep508 import evaluate_marker
from envcore.distributions import Distribution, Inventory, parse_dependency
from envcore.environment import Environment
from envcore.errors import MarkerError, RequirementsError
from envcore.pipcompat import DependencyProblem, check
from envcore.requirements import (
    ParsedRequirements,
    ParseIssue,
    RequirementEntry,
    RequirementsOptions,
)
from envcore.requirements.source import SourceChoice, choose_source, read_source, source_kind
from envcore.text import counted, shown_url
from envcore.versions import satisfies

__all__ = [
    "DRIFT_STATUSES",
    "STATUSES",
    "DriftItem",
    "DriftReport",
    "Status",
    "compute_drift",
    "drift_for_environment",
    "unreadable_report",
]

Status = Literal[
    "ok", "mismatch", "missing", "not-applicable", "unpinned", "source-differs", "untracked"
]
STATUSES: tuple[Status, ...] = (
    "ok",
    "mismatch",
    "missing",
    "not-applicable",
    "unpinned",
    "source-differs",
    "untracked",
)
#: Statuses that make an environment "drifted" (the others are informational).
DRIFT_STATUSES: frozenset[str] = frozenset({"mismatch", "missing", "source-differs"})
#: Installers' own tools: present in most venvs, never worth calling untracked.
_BOOTSTRAP = frozenset({"pip", "setuptools", "wheel", "distribute"})


@dataclass(slots=True)
class DriftItem:
    """One requirement's verdict; `message` explains it in one line.

    Read-only by convention (not `frozen`, which doubles the cost of building one per line).
    """

    name: str
    status: Status
    required: str
    installed_version: str | None
    source: str
    message: str
    entry: RequirementEntry | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "status": self.status,
            "required": self.required,
            "installed_version": self.installed_version,
            "source": self.source,
            "message": self.message,
        }


@dataclass(frozen=True)
class DriftReport:
    """The verdict for one environment against one requirements source."""

    items: tuple[DriftItem, ...]
    untracked: tuple[str, ...]
    problems: tuple[DependencyProblem, ...]
    summary: Literal["in-sync", "drifted", "broken"]
    counts: dict[str, int] = field(hash=False)
    source: Path | None
    parse_errors: tuple[ParseIssue, ...] = ()
    #: Why there is nothing to compare (no requirements source found), why the source could
    #: not be read, or a broken env's reason.
    note: str = ""
    #: What the source is (`SourceChoice.kind`: lock, requirements, pyproject, pipfile, tox,
    #: none) and why it was chosen, in one line.
    source_kind: str = ""
    source_reason: str = ""
    #: For a lock: which of its packages were selected for this environment (one line).
    selection: str = ""
    #: For a lock whose project's declared ranges it no longer satisfies: one line saying
    #: which and what to run; empty when the lock is fresh (or not a lock).
    lock_outdated: str = ""

    def failed(self, *, strict: bool = False) -> bool:
        """What a CI gate should do: fail unless in sync (and, if strict, nothing untracked)."""
        return (
            self.summary != "in-sync"
            or bool(self.parse_errors)
            or self.source is None
            or (strict and bool(self.untracked))
        )

    def to_json(self) -> dict[str, object]:
        return {
            "summary": self.summary,
            "counts": dict(self.counts),
            "source": str(self.source) if self.source else None,
            "note": self.note,
            "source_kind": self.source_kind,
            "source_reason": self.source_reason,
            "selection": self.selection,
            "lock_outdated": self.lock_outdated,
            "items": [item.to_json() for item in self.items],
            "untracked": list(self.untracked),
            "problems": [str(problem) for problem in self.problems],
            "parse_errors": [
                {"source": issue.source, "message": issue.message} for issue in self.parse_errors
            ],
        }


def _entry_satisfied(entry: RequirementEntry, dist: Distribution) -> bool:
    """Whether the installed version is inside the entry's specifier.

    `==V` with V exactly the installed version's text matches by definition: the in-sync
    case of a pinned file, most lines of most files, needs no version parsing at all.
    """
    text = entry.specifier
    if text[:2] == "==" and text[2:] == dist.version:
        return True
    return satisfies(entry.specifier_set, dist.version)


def _required_text(entry: RequirementEntry) -> str:
    """What an entry asks for, as shown: a URL's credentials masked (a Pipfile or
    requirements file may hold them; the installer alone gets them)."""
    if entry.editable:
        return f"-e {shown_url(entry.url or '')}"
    if entry.url:
        return shown_url(entry.url)
    return entry.specifier


def _extra_findings(
    entry: RequirementEntry, dist: Distribution, inventory: Inventory, marker_env: dict[str, str]
) -> tuple[list[str], list[str], set[str]]:
    """What the requested extras need: (missing, conflicting, names they bring in)."""
    missing: list[str] = []
    conflicts: list[str] = []
    names: set[str] = set()
    for extra in entry.extras:
        wanted_extra = canonicalize_name(extra)
        for text in dist.requires:
            requirement = parse_dependency(text)
            if requirement is None or requirement.marker is None:
                continue
            try:
                if not evaluate_marker(requirement.marker, {**marker_env, "extra": wanted_extra}):
                    continue
                if evaluate_marker(requirement.marker, {**marker_env, "extra": ""}):
                    continue  # a base dependency, pip check covers it
            except MarkerError:
                return [], [], set()  # none of them read, as pip; check() tells why
            dependency = canonicalize_name(requirement.name)
            names.add(dependency)
            other = inventory.by_name.get(dependency)
            if other is None:
                missing.append(f"{dependency} (for extra {extra!r})")
            elif not satisfies(requirement.specifier, other.version):
                conflicts.append(
                    f"{dependency} {other.display_version} does not match "
                    f"{requirement.specifier} (for extra {extra!r})"
                )
    return missing, conflicts, names


def _verdict(
    entry: RequirementEntry,
    *,
    dist: Distribution | None,
    constraints: list[RequirementEntry],
    inventory: Inventory,
    marker_env: dict[str, str],
    brought_in: set[str],
) -> tuple[Status, str]:
    """(status, message) of one applicable requirement."""
    if dist is None:
        return "missing", f"not installed, requires {_required_text(entry) or 'any version'}"
    installed = dist.display_version
    if entry.specifier and not _entry_satisfied(entry, dist):
        return "mismatch", f"installed {installed}, requires {entry.specifier}"
    for constraint in constraints:
        if constraint.specifier and not _entry_satisfied(constraint, dist):
            return (
                "mismatch",
                f"installed {installed}, constraint {constraint.specifier} ({constraint.source})",
            )
    difference = locked_version_difference(entry, dist)
    if difference is not None:
        return "mismatch", difference
    difference = source_difference(entry, dist)
    if difference is not None:
        return "source-differs", difference
    if entry.extras:
        missing, conflicts, names = _extra_findings(entry, dist, inventory, marker_env)
        brought_in.update(names)
        if missing:
            return "missing", f"installed {installed}, but missing {', '.join(missing)}"
        if conflicts:
            return "mismatch", f"installed {installed}, but {'; '.join(conflicts)}"
    if entry.url is not None or entry.is_pinned:
        return "ok", f"installed {installed}"
    wanted = entry.specifier or "any version"
    return "unpinned", f"installed {installed}, {wanted} allowed (not pinned)"


def compute_drift(
    env: Environment,
    inventory: Inventory,
    parsed: ParsedRequirements,
    *,
    source: Path | None = None,
    choice: SourceChoice | None = None,
    lock_outdated: str = "",
) -> DriftReport:
    """Compare an inventory with parsed requirements (see the module docstring): what was
    read from `choice` (its path, kind and reason go into the report), a lock out of date
    (`read_source` says) being drifted whatever its packages say."""
    marker_env = env.marker_environment()
    verdicts: dict[str | None, bool] = {None: True}
    #: Entries whose marker cannot be evaluated here: parse errors (never in sync), and
    #: compared with nothing.
    unevaluable: list[ParseIssue] = []

    def applies(entry: RequirementEntry) -> bool:
        # Files repeat the same few markers: evaluate each once for this environment.
        verdict = verdicts.get(entry.marker)
        if verdict is None:
            try:
                verdict = verdicts[entry.marker] = entry.applies_to(marker_env)
            except RequirementsError as exc:
                message = str(exc).removeprefix(f"{entry.source}: ")
                unevaluable.append(ParseIssue(entry.source, message))
                return False
        return verdict

    constraints: dict[str, list[RequirementEntry]] = {}
    for entry in parsed.entries:
        if entry.constraint and entry.name is not None and applies(entry):
            constraints.setdefault(entry.name, []).append(entry)
    items: list[DriftItem] = []
    named: set[str] = set()
    brought_in: set[str] = set()
    # A requirements file included twice yields the very same entry objects twice (the
    # walker reads each file once): compare each once. Entries are told apart by identity,
    # never by their `file:line`, which several entries of one TOML line share.
    seen: set[int] = set()
    for entry in parsed.entries:
        if entry.constraint or id(entry) in seen:
            continue
        seen.add(id(entry))
        dist = (
            inventory.by_name.get(entry.name)
            if entry.name is not None
            else match_unnamed(entry, inventory)
        )
        if dist is not None:
            named.add(dist.canonical_name)
        elif entry.name is not None:
            named.add(entry.name)
        if not applies(entry):
            if entry.marker not in verdicts:
                continue  # cannot be evaluated: a parse error
            items.append(
                DriftItem(
                    entry.name or shown_url(entry.url or entry.text),
                    "not-applicable",
                    _required_text(entry),
                    dist.display_version if dist is not None else None,
                    entry.source,
                    f"marker is false for this environment: {entry.marker}",
                    entry,
                )
            )
            continue
        name = entry.name or (dist.canonical_name if dist else None)
        status, message = _verdict(
            entry,
            dist=dist,
            constraints=constraints.get(name, []) if name and constraints else [],
            inventory=inventory,
            marker_env=marker_env,
            brought_in=brought_in,
        )
        items.append(
            DriftItem(
                name or shown_url(entry.url or entry.text),
                status,
                _required_text(entry),
                dist.display_version if dist is not None else None,
                entry.source,
                message,
                entry,
            )
        )
    ignored = named | brought_in | _BOOTSTRAP
    if parsed.project_name is not None:
        ignored.add(parsed.project_name)
    untracked = tuple(
        sorted(d.name for d in inventory.not_required() if d.canonical_name not in ignored)
    )
    problems = check(inventory)
    errors = (*parsed.errors, *unevaluable)
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for drift_item in items:
        counts[drift_item.status] += 1
    counts["untracked"] = len(untracked)
    summary: Literal["in-sync", "drifted", "broken"]
    if env.broken:
        summary = "broken"
    elif (
        problems
        # A source that was not read (outside the roots) or not wholly understood cannot
        # say the environment is in sync.
        or parsed.outside
        or errors
        or lock_outdated
        or any(drift_item.status in DRIFT_STATUSES for drift_item in items)
    ):
        summary = "drifted"
    else:
        summary = "in-sync"
    return DriftReport(
        items=tuple(items),
        untracked=untracked,
        problems=problems,
        summary=summary,
        counts=counts,
        source=source or (choice.path if choice else None) or next(iter(parsed.files), None),
        parse_errors=errors,
        note=env.broken_reason or _unread_note(errors),
        source_kind=choice.kind if choice is not None else "",
        source_reason=choice.reason if choice is not None else "",
        selection=parsed.selection,
        lock_outdated=lock_outdated,
    )


def _unread_note(errors: Sequence[ParseIssue]) -> str:
    """Why a source with errors is not in sync, in one line (empty: no errors)."""
    if not errors:
        return ""
    first = errors[0]
    if len(errors) == 1:
        return f"the source could not be read whole: {first}"
    return f"the source could not be read whole ({counted(len(errors), 'problem')}); first: {first}"


def _nothing(
    env: Environment, inventory: Inventory, choice: SourceChoice, *, app_env: bool
) -> DriftReport:
    """No source: the report says why. An application env (pipx, `uv tool`) has nothing to
    drift from, so nothing in it is "untracked" either (as pip or uv would see it)."""
    empty = ParsedRequirements((), (), RequirementsOptions(), ())
    report = compute_drift(env, inventory, empty)
    counts = dict(report.counts)
    if app_env:
        counts["untracked"] = 0
    return DriftReport(
        items=(),
        untracked=() if app_env else report.untracked,
        problems=report.problems,
        summary=report.summary,
        counts=counts,
        source=None,
        note=choice.reason,
        source_kind=choice.kind,
        source_reason=choice.reason,
    )


def unreadable_report(
    env: Environment, inventory: Inventory, choice: SourceChoice, error: RequirementsError
) -> DriftReport:
    """The report for a chosen source that cannot be read at all (what drift_for_environment
    raised): drifted, never in sync, the error as its one parse error and its note. For
    callers that must show something (pages, team snapshots); the CLI exits 2 instead."""
    path = choice.path or Path()
    issue = ParseIssue(str(path), str(error).removeprefix(f"{path}: "))
    parsed = ParsedRequirements((), (issue,), RequirementsOptions(), (path,))
    report = compute_drift(env, inventory, parsed, choice=choice)
    return replace(report, note=env.broken_reason or f"the source could not be read: {error}")


def drift_for_environment(
    env: Environment,
    inventory: Inventory,
    source: Path | None = None,
    *,
    choice: SourceChoice | None = None,
    extras: Iterable[str] | None = None,
    groups: Iterable[str] | None = None,
    roots: Sequence[Path | str] | None = None,
) -> DriftReport:
    """Drift against `choice` (or `source`, "chosen by you"), or what `choose_source` picks.

    Without a source to compare with, the report says why (`source` None, `note`). A source
    read only in part makes the report "drifted" with the reason in `note`, and so does a
    lock that no longer satisfies its project's declared ranges (`lock_outdated`); one that
    cannot be read at all raises RequirementsError (one line naming the file: see
    `unreadable_report`). With `roots`, files outside them are not read.
    """
    if choice is None:
        if source is not None:
            choice = SourceChoice(source, source_kind(source), "chosen by you")
        else:
            choice = choose_source(env, roots)
    if choice.path is None:
        return _nothing(env, inventory, choice, app_env=env.is_app_env)
    parsed, outdated = read_source(env, choice, extras=extras, groups=groups, roots=roots)
    return compute_drift(env, inventory, parsed, choice=choice, lock_outdated=outdated)
