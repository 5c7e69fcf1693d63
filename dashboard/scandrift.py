"""For the scanner: which file an environment is held to (the file chosen for its project,
else envcore's choice: a lock before requirements before ranges), its drift against that
file, and every file that drift depends on, which the scan signature stats and the watcher
watches, so that editing any of them re-runs the drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dashboard.models import Project
from envcore.distributions import Inventory
from envcore.drift import DriftReport, compute_drift, drift_for_environment, unreadable_report
from envcore.environment import Environment as EnvFacts
from envcore.errors import EnvcoreError, RequirementsError
from envcore.requirements import ParseIssue, find_requirements_source
from envcore.requirements.source import (
    SourceChoice,
    candidate_sources,
    choose_source,
    read_source,
)

__all__ = ["automatic_source", "drift_against", "project_and_choice"]

#: The files a lock is judged fresh against (envcore.locks.freshness reads them).
_DECLARING = ("pyproject.toml", "Pipfile")


def project_and_choice(
    facts: EnvFacts, roots: Sequence[Path]
) -> tuple[Project | None, SourceChoice]:
    """The environment's project row (made on first sight, its automatic source and the
    files a user may choose kept current) and the file the environment is held to."""
    if facts.project is None:
        return None, choose_source(facts, roots)
    project, _ = Project.objects.get_or_create(
        path=str(facts.project), defaults={"name": facts.project.name}
    )
    explicit = project.requirements_explicit and bool(project.requirements_source)
    changed: list[str] = []
    if not explicit:
        automatic = automatic_source(facts.project, roots)
        if project.requirements_source != automatic:
            project.requirements_source = automatic
            changed.append("requirements_source")
    candidates = [str(path) for path in candidate_sources(facts.project, roots)]
    if project.source_candidates != candidates:
        project.source_candidates = candidates
        changed.append("source_candidates")
    if changed:
        project.save(update_fields=[*changed, "updated_at"])
    chosen = Path(project.requirements_source) if explicit else None
    return project, choose_source(facts, roots, explicit=chosen)


def automatic_source(project_dir: Path, roots: Sequence[Path]) -> str:
    """The file a project is held to when nobody chose one ("" for none): envcore's choice
    for the project's directory, reading only its listing and pyproject.toml (the same file
    `choose_source` picks for an environment of the project that is no tox or app env)."""
    found = find_requirements_source(project_dir, roots)
    return str(found) if found else ""


def drift_against(
    facts: EnvFacts, inventory: Inventory, choice: SourceChoice, roots: Sequence[Path]
) -> tuple[DriftReport, list[str], list[str]]:
    """The drift report, the files it depends on, and why the source could not be read
    (one line each; then the report is never "in-sync").

    Only files inside the scan roots are read: a requirements file (or an include) leading
    elsewhere is reported as not read, never shown.
    """
    if choice.path is None:
        return drift_for_environment(facts, inventory, choice=choice, roots=roots), [], []
    read: tuple[Path, ...] = (choice.path,)
    try:
        # Read once: the report, and every file the read opened (includes, a tox env's -r).
        parsed, outdated = read_source(facts, choice, roots=roots)
    except EnvcoreError as exc:
        # A source that cannot be read at all (or anything else envcore refuses on the
        # way: an unreadable directory, say) is one line, and never "in sync".
        error = exc if isinstance(exc, RequirementsError) else RequirementsError(str(exc))
        report = unreadable_report(facts, inventory, choice, error)
    else:
        report = compute_drift(facts, inventory, parsed, choice=choice, lock_outdated=outdated)
        read = parsed.files or read
    errors = [_one_line(issue) for issue in report.parse_errors]
    return report, _depends_on(choice, read), errors


def _one_line(issue: ParseIssue) -> str:
    """`file:line: reason`, without naming the file twice when the reason already does."""
    return issue.message if issue.message.startswith(issue.source) else str(issue)


def _depends_on(choice: SourceChoice, read: Sequence[Path]) -> list[str]:
    """What was read, and for a lock the files its freshness is judged against (those that
    exist: one that appears changes the choice's reason, which a rescan compares)."""
    files = list(read)
    if choice.kind == "lock" and choice.path is not None:
        files += [
            declaring
            for name in _DECLARING
            if (declaring := choice.path.parent / name).is_file() and declaring not in files
        ]
    return [str(file) for file in files]
