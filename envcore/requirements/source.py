"""Which truth an environment is held to: the file drift, sync and the pages compare it with,
and one line saying why that file (or why none).

Best first: the file the user chose; nothing for an application env (pipx, `uv tool`); a
tox env's own `deps`; the project's lock file (more exact than any range); then
requirements.txt, requirements/*.txt, a Pipfile, a pyproject.toml declaring dependencies.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from envcore.requirements._roots import within_roots

if TYPE_CHECKING:
    from envcore.environment import Environment
    from envcore.requirements._entry import ParsedRequirements

__all__ = [
    "SourceChoice",
    "SourceKindName",
    "candidate_sources",
    "choose_source",
    "find_requirements_source",
    "read_source",
    "source_kind",
]

SourceKindName = Literal["lock", "requirements", "pyproject", "pipfile", "tox", "none"]

#: Files in requirements/ that describe what a project needs to run, best first.
_PREFERRED_STEMS = ("base", "main", "prod", "production", "common", "default", "requirements")
_DEV_WORDS = re.compile(r"dev|test|doc|lint|ci|local|type|check", re.IGNORECASE)
#: When a project holds several lock files and nothing says whose tool it uses: a tool's own
#: lock before a pylock.toml, which is most often exported from it.
_LOCK_ORDER = ("uv", "poetry", "pipenv", "pylock")


@dataclass(frozen=True)
class SourceChoice:
    """The file an environment is compared with, and why; `path` None: nothing to compare
    with (the reason says why)."""

    path: Path | None
    kind: SourceKindName
    #: One line, shown on the page, in the JSON and by the CLI.
    reason: str
    #: For a tox.ini: which `[testenv:NAME]` section.
    testenv: str | None = None
    #: A tox env's deps as `choose_source` read them to tell they are static, with the same
    #: roots: `read_source` hands them on instead of parsing the configuration again.
    tox_deps: ParsedRequirements | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, object]:
        return {
            "path": str(self.path) if self.path is not None else None,
            "kind": self.kind,
            "reason": self.reason,
            "testenv": self.testenv,
        }


def source_kind(path: Path) -> SourceKindName:
    """What a file chosen as a source is, by its name (anything unknown is read as a
    requirements file, as pip's `-r` would)."""
    from envcore.locks import is_lock_file  # envcore.locks imports this package

    if is_lock_file(path):
        return "lock"
    if path.name == "pyproject.toml":
        return "pyproject"
    if path.name == "Pipfile":
        return "pipfile"
    return "requirements"


def _names(directory: Path) -> frozenset[str]:
    """The regular files directly in `directory` (one listing serves every check)."""
    try:
        with os.scandir(directory) as entries:
            return frozenset(entry.name for entry in entries if entry.is_file())
    except OSError:
        return frozenset()


def _pyproject_data(path: Path, roots: Sequence[Path | str] | None) -> Mapping[str, object]:
    """A pyproject.toml's tables ({} when absent, outside the roots or not TOML: the file is
    then judged by the parser that reads it, which says why)."""
    if not within_roots(path, roots):
        return {}
    from envcore.errors import RequirementsError
    from envcore.locks._read import read_project_toml  # envcore.locks imports this package

    try:
        return read_project_toml(path)[1]
    except RequirementsError:
        return {}


def _tool_table(data: Mapping[str, object], name: str) -> bool:
    tool = data.get("tool")
    return isinstance(tool, dict) and isinstance(tool.get(name), dict)


def _declares(data: Mapping[str, object]) -> bool:
    """Whether a pyproject.toml declares what its project needs (PEP 621, PEP 735, poetry)."""
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    return (
        isinstance(data.get("project"), dict)
        or isinstance(data.get("dependency-groups"), dict)
        or (isinstance(poetry, dict) and isinstance(poetry.get("dependencies"), dict))
    )


def _locks(names: frozenset[str]) -> dict[str, str]:
    """The lock files among `names`, by tool; of several pylocks, pylock.toml, else the first
    whose name does not look like a dev/test lock."""
    from envcore.locks import lock_tool

    found: dict[str, list[str]] = {}
    for name in sorted(names):
        tool = lock_tool(name)
        if tool is not None:
            found.setdefault(tool, []).append(name)
    chosen = {tool: files[0] for tool, files in found.items()}
    pylocks = found.get("pylock", [])
    if len(pylocks) > 1 and "pylock.toml" not in pylocks:
        runtime = [name for name in pylocks if not _DEV_WORDS.search(name[7:-5])]
        chosen["pylock"] = (runtime or pylocks)[0]
    elif pylocks:
        chosen["pylock"] = "pylock.toml" if "pylock.toml" in pylocks else pylocks[0]
    return chosen


def _lock_choice(
    project_dir: Path, names: frozenset[str], data: Mapping[str, object]
) -> SourceChoice | None:
    """The project's lock file, by the project's tool when it holds several."""
    locks = _locks(names)
    if not locks:
        return None
    hints = {
        "uv": ("pyproject.toml has [tool.uv]" if _tool_table(data, "uv") else ""),
        "poetry": (
            "pyproject.toml has [tool.poetry]"
            if _tool_table(data, "poetry") or _poetry_backend(data)
            else ""
        ),
        "pipenv": "the project has a Pipfile" if "Pipfile" in names else "",
        "pylock": "pyproject.toml has [tool.pdm]" if _tool_table(data, "pdm") else "",
    }
    present = [tool for tool in _LOCK_ORDER if tool in locks]
    hinted = [tool for tool in present if hints[tool]]
    tool = (hinted or present)[0]
    name = locks[tool]
    declaring = "Pipfile" if tool == "pipenv" else "pyproject.toml"
    if declaring in names:
        reason = f"{name}: the project's lock file, more exact than {declaring}'s ranges"
    else:
        reason = f"{name}: the project's lock file"
    others = [locks[other] for other in present if other != tool]
    if others:
        why = hints[tool] or "nothing says which tool the project uses"
        reason += f" ({why}; also found: {', '.join(others)})"
    return SourceChoice(project_dir / name, "lock", reason)


def _poetry_backend(data: Mapping[str, object]) -> bool:
    build = data.get("build-system")
    backend = build.get("build-backend") if isinstance(build, dict) else None
    return isinstance(backend, str) and backend.startswith("poetry")


def _requirements_dir(project_dir: Path) -> list[Path]:
    """The requirements/*.txt files, sorted."""
    try:
        return sorted(p for p in (project_dir / "requirements").glob("*.txt") if p.is_file())
    except OSError:
        return []


def _requirements_dir_choice(project_dir: Path) -> Path | None:
    """The best requirements/*.txt: a runtime-sounding name, never a dev one if avoidable."""
    candidates = _requirements_dir(project_dir)
    if not candidates:
        return None
    by_stem = {p.stem.lower(): p for p in candidates}
    for stem in _PREFERRED_STEMS:
        if stem in by_stem:
            return by_stem[stem]
    runtime = [p for p in candidates if not _DEV_WORDS.search(p.stem)]
    return (runtime or candidates)[0]


def _project_choice(project_dir: Path, roots: Sequence[Path | str] | None) -> SourceChoice:
    """The best source in a project directory: a lock, requirements, Pipfile, pyproject."""
    names = _names(project_dir)
    pyproject = project_dir / "pyproject.toml"
    data = _pyproject_data(pyproject, roots) if "pyproject.toml" in names else {}
    locked = _lock_choice(project_dir, names, data)
    if locked is not None:
        return locked
    # pdm.lock is pdm's own format, not read here: say so rather than "no lock file".
    no_lock = "no lock file envdash reads (pdm.lock is pdm's own)" if "pdm.lock" in names else ""
    if "requirements.txt" in names:
        return SourceChoice(
            project_dir / "requirements.txt",
            "requirements",
            f"requirements.txt: {no_lock or 'no lock file'}",
        )
    in_dir = _requirements_dir_choice(project_dir)
    if in_dir is not None:
        return SourceChoice(
            in_dir,
            "requirements",
            f"requirements/{in_dir.name}: {no_lock or 'no lock file'}, no requirements.txt",
        )
    if "Pipfile" in names:
        return SourceChoice(
            project_dir / "Pipfile", "pipfile", "Pipfile: no Pipfile.lock, so its ranges"
        )
    if "pyproject.toml" in names and (not within_roots(pyproject, roots) or _declares(data)):
        # Outside the roots it is named unread: reading it then says why, rather than the
        # project seeming to have no source.
        why = f"{no_lock}, no requirements file" if no_lock else "no lock or requirements file"
        return SourceChoice(pyproject, "pyproject", f"pyproject.toml: {why}, so its ranges")
    return SourceChoice(
        None,
        "none",
        f"no lock file, requirements file, Pipfile or pyproject.toml found in {project_dir}",
    )


def _test_env_choice(env: Environment, roots: Sequence[Path | str] | None) -> SourceChoice:
    """A tox env's `[testenv:NAME]` deps when its configuration declares them statically;
    else nothing (a nox env's noxfile.py is code)."""
    from envcore.errors import RequirementsError
    from envcore.requirements._tox import find_tox_config, parse_tox_deps

    testenv = env.path.name
    if env.manager == "nox":
        return SourceChoice(None, "none", "a test env with no declared source (noxfile.py is code)")
    config = find_tox_config(env.project, roots) if env.project is not None else None
    if config is None:
        return SourceChoice(
            None, "none", "a test env with no declared source (no tox configuration found)"
        )
    if not within_roots(config, roots):
        return SourceChoice(
            None, "none", f"a test env whose {config} is outside the scan roots (not read)"
        )
    reason = f"{config.name} [testenv:{testenv}] deps: what tox installs into this test env"
    try:
        static = parse_tox_deps(config, testenv, roots=roots)
    except RequirementsError:
        # Reading it for drift says why, naming the file.
        return SourceChoice(config, "tox", reason, testenv=testenv)
    if static is None:
        return SourceChoice(
            None,
            "none",
            f"a test env with no declared source ({config.name} [testenv:{testenv}] deps "
            "not readable statically)",
        )
    return SourceChoice(config, "tox", reason, testenv=testenv, tox_deps=static)


def choose_source(
    env: Environment, roots: Sequence[Path | str] | None = None, *, explicit: Path | None = None
) -> SourceChoice:
    """The file `env` is held to, and why (see the module docstring for the order).

    An `explicit` choice that no longer exists or lies outside `roots` is not used: the
    reason says so, then why the fallback was chosen.
    """
    if explicit is not None:
        if not explicit.is_file():
            refusal = f"{explicit} (chosen by you) no longer exists"
        elif not within_roots(explicit, roots):
            refusal = f"{explicit} (chosen by you) is outside the scan roots"
        else:
            return SourceChoice(explicit, source_kind(explicit), "chosen by you")
        fallback = choose_source(env, roots)
        return replace(fallback, reason=f"{refusal}; {fallback.reason}")
    if env.is_app_env:
        tool = "uv tool" if env.manager == "uv-tool" else "pipx"
        return SourceChoice(
            None, "none", f"an application env made by {tool}: it has no requirements to drift from"
        )
    if env.manager in {"tox", "nox"}:
        return _test_env_choice(env, roots)
    if env.project is None:
        return SourceChoice(None, "none", "the environment has no project directory")
    return _project_choice(env.project, roots)


def read_source(
    env: Environment,
    choice: SourceChoice,
    *,
    extras: Iterable[str] | None = None,
    groups: Iterable[str] | None = None,
    roots: Sequence[Path | str] | None = None,
) -> tuple[ParsedRequirements, str]:
    """The chosen file read for `env` (a lock selected for its markers, a tox env's deps),
    and for a lock whether it is out of date (one line; empty when fresh or not a lock).
    RequirementsError when the file cannot be read at all; nothing to read without a path."""
    from envcore.errors import RequirementsError

    path = choice.path
    if path is None:
        raise RequirementsError(choice.reason)
    if choice.kind == "tox":
        if choice.tox_deps is not None:
            return choice.tox_deps, ""
        from envcore.requirements._tox import parse_tox_deps

        testenv = choice.testenv or env.path.name
        parsed = parse_tox_deps(path, testenv, roots=roots)
        if parsed is None:
            raise RequirementsError(f"{path}: the deps of [testenv:{testenv}] cannot be read")
        return parsed, ""
    if choice.kind == "lock":
        from envcore.locks import asked_groups, lock_requirements, read_lock
        from envcore.locks.freshness import lock_outdated
        from envcore.requirements._roots import not_read

        if not within_roots(path, roots):
            return not_read(path), ""
        lock = read_lock(path)
        marker_env = env.marker_environment()
        # No group asked for (an empty --group list too): the lock's tool's default groups.
        selection = lock.select(marker_env, groups=asked_groups(groups, extras))
        return lock_requirements(lock, selection), lock_outdated(lock, marker_env, roots=roots)
    from envcore.requirements import load_requirements

    # pip resolves `-e .` against where it runs: the project directory, for a project's env.
    parsed = load_requirements(
        path, extras=extras, groups=groups, base_dir=env.project, roots=roots
    )
    return parsed, ""


def candidate_sources(
    project_dir: Path | str, roots: Sequence[Path | str] | None = None
) -> tuple[Path, ...]:
    """Every file of the project a user may choose as its source, inside `roots`: lock
    files, requirements files (top level and requirements/), Pipfile, pyproject.toml."""
    project_dir = Path(project_dir)
    names = _names(project_dir)
    from envcore.locks import lock_tool

    found = [name for tool in _LOCK_ORDER for name in sorted(names) if lock_tool(name) == tool]
    found += sorted(n for n in names if n.startswith("requirements") and n.endswith(".txt"))
    paths = [project_dir / name for name in found] + _requirements_dir(project_dir)
    paths += [project_dir / name for name in ("Pipfile", "pyproject.toml") if name in names]
    return tuple(path for path in paths if within_roots(path, roots))


def find_requirements_source(
    project_dir: Path | str, roots: Sequence[Path | str] | None = None
) -> Path | None:
    """The best source of a project directory (what `choose_source` picks for an env of that
    project, without knowing the env): a lock, requirements, Pipfile, pyproject.toml.

    With `roots`, a pyproject.toml whose real path is outside them is returned unread, so
    that parsing it says why it was not read rather than the project seeming to have none.
    """
    return _project_choice(Path(project_dir), roots).path
