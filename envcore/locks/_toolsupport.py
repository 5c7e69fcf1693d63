"""What the poetry and pipenv readers share beyond `_read`: a TOML file with its text, a
JSON file, fields checked for type (one-line errors), a lock's markers evaluated for an
environment, and the selection's one-line description."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar

from packaging.markers import InvalidMarker

from envcore._files import read_bytes
from envcore._pep508 import marker
from envcore.errors import RequirementsError
from envcore.requirements._text import clip, one_line

__all__ = [
    "environment_line",
    "marker_holds",
    "read_json",
    "read_toml_text",
    "typed",
    "with_defaults",
]


def _read(path: Path) -> str:
    try:
        return read_bytes(path).decode("utf-8-sig")
    except OSError as exc:
        raise RequirementsError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise RequirementsError(f"{path} is not UTF-8 text: {exc.reason}") from exc


def read_toml_text(path: Path) -> tuple[str, dict[str, object]]:
    """The file's text and TOML table (the text for line numbers, which tomllib drops);
    RequirementsError (one line, naming the file) when it cannot be read."""
    import tomllib  # only when a TOML source is read: not at every start-up

    text = _read(path)
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RequirementsError(f"{path} is not valid TOML: {one_line(exc)}") from exc


def read_json(path: Path) -> dict[str, object]:
    """The file's JSON object; RequirementsError (one line, naming the file) otherwise."""
    text = _read(path)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise RequirementsError(f"{path} is not valid JSON: {clip(one_line(exc))}") from exc
    if not isinstance(data, dict):
        raise RequirementsError(f"{path} is not a JSON object")
    return data


T = TypeVar("T")
_EXPECTED = {
    str: "a string",
    int: "a number",
    bool: "true or false",
    dict: "a table",
    list: "a list",
}


def typed(path: Path, where: str, value: object, kind: type[T], default: T) -> T:
    """`value` when it has the expected type (`default` when absent); a field of another type
    is refused with one line naming the file and the field."""
    if value is None:
        return default
    # bool is an int: a `true` where a number is expected is as wrong as a string.
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    shown = _EXPECTED.get(kind, kind.__name__)
    # The value's type, never its text (which may be huge, or a secret).
    raise RequirementsError(
        f"{path}: {where} must be {shown}, not {_EXPECTED.get(type(value), type(value).__name__)}"
    )


def marker_holds(
    path: Path, text: str, environment: Mapping[str, str], extras: Iterable[str] = ()
) -> bool:
    """Whether a lock's marker holds for `environment` with the requested extras (as pip
    evaluates a marker once per extra: true for one of them is enough)."""
    try:
        parsed = marker(text)
    except InvalidMarker as exc:
        raise RequirementsError(f"{path}: invalid marker {clip(text)!r}: {one_line(exc)}") from exc
    return any(parsed.evaluate({**environment, "extra": extra}) for extra in ("", *extras))


def environment_line(environment: Mapping[str, str]) -> str:
    """`markers for CPython 3.11.4 on linux`: whose markers a selection was evaluated for."""
    implementation = environment.get("platform_python_implementation", "Python")
    version = environment.get("python_full_version", "")
    platform = environment.get("sys_platform", "")
    return f"markers for {implementation} {version} on {platform}".replace("  ", " ").strip()


def with_defaults(
    defaults: Iterable[str], asked: Iterable[str], key: Callable[[str], str]
) -> tuple[str, ...]:
    """The tool's default groups, then each group asked for that is not one of them (`key`:
    the tool's own name for a group, as it compares them). Asking for a group adds it, as
    `poetry install --with NAME` and `pipenv sync --dev` add to what they install: a
    `--group` that dropped the defaults would leave their packages "untracked", and a
    mismatch among them unseen."""
    chosen = dict.fromkeys(defaults)
    seen = {key(group) for group in chosen}
    for group in asked:
        if key(group) not in seen:
            seen.add(key(group))
            chosen[group] = None
    return tuple(chosen)
