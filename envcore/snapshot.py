"""A machine snapshot: one JSON document describing every environment on a machine, for teams.

The document is what a member's dashboard pushes to a team server, so it is versioned
(`SCHEMA_VERSION`), published as a JSON Schema (envcore/schemas/snapshot-v1.json) and
validated strictly on the way in (envcore._snapshot_schema): a server stores what a
stranger sends it. `build_snapshot` describes environments read from disk; the section
builders (`project_section`, `drift_section`, `environment_section`, `snapshot_document`)
also serve a caller that already holds the facts (the dashboard, from its last scan).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name

from envcore._files import read_text
from envcore._git import find_checkout, strip_credentials
from envcore._pep508 import is_project_name
from envcore._snapshot_schema import (
    SCHEMA_PATH,
    SCHEMA_VERSION,
    content_hash,
    parse_snapshot,
    section_is_valid,
    validate_snapshot,
)
from envcore.distributions import Inventory, read_inventory
from envcore.drift import compute_drift, drift_for_environment
from envcore.environment import Environment, inspect_environment
from envcore.errors import EnvcoreError, RequirementsError, SnapshotError
from envcore.requirements import (
    ENV_VAR,
    ParsedRequirements,
    find_requirements_source,
    load_requirements,
    requirements_fingerprint,
)
from envcore.requirements.source import choose_source, read_source

__all__ = [
    "SCHEMA_PATH",
    "SCHEMA_VERSION",
    "DriftLine",
    "build_snapshot",
    "content_hash",
    "drift_section",
    "environment_section",
    "normalise_remote",
    "parse_snapshot",
    "project_identity",
    "project_section",
    "snapshot_document",
    "validate_snapshot",
]

#: Directories requirements files may be read from; None reads them wherever they are.
Roots = Sequence[Path | str] | None

_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>(?!//).+)$")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._+ -]")
_UNSAFE_IDENTITY_CHARS = re.compile(r"[^A-Za-z0-9._~:/@+-]")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]{0,127}$")
_UNSAFE_VERSION_CHARS = re.compile(r"[^A-Za-z0-9.+!_-]")
_MARKUP_CHARS = re.compile(r"[<>\"'&\x00-\x1f\x7f]")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
#: Sources read as TOML, where nothing like `${VAR}` is expanded.
_TOML_SOURCES = frozenset({"pyproject.toml", "uv.lock", "poetry.lock", "tox.toml"})


def normalise_remote(url: str) -> str | None:
    """A git remote as `host/owner/repo`, equal for its https, ssh and scp spellings.

    Credentials, the user, the port, the scheme and a trailing `.git` or `/` are dropped and
    the host lower-cased, so every clone of one repository gets the same identity. A local
    path remote names nothing shared between machines: None.
    """
    url = strip_credentials(url.strip())
    if "://" in url:
        try:
            parts = urlsplit(url)
        except ValueError:  # `https://[x/...` in a cloned repo's .git/config: names nothing
            return None
        if parts.scheme == "file" or not parts.hostname:
            return None
        host, path = parts.hostname.lower(), parts.path
    else:
        scp = _SCP_LIKE.match(url)
        if scp is None:
            return None
        host, path = scp.group("host").lower(), scp.group("path")
    path = path.strip("/")
    path = path.removesuffix(".git").rstrip("/")
    segments = [segment for segment in path.split("/") if segment not in {"", ".", ".."}]
    if not segments:
        return None
    return _UNSAFE_IDENTITY_CHARS.sub("-", f"{host}/{'/'.join(segments)}")[:512]


def _directory_identity(project_dir: Path) -> str:
    return "dir:" + (_UNSAFE_IDENTITY_CHARS.sub("-", project_dir.name) or "project")[:200]


class _Unexpand:
    """Puts `${VAR}` back where pip's expansion put this machine's value.

    Drift must compare what pip would install, so requirements are read with variables
    expanded; but a snapshot leaves the machine, and `${ENVDASH_TEAM_TOKEN}` in an index
    URL (or anywhere on a line) must travel as those characters, never as the token.
    Only variables the files actually name are considered, longest value first.
    """

    def __init__(self, parsed: ParsedRequirements, environ: Mapping[str, str]) -> None:
        names: set[str] = set()
        for path in parsed.files:
            if path.name in _TOML_SOURCES or path.name.startswith("pylock."):
                continue  # TOML expands nothing (a Pipfile does: pipenv expands its URLs)
            try:
                names.update(ENV_VAR.findall(read_text(path, errors="replace")))
            except OSError:
                continue
        values = [(environ[name], name) for name in names if environ.get(name)]
        self.values = sorted(values, key=lambda pair: -len(pair[0]))

    def __call__(self, text: str) -> str:
        for value, name in self.values:
            text = text.replace(value, "${" + name + "}")
        return text


def _secret_names(parsed: ParsedRequirements | None, unexpand: Callable[[str], str]) -> set[str]:
    """Projects named on a line through an environment variable (its value is secret)."""
    if parsed is None:
        return set()
    return {
        entry.name
        for entry in parsed.requirements
        if entry.name is not None
        and entry.raw_name is not None
        and unexpand(entry.raw_name) != entry.raw_name
    }


def _requirements(
    project_dir: Path, source: Path | None, roots: Roots
) -> tuple[str | None, str | None, list[dict[str, str]], ParsedRequirements | None]:
    """(fingerprint, source relative to the project, [{name, specifier}], what was parsed)."""
    if source is None:
        return None, None, [], None
    try:
        parsed = load_requirements(source, roots=roots)
    except RequirementsError:
        return None, None, [], None
    unexpand = _Unexpand(parsed, os.environ)
    specs: dict[str, str] = {}
    for entry in parsed.requirements:
        if entry.name is not None and entry.name not in specs:
            raw = f"{entry.raw_name} {entry.specifier}"
            if unexpand(raw) != raw:
                continue  # a value from this machine's environment: not sent, not comparable
            specs[entry.name] = entry.specifier
    try:
        relative = source.relative_to(project_dir).as_posix()
    except ValueError:
        relative = source.name
    rows = [{"name": name, "specifier": spec} for name, spec in sorted(specs.items())]
    return requirements_fingerprint(parsed), relative, rows, parsed


def project_identity(project_dir: Path | str, *, roots: Roots = None) -> tuple[str, str | None]:
    """(identity, requirements hash): the same project on every machine gets the same identity.

    The identity is the normalised git remote of the checkout holding the project, read from
    `.git/config` (no `git` process), else `dir:<directory name>`. The hash is envcore's
    requirements fingerprint, so "same project, different requirements" shows; with
    `roots`, requirements files outside them are not read.
    """
    project_dir = Path(project_dir)
    source = find_requirements_source(project_dir, roots)
    return _identity(project_dir), _requirements(project_dir, source, roots)[0]


def _identity(project_dir: Path) -> str:
    """The normalised git remote of the checkout holding the project, else `dir:<name>`."""
    checkout = find_checkout(project_dir)
    remote = checkout.remote_url() if checkout is not None else None
    return (normalise_remote(remote) if remote else None) or _directory_identity(project_dir)


def project_section(
    project_dir: Path, source: Path | None, *, roots: Roots
) -> tuple[dict[str, Any], ParsedRequirements | None]:
    """The project part of an environment section, compared with `source` (the project's
    requirements file, None for none), and what was parsed from it (None if nothing)."""
    fingerprint, relative, rows, parsed = _requirements(project_dir, source, roots)
    section = {
        "identity": _identity(project_dir),
        "name": _UNSAFE_NAME_CHARS.sub("-", project_dir.name).lstrip(".-")[:200] or "project",
        "requirements_hash": fingerprint,
        "requirements_source": relative,
        "requirements": rows,
    }
    return section, parsed


@dataclass(frozen=True)
class DriftLine:
    """One drift verdict as a snapshot carries it (from envcore's report or stored rows)."""

    name: str
    status: str
    required: str
    installed_version: str | None


def _shareable_name(name: str) -> bool:
    """A distribution name a snapshot carries: valid (PEP 508, as installers check it) and
    within the schema's 200 characters."""
    return len(name) <= 200 and is_project_name(name)


def drift_section(
    summary: str,
    counts: Mapping[str, int],
    items: Iterable[DriftLine],
    untracked: Iterable[str],
    parsed: ParsedRequirements | None,
) -> dict[str, Any]:
    """The drift part of an environment section; `parsed` (the requirements compared with)
    says which `${VAR}`s to put back (see _Unexpand).

    Only what the schema allows travels: item names that are not valid project names (an
    unnamed URL requirement) are left out, odd installed versions become null.
    """
    unexpand: Callable[[str], str] = _Unexpand(parsed, os.environ) if parsed is not None else str
    secret = _secret_names(parsed, unexpand)
    return {
        "summary": summary,
        "counts": dict(counts),
        "items": [
            {
                "name": item.name,
                "status": item.status,
                "required": _CONTROL_CHARS.sub(" ", unexpand(item.required))[:1000] or None,
                "installed_version": item.installed_version
                if item.installed_version and _VERSION.fullmatch(item.installed_version)
                else None,
            }
            for item in items
            if _shareable_name(item.name) and item.name not in secret
        ],
        "untracked": [name for name in untracked if _shareable_name(name)],
    }


def _drift(env: Environment, inventory: Inventory, roots: Roots) -> dict[str, Any] | None:
    """The drift result against what the environment is held to (`choose_source`: the
    project's lock, else its requirements; a tox env's deps); None without a project."""
    if env.project is None:
        return None
    choice = choose_source(env, roots)
    parsed: ParsedRequirements | None = None
    try:
        if choice.path is None:
            report = drift_for_environment(env, inventory, choice=choice, roots=roots)
        else:
            # Read once: the report, and which `${VAR}`s its files name (see _Unexpand).
            parsed, outdated = read_source(env, choice, roots=roots)
            report = compute_drift(env, inventory, parsed, choice=choice, lock_outdated=outdated)
    except RequirementsError:
        return None
    lines = (
        DriftLine(item.name, item.status, item.required, item.installed_version)
        for item in report.items
    )
    return drift_section(report.summary, report.counts, lines, report.untracked, parsed)


def environment_section(
    *,
    path: str,
    name: str,
    kind: str,
    python_version: str | None,
    broken_reason: str | None,
    project: dict[str, Any] | None,
    distributions: Iterable[tuple[str, str, str]],
    drift: dict[str, Any] | None,
) -> dict[str, Any]:
    """One environment's section; `broken_reason` None means healthy, `distributions` are
    (name, version, source) in the order an installer lists them."""
    seen: set[str] = set()
    rows = []
    for dist_name, raw_version, source in distributions:
        # pip lists the first of two same-named distributions; so does the snapshot.
        canonical = canonicalize_name(dist_name)
        if canonical in seen:
            continue
        seen.add(canonical)
        if not _shareable_name(dist_name):
            continue  # metadata no installer would accept; nothing to compare it with
        version = raw_version
        if not _VERSION.fullmatch(version):
            version = _UNSAFE_VERSION_CHARS.sub("-", version).strip(".+!_-")[:128] or "unknown"
        rows.append({"name": dist_name, "version": version, "source": source})
    return {
        "path": path,
        "name": _MARKUP_CHARS.sub("_", name)[:255],
        "kind": kind,
        "python_version": python_version,
        "health": "ok" if broken_reason is None else "broken",
        "broken_reason": _CONTROL_CHARS.sub(" ", broken_reason or "")[:1000],
        "project": project,
        "distributions": rows,
        "drift": drift,
    }


def _environment_section(
    path: Path, projects: dict[Path, dict[str, Any]], roots: Roots
) -> dict[str, Any]:
    env = inspect_environment(path)
    inventory = read_inventory(env)
    project: dict[str, Any] | None = None
    if env.project is not None:
        if env.project not in projects:
            source = find_requirements_source(env.project, roots)
            projects[env.project] = project_section(env.project, source, roots=roots)[0]
        project = projects[env.project]
    return environment_section(
        path=str(env.path),
        name=env.name,
        kind=env.kind,
        python_version=env.python_version,
        broken_reason=env.broken_reason if env.broken else None,
        project=project,
        distributions=((d.name, d.display_version, d.source) for d in inventory.distributions),
        drift=_drift(env, inventory, roots),
    )


def build_snapshot(
    environments: Iterable[Path | str],
    *,
    host: str,
    user: str,
    tool_version: str,
    now: datetime,
    roots: Roots = None,
) -> dict[str, Any]:
    """Describe the given environments as one snapshot document (valid by construction).

    With `roots` (the scan roots), requirements files outside them are not read: what a
    planted include names must not travel to a team server.

    An environment that cannot be read at all is left out rather than failing the whole
    machine's report; its broken state is still reported when inspection itself succeeds.
    """
    if now.tzinfo is None:  # before the work, not after
        raise SnapshotError("snapshot time must carry a time zone")
    projects: dict[Path, dict[str, Any]] = {}
    sections = []
    for path in environments:
        try:
            sections.append(_environment_section(Path(path), projects, roots))
        except EnvcoreError:
            continue
    return snapshot_document(sections, host=host, user=user, tool_version=tool_version, now=now)


def snapshot_document(
    sections: Iterable[dict[str, Any]], *, host: str, user: str, tool_version: str, now: datetime
) -> dict[str, Any]:
    """The validated document holding `sections`; a section that cannot be described validly
    (a control character in its path) is left out rather than failing the whole report."""
    if now.tzinfo is None:
        raise SnapshotError("snapshot time must carry a time zone")
    sections = list(sections)
    document = {
        "schema_version": SCHEMA_VERSION,
        "snapshot_id": uuid.uuid4().hex,
        "created_at": now.isoformat(timespec="seconds"),
        "host": host,
        "user": user,
        "tool_version": tool_version,
        "environments": sections,
    }
    try:
        return validate_snapshot(document, now=now)
    except SnapshotError:
        # One odd environment (a newline in its path) must not cost the machine its
        # whole report: leave out the sections that are not valid on their own.
        document["environments"] = [s for s in sections if section_is_valid(s)]
        return validate_snapshot(document, now=now)
