"""The snapshot's JSON Schema and the checks beyond it: what a team server accepts.

A server stores what a stranger sends it, so a document is checked strictly on the way in
and refused with one line that says where it is wrong (see envcore.snapshot).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from packaging.utils import canonicalize_name

from envcore.errors import SnapshotError

__all__ = [
    "SCHEMA_PATH",
    "SCHEMA_VERSION",
    "content_hash",
    "parse_snapshot",
    "section_is_valid",
    "validate_snapshot",
]

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).parent / "schemas" / f"snapshot-v{SCHEMA_VERSION}.json"
#: A snapshot claiming to be from further in the future than this is refused: "newest wins"
#: must not let one bad clock pin a machine's state forever.
MAX_CLOCK_SKEW = timedelta(hours=24)


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


def section_is_valid(section: Mapping[str, Any]) -> bool:
    """Whether one environment section is valid on its own."""
    return _environment_validator().is_valid(section)


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
