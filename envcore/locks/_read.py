"""The one reading layer of every project-format reader (uv.lock, pylock.toml, poetry.lock,
Pipfile.lock, Pipfile, pyproject.toml): a file read within the size limit as TOML or JSON,
and its fields checked for type, each failure one line naming the file (never a traceback)."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import NoReturn, TypeVar, cast

from packaging.markers import InvalidMarker
from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from envcore import text
from envcore._files import read_bytes
from envcore._pep508 import marker
from envcore.errors import RequirementsError
from envcore.locks._cache import Kept
from envcore.requirements._text import clip, one_line
from envcore.versions import parse_version

__all__ = [
    "Fields",
    "file_url",
    "read_json",
    "read_project_toml",
    "read_toml",
    "read_toml_text",
    "without_credentials",
]


_NORMALIZED = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NOT_ARBITRARY = re.compile(r"[\s;@,]")
T = TypeVar("T")


def _read(path: Path, follow_symlinks: bool) -> str:
    try:
        data = read_bytes(path, follow_symlinks=follow_symlinks)
    except OSError as exc:
        raise RequirementsError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RequirementsError(f"{path} is not UTF-8 text (byte {exc.start})") from exc


def read_toml_text(path: Path, *, follow_symlinks: bool = True) -> tuple[str, dict[str, object]]:
    """The file's text and TOML table (the text for line numbers, which tomllib drops);
    RequirementsError (one line, naming the file) when it cannot be read."""
    content = _read(path, follow_symlinks)
    try:
        return content, tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        raise RequirementsError(f"{path} is not valid TOML: {one_line(exc)}") from exc
    except RecursionError as exc:  # tomllib recurses once per level of nesting
        raise RequirementsError(f"{path} is not valid TOML: nested too deeply") from exc


def read_toml(path: Path, *, follow_symlinks: bool = True) -> dict[str, object]:
    """A TOML file as tomllib reads it; RequirementsError (one line) when it cannot be."""
    return read_toml_text(path, follow_symlinks=follow_symlinks)[1]


#: Projects' own files as read (their text and tables), by real path and link handling.
_projects: Kept[tuple[str, dict[str, object]]] = Kept(64)


def read_project_toml(path: Path, *, follow_symlinks: bool = True) -> tuple[str, dict[str, object]]:
    """A project's own TOML file (pyproject.toml, a Pipfile) as `read_toml_text` reads it,
    kept while the file is unchanged: every reader of pyproject.toml (source choice, a
    lock's default groups and freshness, its ranges, requires-python) takes it from here.
    What it returns is shared: never changed by a caller."""
    return _projects.get(
        (os.path.abspath(path), follow_symlinks),
        (path,),
        lambda: read_toml_text(path, follow_symlinks=follow_symlinks),
        follow_symlinks=follow_symlinks,
    )


def read_json(path: Path) -> dict[str, object]:
    """The file's JSON object; RequirementsError (one line, naming the file) otherwise."""
    content = _read(path, True)
    try:
        data = json.loads(content)
    except (ValueError, RecursionError) as exc:
        raise RequirementsError(f"{path} is not valid JSON: {clip(one_line(exc))}") from exc
    if not isinstance(data, dict):
        raise RequirementsError(f"{path} is not a JSON object")
    return data


def _shown(value: object) -> str:
    """A value in an error message: its type, never its text (which may be huge or a secret)."""
    return {dict: "a table", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


#: `Fields.typed`'s words for a type (poetry.lock and Pipfile.lock messages say "a list").
_EXPECTED = {
    str: "a string",
    int: "a number",
    bool: "true or false",
    dict: "a table",
    list: "a list",
}


class Fields:
    """Type checks for one file's parsed data: `where` is the field's place, as the user
    finds it in the file (`package 'alpha': dependencies[2].marker`)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> NoReturn:
        raise RequirementsError(" ".join(f"{self.path}: {where} {problem}".split()))

    def typed(self, where: str, value: object, kind: type[T], default: T) -> T:
        """`value` when it has the expected type (`default` when absent); a field of
        another type is refused with one line naming the file and the field."""
        if value is None:
            return default
        # bool is an int: a `true` where a number is expected is as wrong as a string.
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        shown = _EXPECTED.get(kind, kind.__name__)
        # The value's type, never its text (which may be huge, or a secret).
        actual = _EXPECTED.get(type(value), type(value).__name__)
        raise RequirementsError(f"{self.path}: {where} must be {shown}, not {actual}")

    def table(self, value: object, where: str) -> dict[str, object]:
        if not isinstance(value, dict):
            self.fail(where, f"is {_shown(value)}, not a table")
        return value

    def tables(self, value: object, where: str) -> list[dict[str, object]]:
        if not isinstance(value, list):
            self.fail(where, f"is {_shown(value)}, not an array of tables")
        return [self.table(item, f"{where}[{index}]") for index, item in enumerate(value)]

    def string(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            self.fail(where, f"is {_shown(value)}, not a string")
        return value

    def optional_string(self, data: Mapping[str, object], key: str, where: str) -> str | None:
        value = data.get(key)
        return None if value is None else self.string(value, f"{where}.{key}" if where else key)

    def version(self, text: str, name: str, *, arbitrary: bool = False) -> str:
        """A locked version, checked to be one: it becomes `name==VERSION` for the
        installer, where a marker or URL in it would change what is installed.
        `arbitrary`: pipenv's `===X`, any text without whitespace, `;`, `@` or `,`."""
        if arbitrary:
            valid = bool(text) and _NOT_ARBITRARY.search(text) is None
        else:
            valid = parse_version(text) is not None
        if not valid:
            raise RequirementsError(
                f"{self.path}: version of {name!r} is {clip(text)!r}, not a version"
            )
        return text

    def strings(self, value: object, where: str) -> list[str]:
        if not isinstance(value, list):
            self.fail(where, f"is {_shown(value)}, not an array of strings")
        return [self.string(item, f"{where}[{index}]") for index, item in enumerate(value)]

    def name(self, value: object, where: str) -> NormalizedName:
        name = self.string(value, where)
        if _NORMALIZED.fullmatch(name):  # what locks write: no need to normalise again
            return cast(NormalizedName, name)
        try:
            return canonicalize_name(name, validate=True)
        except InvalidName:
            self.fail(where, "is not a valid project name")

    def marker(self, value: object, where: str) -> str:
        """A marker's text, checked to parse (evaluating it later cannot fail)."""
        found = self.string(value, where)
        try:
            marker(found)
        except InvalidMarker:
            self.fail(where, "is not a valid environment marker")
        return found


#: uv writes locks without credentials (they come from the user's configuration); one in a
#: file on disk is never shown. Cached: every package of a lock names the same index.
without_credentials = lru_cache(maxsize=1024)(text.without_credentials)


@lru_cache(maxsize=1024)
def file_url(base_dir: Path, path: str) -> str:
    """The `file:` URL of `path` (relative to `base_dir`), normalised but never resolved:
    nothing a lock names is followed. Cached: every package of a lock from a flat index
    names the same directory, and pathlib is slow."""
    return Path(os.path.normpath(os.path.join(base_dir, path))).as_uri()
