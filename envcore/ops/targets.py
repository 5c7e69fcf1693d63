"""What a sync is about: the requirements it is for (`requirements_for`: the project's
lock or requirements, or a tox env's deps, refused when out of date or when they name a
location outside the roots) and what the dry run is given for them (`_Target`: specs or
`-r` files, the roots of the closure, the editable URLs and a lock's URL versions uv's dry
run does not say)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from envcore._install_source import match_unnamed
from envcore.distributions import Inventory
from envcore.environment import Environment
from envcore.errors import RequirementsError
from envcore.locks import is_lock_file, locked_version
from envcore.ops.dryrun import _Resolved
from envcore.ops.safety import file_url_path, location_refusal
from envcore.ops.session import work_dir
from envcore.requirements import ParsedRequirements, RequirementEntry, load_requirements

if TYPE_CHECKING:
    from envcore.requirements.source import SourceChoice


@dataclass(frozen=True)
class _Target:
    """What the dry run is given (specs and/or requirement files) and the roots of the
    closure: the names the requirements ask for, with their extras."""

    specs: tuple[str, ...]
    files: tuple[Path, ...]
    roots: tuple[tuple[str, tuple[str, ...]], ...]
    project: str | None = None
    #: The URLs the requirements install editable, for uv's dry run, which does not say.
    editables: frozenset[str] = frozenset()
    #: The version a lock records for each URL it installs from: uv's dry run names none.
    url_versions: Mapping[str, str] = field(default_factory=dict)
    #: The locations of the requirements that name no project (`-e .`), with their extras:
    #: what the dry run installs from one is a root of the closure too.
    unnamed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def unnamed_roots(self, installs: Mapping[str, _Resolved]) -> list[tuple[str, tuple[str, ...]]]:
        """The names the dry run found at the unnamed requirements' locations."""
        found = (
            (key, _url_key(item.requirement.partition(" @ ")[2])) for key, item in installs.items()
        )
        return [(key, self.unnamed[url]) for key, url in found if url in self.unnamed]

    def marked(self, installs: Mapping[str, _Resolved]) -> dict[str, _Resolved]:
        """`installs` with the ones from an editable requirement's URL marked editable, and
        the version a lock records for a URL where the dry run names none."""
        marked: dict[str, _Resolved] = {}
        for key, resolved in installs.items():
            url = _url_key(resolved.requirement.partition(" @ ")[2])
            item = replace(resolved, editable=True) if url in self.editables else resolved
            if item.version is None and url in self.url_versions:
                item = replace(item, version=self.url_versions[url])
            marked[key] = item
        return marked


def requirements_for(
    env: Environment,
    requirements: Path | SourceChoice | None,
    roots: Sequence[Path | str] | None,
) -> tuple[Path, ParsedRequirements, str | None]:
    """The requirements a sync or upgrade of `env` is about, read: a file by its name, a
    `SourceChoice` as its kind (what a page shows: a tox env's deps from its tox
    configuration, not that file as requirements), or what `choose_source` picks when
    None (the project's lock, else its requirements; a tox env's deps);
    RequirementsError when there are none, when they are invalid, when they (any entry,
    whatever the source) name a local location outside the roots, and when the lock is out
    of date (its tool would refuse it too: `uv sync --locked`). The third item: for a tox
    env's deps, the `[testenv:NAME]` they were read for (None: the file read by its name)."""
    from envcore.requirements.source import SourceChoice, choose_source

    choice: SourceChoice | None = None
    if isinstance(requirements, SourceChoice):
        choice = requirements
    elif requirements is None:
        choice = choose_source(env, roots)
    else:
        source = Path(requirements)
    if choice is not None:
        if choice.path is None:
            raise RequirementsError(f"nothing to sync {env.path} with: {choice.reason}")
        source = Path(choice.path)
    if not source.is_file():
        raise RequirementsError(f"requirements file {source} does not exist")
    parsed: ParsedRequirements | None
    testenv: str | None = None
    if choice is not None and choice.kind == "tox":
        from envcore.requirements._tox import parse_tox_deps

        testenv = choice.testenv or env.path.name
        parsed = parse_tox_deps(source, testenv, roots=roots)
        if parsed is None:
            raise RequirementsError(f"nothing to sync {env.path} with: {choice.reason}")
    else:
        # A lock is selected for this environment's interpreter (its markers), as its tool
        # would.
        parsed = load_requirements(
            source, base_dir=env.project, roots=roots, environment=env.marker_environment()
        )
    if parsed.errors:
        raise RequirementsError(f"cannot sync: {parsed.errors[0]}")
    # Whatever picked the file (envdash, or the user), the locations it names were picked
    # by nobody: one outside the roots is refused before any installer runs or builds it.
    refusal = location_refusal(parsed, roots, cwd=work_dir(env, source), finder=pip_reads(source))
    if refusal is not None:
        raise RequirementsError(f"cannot sync: {refusal}")
    if is_lock_file(source):
        from envcore.locks import read_lock
        from envcore.locks.freshness import lock_outdated

        outdated = lock_outdated(read_lock(source), env.marker_environment(), roots=roots)
        if outdated:
            raise RequirementsError(f"cannot sync: {outdated}")
    return source, parsed, testenv


def _sync_target(
    env: Environment, inventory: Inventory, source: Path, parsed: ParsedRequirements
) -> _Target:
    entries = _applying(env, parsed)
    roots: list[tuple[str, tuple[str, ...]]] = []
    for entry in entries:
        if entry.name is not None:
            roots.append((entry.name, entry.extras))
        else:
            dist = match_unnamed(entry, inventory)
            if dist is not None:
                roots.append((dist.canonical_name, entry.extras))
    if parsed.project_name is not None and parsed.project_name in inventory.by_name:
        roots.append((parsed.project_name, ()))
    editables = frozenset(
        _url_key(entry.url) for entry in entries if entry.editable and entry.url is not None
    )
    unnamed = {
        _url_key(entry.url): entry.extras
        for entry in entries
        if entry.name is None and entry.url is not None
    }
    if not pip_reads(source):
        # pip cannot read pyproject.toml, a Pipfile, a lock or a tox config as requirements:
        # their entries are passed, a lock's as exact pins and `name @ url` (the editable
        # ones marked as such). A lock's index URL is never passed: the user's configured
        # indexes are used.
        specs = tuple(spec for entry in entries if (spec := _spec(entry)) is not None)
        versions = _url_versions(entries, inventory)
        return _Target(specs, (), tuple(roots), parsed.project_name, editables, versions, unnamed)
    return _Target((), (source,), tuple(roots), parsed.project_name, editables, unnamed=unnamed)


def _applying(env: Environment, parsed: ParsedRequirements) -> list[RequirementEntry]:
    """The entries whose markers hold for `env`."""
    marker_env = env.marker_environment()
    return [
        entry
        for entry in parsed.requirements
        if entry.marker is None or entry.applies_to(marker_env)
    ]


def fill_arguments(env: Environment, parsed: ParsedRequirements) -> tuple[list[str], list[str]]:
    """What fills a new environment from requirements pip cannot read as a file (a lock, a
    Pipfile, pyproject.toml, a tox env's deps): the specs of the entries whose markers hold
    for `env`, and the locations of the editable ones (`_location`, as pip and uv both read
    `--editable`)."""
    specs: list[str] = []
    editables: list[str] = []
    for entry in _applying(env, parsed):
        if entry.editable and entry.url is not None:
            editables.append(_location(entry.url, entry.extras))
        elif (spec := _spec(entry)) is not None:
            specs.append(spec)
    return specs, editables


def _spec(entry: RequirementEntry) -> str | None:
    """What the installer is given for one entry: its PEP 508 requirement; for one naming
    no project (`-e .` in a tox env's deps) its location, a local directory as its path
    with its extras (`/p/proj[test]`, which pip and uv both read), anything else as its
    URL. It is installed editable when the entry says so (see `_Target.marked`), and its
    location has passed the roots check (`requirements_for`)."""
    if entry.requirement is not None:
        return str(entry.requirement)
    return None if entry.url is None else _location(entry.url, entry.extras)


def _location(url: str, extras: Sequence[str]) -> str:
    """A local directory as its path with its extras (`/p/proj[test]`), anything else as
    its URL."""
    path = file_url_path(url)
    if path is None or not os.path.isabs(path):
        return url
    return os.path.normpath(path) + (f"[{','.join(extras)}]" if extras else "")


#: The files tox reads a test env's deps from (see envcore.requirements._tox).
_TOX_CONFIGS = frozenset({"tox.ini", "tox.toml", "setup.cfg"})


def pip_reads(source: Path) -> bool:
    """Whether `source` is a requirements file pip itself can be given as `-r` (its options,
    hashes and includes then apply as pip reads them); every other source is passed as the
    requirement specs envcore read from it."""
    from envcore.requirements.source import source_kind

    return source_kind(source) == "requirements" and source.name not in _TOX_CONFIGS


def _url_versions(entries: Iterable[RequirementEntry], inventory: Inventory) -> dict[str, str]:
    """The version each URL of a lock installs (uv's dry run names none): the locked one,
    or for an editable directory nothing gives a version of (a pylock's `directory`, a tox
    env's `-e .`), the installed one when it is already editable from there (the directory
    is the version)."""
    versions: dict[str, str] = {}
    for entry in entries:
        if entry.url is None:
            continue
        url = _url_key(entry.url)
        version = locked_version(entry)
        dist = inventory.by_name.get(entry.name) if entry.name else match_unnamed(entry, inventory)
        location = dist.editable_location if dist is not None and entry.editable else None
        if (
            version is None
            and dist
            and location
            and Path(os.path.normpath(location)).as_uri() == url
        ):
            version = dist.display_version
        if version is not None:
            versions[url] = version
    return versions


def _url_key(url: str) -> str:
    """A URL compared as a location: an absolute local path as the `file://` URL of its
    normal form, anything else as written (never raising: see `file_url_path`)."""
    path = file_url_path(url)
    if path is None or not os.path.isabs(path):
        return url
    return Path(os.path.normpath(path)).as_uri()
