"""A machine snapshot: one JSON document describing every environment on a machine, for teams.

The document is what a member's dashboard pushes to a team server, so it is versioned
(`SCHEMA_VERSION`), published as a JSON Schema (envcore/schemas/snapshot-v1.json) and
validated strictly on the way in: a server stores what a stranger sends it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from packaging.utils import canonicalize_name

from envcore._files import read_text
from envcore._git import find_checkout, strip_credentials
from envcore.distributions import Inventory, read_inventory
from envcore.drift import compute_drift, drift_for_environment
from envcore.environment import Environment, inspect_environment
from envcore.errors import EnvcoreError, RequirementsError, SnapshotError
from envcore.requirements import (
    ENV_VAR,
    ParsedRequirements,
    RequirementEntry,
    find_requirements_source,
    load_requirements,
    requirements_fingerprint,
)

__all__ = [
    "SCHEMA_PATH",
    "SCHEMA_VERSION",
    "build_snapshot",
    "content_hash",
    "normalise_remote",
    "parse_snapshot",
    "project_identity",
    "validate_snapshot",
]

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).parent / "schemas" / f"snapshot-v{SCHEMA_VERSION}.json"
#: A snapshot claiming to be from further in the future than this is refused: "newest wins"
#: must not let one bad clock pin a machine's state forever.
MAX_CLOCK_SKEW = timedelta(hours=24)

#: Directories requirements files may be read from; None reads them wherever they are.
Roots = Sequence[Path | str] | None

_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>(?!//).+)$")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._+ -]")
_UNSAFE_IDENTITY_CHARS = re.compile(r"[^A-Za-z0-9._~:/@+-]")
_PACKAGE_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,198}[A-Za-z0-9])?$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]{0,127}$")
_UNSAFE_VERSION_CHARS = re.compile(r"[^A-Za-z0-9.+!_-]")
_MARKUP_CHARS = re.compile(r"[<>\"'&\x00-\x1f\x7f]")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(_inline_refs(schema, schema.get("$defs", {}), ()))


@cache
def _environment_validator() -> Draft202012Validator:
    """The schema of one environment section, to tell which section spoils a document."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    defs = schema.get("$defs", {})
    return Draft202012Validator(_inline_refs(defs["environment"], defs, ()))


def _inline_refs(node: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Any:
    """The schema with each `{"$ref": "#/$defs/x"}` replaced by x itself.

    Same verdicts and instance paths; jsonschema resolves a `$ref` on every instance it
    visits, which made up half the time of validating a snapshot's thousands of packages.
    """
    if isinstance(node, list):
        return [_inline_refs(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref")
    if len(node) == 1 and isinstance(reference, str) and reference.startswith("#/$defs/"):
        name = reference.removeprefix("#/$defs/")
        if name in seen:
            raise ValueError(f"recursive $ref {reference} in the snapshot schema")
        return _inline_refs(defs[name], defs, (*seen, name))
    return {key: _inline_refs(value, defs, seen) for key, value in node.items()}


def normalise_remote(url: str) -> str | None:
    """A git remote as `host/owner/repo`, equal for its https, ssh and scp spellings.

    Credentials, the user, the port, the scheme and a trailing `.git` or `/` are dropped and
    the host lower-cased, so every clone of one repository gets the same identity. A local
    path remote names nothing shared between machines: None.
    """
    url = strip_credentials(url.strip())
    if "://" in url:
        parts = urlsplit(url)
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
            if path.name == "pyproject.toml":
                continue  # TOML expands nothing
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


def _named_by_variable(entry: RequirementEntry | None, unexpand: Callable[[str], str]) -> bool:
    """Whether the project name on the line came from the environment (its value is secret)."""
    raw = entry.raw_name if entry is not None else None
    return raw is not None and unexpand(raw) != raw


def _requirements(
    project_dir: Path, roots: Roots
) -> tuple[str | None, str | None, list[dict[str, str]]]:
    """(fingerprint, source relative to the project, [{name, specifier}]) or Nones."""
    source = find_requirements_source(project_dir, roots)
    if source is None:
        return None, None, []
    try:
        parsed = load_requirements(source, roots=roots)
    except RequirementsError:
        return None, None, []
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
    return requirements_fingerprint(parsed), relative, rows


def project_identity(project_dir: Path | str, *, roots: Roots = None) -> tuple[str, str | None]:
    """(identity, requirements hash): the same project on every machine gets the same identity.

    The identity is the normalised git remote of the checkout holding the project, read from
    `.git/config` (no `git` process), else `dir:<directory name>`. The hash is envcore's
    requirements fingerprint, so "same project, different requirements" shows; with
    `roots`, requirements files outside them are not read.
    """
    project_dir = Path(project_dir)
    fingerprint, _source, _rows = _requirements(project_dir, roots)
    return _identity(project_dir), fingerprint


def _identity(project_dir: Path) -> str:
    """The normalised git remote of the checkout holding the project, else `dir:<name>`."""
    checkout = find_checkout(project_dir)
    remote = checkout.remote_url() if checkout is not None else None
    return (normalise_remote(remote) if remote else None) or _directory_identity(project_dir)


def _project_section(project_dir: Path, roots: Roots) -> dict[str, Any]:
    identity = _identity(project_dir)
    fingerprint, source, rows = _requirements(project_dir, roots)
    return {
        "identity": identity,
        "name": _UNSAFE_NAME_CHARS.sub("-", project_dir.name).lstrip(".-")[:200] or "project",
        "requirements_hash": fingerprint,
        "requirements_source": source,
        "requirements": rows,
    }


def _drift_section(env: Environment, inventory: Inventory, roots: Roots) -> dict[str, Any] | None:
    """The drift result against the project's requirements (None without a project).

    Only what the schema allows travels: item names that are not valid project names (an
    unnamed URL requirement) are left out, odd installed versions become null.
    """
    if env.project is None:
        return None
    # Read once: the report, and which `${VAR}`s its files name (see _Unexpand).
    source = find_requirements_source(env.project, roots)
    parsed: ParsedRequirements | None = None
    try:
        if source is None:
            report = drift_for_environment(env, inventory, roots=roots)
        else:
            parsed = load_requirements(source, base_dir=env.project, roots=roots)
            report = compute_drift(env, inventory, parsed, source=source)
    except RequirementsError:
        return None
    unexpand: Callable[[str], str] = _Unexpand(parsed, os.environ) if parsed is not None else str
    items = [
        {
            "name": item.name,
            "status": item.status,
            "required": _CONTROL_CHARS.sub(" ", unexpand(item.required))[:1000] or None,
            "installed_version": item.installed_version
            if item.installed_version and _VERSION.match(item.installed_version)
            else None,
        }
        for item in report.items
        if _PACKAGE_NAME.match(item.name) and not _named_by_variable(item.entry, unexpand)
    ]
    return {
        "summary": report.summary,
        "counts": dict(report.counts),
        "items": items,
        "untracked": [name for name in report.untracked if _PACKAGE_NAME.match(name)],
    }


def _environment_section(
    path: Path, projects: dict[Path, dict[str, Any]], roots: Roots
) -> dict[str, Any]:
    env = inspect_environment(path)
    inventory = read_inventory(env)
    project: dict[str, Any] | None = None
    if env.project is not None:
        if env.project not in projects:
            projects[env.project] = _project_section(env.project, roots)
        project = projects[env.project]
    seen: set[str] = set()
    distributions = []
    for dist in inventory.distributions:
        # pip lists the first of two same-named distributions; so does the snapshot.
        if dist.canonical_name in seen:
            continue
        seen.add(dist.canonical_name)
        if not _PACKAGE_NAME.match(dist.name):
            continue  # metadata no installer would accept; nothing to compare it with
        version = dist.display_version
        if not _VERSION.match(version):
            version = _UNSAFE_VERSION_CHARS.sub("-", version).strip(".+!_-")[:128] or "unknown"
        distributions.append({"name": dist.name, "version": version, "source": dist.source})
    return {
        "path": str(env.path),
        "name": _MARKUP_CHARS.sub("_", env.name)[:255],
        "kind": env.kind,
        "python_version": env.python_version,
        "health": "broken" if env.broken else "ok",
        "broken_reason": _CONTROL_CHARS.sub(" ", env.broken_reason)[:1000],
        "project": project,
        "distributions": distributions,
        "drift": _drift_section(env, inventory, roots),
    }


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

    An environment that cannot be read at all, or cannot be described validly (a control
    character in its path), is left out rather than failing the whole machine's report;
    its broken state is still reported when inspection itself succeeds.
    """
    if now.tzinfo is None:
        raise SnapshotError("snapshot time must carry a time zone")
    projects: dict[Path, dict[str, Any]] = {}
    sections = []
    for path in environments:
        try:
            sections.append(_environment_section(Path(path), projects, roots))
        except EnvcoreError:
            continue
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
        document["environments"] = [s for s in sections if _environment_validator().is_valid(s)]
        return validate_snapshot(document, now=now)


def _where(error: ValidationError) -> str:
    parts = [str(part) for part in error.absolute_path]
    return "/".join(parts) if parts else "the document"


def _deepest(error: ValidationError) -> ValidationError:
    """For `null or object` alternatives, the error inside the object says what is wrong."""
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    return error


def _describe(error: ValidationError) -> str:
    """One short line; jsonschema's own message repeats the (possibly huge) value."""
    error = _deepest(error)
    where = _where(error)
    kind = error.validator
    if kind == "required":
        missing = str(error.message).split("'")[1] if "'" in str(error.message) else "a field"
        return f"{where}: missing required field {missing!r}"
    if kind == "additionalProperties":
        return f"{where}: unexpected field(s)"
    if kind == "type":
        return f"{where}: must be {error.validator_value}"
    if kind == "maxLength":
        return f"{where}: longer than {error.validator_value} characters"
    if kind == "maxItems":
        return f"{where}: more than {error.validator_value} items"
    if kind == "pattern":
        return f"{where}: contains characters or a form that is not allowed"
    if kind in {"enum", "const"}:
        return f"{where}: not an allowed value"
    if kind == "oneOf":
        return f"{where}: must be null or a valid value"
    return f"{where}: fails the {kind} rule"


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise SnapshotError(f"created_at: not a valid date and time ({exc})") from exc
    if value.tzinfo is None:
        raise SnapshotError("created_at: must carry a time zone offset")
    return value


def validate_snapshot(data: object, *, now: datetime | None = None) -> dict[str, Any]:
    """Return `data` if it is a valid snapshot; otherwise raise SnapshotError with one line.

    Beyond the schema: the version is checked first (so a newer client gets a clear
    answer), the time must parse and not lie in the future, and environment paths and
    package names must be unique where the server keys rows by them.
    """
    if not isinstance(data, dict):
        raise SnapshotError("a snapshot must be a JSON object")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        shown = json.dumps(version)[:20] if version is not None else "missing"
        raise SnapshotError(
            f"unsupported snapshot schema version {shown} (this server reads version "
            f"{SCHEMA_VERSION}; update envdash on the side that is older)"
        )
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise SnapshotError(f"invalid snapshot: {_describe(errors[0])}")
    created = _parse_time(data["created_at"])
    reference = now or datetime.now(created.tzinfo)
    if created - reference > MAX_CLOCK_SKEW:
        raise SnapshotError("created_at: lies more than a day in the future (check the clock)")
    paths: set[str] = set()
    for index, env in enumerate(data["environments"]):
        if env["path"] in paths:
            raise SnapshotError(f"environments/{index}/path: listed twice")
        paths.add(env["path"])
        names: set[str] = set()
        for dist in env["distributions"]:
            name = canonicalize_name(dist["name"])
            if name in names:
                raise SnapshotError(f"environments/{index}: package {name} listed twice")
            names.add(name)
    return data


def parse_snapshot(raw: bytes) -> dict[str, Any]:
    """Decode and validate a snapshot received as bytes (UTF-8 JSON)."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SnapshotError("snapshot is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"snapshot is not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    except RecursionError as exc:
        raise SnapshotError("snapshot JSON is nested too deeply") from exc
    return validate_snapshot(data)


def content_hash(data: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON: the same content hashes the same however it was spelt."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
