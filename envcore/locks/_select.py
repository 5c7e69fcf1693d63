"""What the lock readers share when selecting for one environment: a lock's markers
evaluated, the groups chosen beside the tool's defaults, and the selection's one line
(`selection_line`, the one place it is built)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from packaging.markers import InvalidMarker

from envcore._pep508 import holds_with_extras, marker
from envcore.errors import MarkerError, RequirementsError
from envcore.requirements._text import clip, one_line

__all__ = ["groups_phrase", "marker_holds", "selection_line", "with_defaults"]


def marker_holds(
    path: Path, text: str, environment: Mapping[str, str], extras: Iterable[str] = ()
) -> bool:
    """Whether a lock's marker holds for `environment` with the requested extras (as pip
    evaluates a marker once per extra: true for one of them is enough). RequirementsError
    naming the lock for a marker that is invalid or cannot be evaluated here."""
    try:
        return holds_with_extras(marker(text), environment, extras)
    except InvalidMarker as exc:
        raise RequirementsError(f"{path}: invalid marker {clip(text)!r}: {one_line(exc)}") from exc
    except MarkerError as exc:
        raise RequirementsError(f"{path}: {one_line(exc)}") from exc


def _environment_line(environment: Mapping[str, str]) -> str:
    """`markers for CPython 3.11.4 on linux`: whose markers a selection was evaluated for."""
    implementation = environment.get("platform_python_implementation", "Python")
    version = environment.get("python_full_version", "")
    platform = environment.get("sys_platform", "")
    return f"markers for {implementation} {version} on {platform}".replace("  ", " ").strip()


def groups_phrase(groups: Sequence[str], why: str) -> str:
    """`groups main, dev (why)`, or `no groups (why)`."""
    return f"groups {', '.join(groups)} ({why})" if groups else f"no groups ({why})"


def selection_line(
    path: Path, picked: str, environment: Mapping[str, str], *, also: str = ""
) -> str:
    """A selection's one line for pages and the CLI, the same for every lock: the lock's
    name, what was picked (and why), whose markers were evaluated, then `also` (a pylock's
    wheels): `uv.lock: project demo with groups dev (uv sync's default); markers for
    CPython 3.11.4 on linux`."""
    return f"{path.name}: {picked}; {_environment_line(environment)}{also}"


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
