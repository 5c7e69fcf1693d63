"""Requirements sources read exactly as pip reads them: requirements files and pyproject.toml.

Nothing is installed, fetched or executed: options (index URLs, --pre, ...) are kept as
data, includes (`-r`/`-c`) are followed on disk with cycle detection, and a bad line
becomes a `ParseIssue` with `file:line` while the rest of the file is still read. Given
`roots`, a file whose real path lies outside them is never opened: a planted
`-r /etc/shadow` or a `requirements.txt` link out of the tree must not carry that file's
content into pages or a team snapshot.

One line -> entry: `_line`; the file walker: `_file` (text layer `_text`, options
`_options`); pyproject.toml: `_pyproject`; which file a project uses: `source`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from envcore._pep508 import is_project_name
from envcore.requirements._entry import (
    ParsedRequirements,
    ParseIssue,
    RequirementEntry,
    RequirementsOptions,
)
from envcore.requirements._file import parse_requirements_file
from envcore.requirements._pyproject import parse_pyproject
from envcore.requirements._roots import roots_refusal, within_roots
from envcore.requirements._text import ENV_VAR
from envcore.requirements.source import find_requirements_source

__all__ = [
    "ENV_VAR",
    "ParseIssue",
    "ParsedRequirements",
    "RequirementEntry",
    "RequirementsOptions",
    "find_requirements_source",
    "is_project_name",
    "load_requirements",
    "parse_pyproject",
    "parse_requirements_file",
    "requirements_fingerprint",
    "roots_refusal",
    "within_roots",
]


def load_requirements(
    path: Path | str,
    *,
    extras: Iterable[str] | None = None,
    groups: Iterable[str] | None = None,
    base_dir: Path | str | None = None,
    roots: Sequence[Path | str] | None = None,
    environment: Mapping[str, str] | None = None,
) -> ParsedRequirements:
    """A lock file, a pyproject.toml, a Pipfile or a requirements file, told apart by the
    file name.

    `extras`/`groups` apply to pyproject.toml and to a lock (asked for beside its tool's
    defaults where the tool adds them), `groups` to a Pipfile, `base_dir` to requirements
    files; `roots` (the directories files may be read from; None for anywhere) to all. A
    lock is selected for `environment` (`Environment.marker_environment()`; this
    interpreter's when None).
    """
    path = Path(path)
    from envcore.locks import is_lock_file  # locks imports this package: imported here

    if is_lock_file(path):
        from envcore.locks import load_lock

        if environment is None:
            from packaging.markers import default_environment

            environment = {key: str(value) for key, value in default_environment().items()}
        return load_lock(
            path,
            environment,
            groups=list(groups) if groups is not None else None,
            extras=list(extras) if extras is not None else None,
            roots=roots,
        )
    if path.name == "pyproject.toml":
        return parse_pyproject(path, extras=extras, groups=groups, roots=roots)
    if path.name == "Pipfile":
        from envcore.requirements._pipfile import parse_pipfile

        return parse_pipfile(path, groups=groups, roots=roots)
    return parse_requirements_file(path, base_dir=base_dir, roots=roots)


def requirements_fingerprint(parsed: ParsedRequirements) -> str:
    """A stable hash of what is asked for: same requirements in any order/spelling, same hash.

    Uses canonical names, normalised specifiers and markers and the URL; ignores comments,
    order, duplicates, hashes and finder options.
    """
    import hashlib  # loads OpenSSL: imported when a fingerprint is asked for, not at start-up

    rows = set()
    for entry in parsed.entries:
        extras = ",".join(sorted(canonicalize_name(extra) for extra in entry.extras))
        rows.add(
            "\x1f".join(
                (
                    "c" if entry.constraint else "r",
                    "e" if entry.editable else "",
                    entry.name or "",
                    extras,
                    entry.specifier,
                    entry.marker or "",
                    entry.url or "",
                )
            )
        )
    digest = hashlib.sha256("\x1e".join(sorted(rows)).encode("utf-8"))
    return digest.hexdigest()
