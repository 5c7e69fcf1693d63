"""Pipfile.lock read as `pipenv sync` reads it.

A JSON object: `_meta` (the Pipfile's hash, `pipfile-spec`, `requires`, the `sources`), then
one object per package category: `default` ([packages]), `develop` ([dev-packages]) and
any custom category the Pipfile declares. Each package: `version` (`==X`; `*` when pipenv
locked it unresolved, as it does for a package whose marker was false where it locked),
`markers`, `index` (a source's name), `git`/`hg`/`svn`/`bzr` with `ref`, `path` or `file`,
`editable`, `extras`.

`pipenv sync` and `pipenv install` install the default category only; `--dev` adds develop
and `--categories` names others. A group asked for here is added to default, as `--dev`
adds develop (`dev`, `dev-packages` and `develop` are one name, as are `packages` and
`default`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from envcore.errors import RequirementsError
from envcore.locks import LockedPackage, LockFile, LockSelection, SourceKind
from envcore.locks._read import Fields, file_url, read_json, without_credentials
from envcore.locks._select import marker_holds, selection_line, with_defaults
from envcore.requirements._pipfile import VCS_KEYS, pipenv_category, vcs_location

__all__ = ["PipfileLock", "category_name", "read_pipfile_lock"]

#: The newest `pipfile-spec` pipenv writes; a later one is a format not known here.
_SPEC = 6
DEFAULT = ("default",)


def category_name(group: str) -> str:
    """pipenv's lock section for a group name as a user may write it (`dev` is `develop`)."""
    return pipenv_category(group, in_lock=True)


@dataclass(frozen=True)
class PipfileLock(LockFile):
    def select(
        self,
        marker_environment: Mapping[str, str],
        *,
        groups: Sequence[str] | None = None,
        tags: object = None,
    ) -> LockSelection:
        # `--group dev` is `pipenv sync --dev`: default and develop (any other category is
        # added to default too, so that its packages are never merely "untracked").
        asked = [category_name(g) for g in groups or ()]
        requested = with_defaults(DEFAULT, asked, category_name)
        chosen = set(requested)
        packages: list[LockedPackage] = []
        skipped: list[tuple[LockedPackage, str]] = []
        selected: set[str] = set()
        for package in self.packages:
            if not chosen.intersection(package.groups) or package.name in selected:
                continue  # a package in two chosen categories: pipenv installs it once
            if package.marker is None or marker_holds(
                self.path, package.marker, marker_environment
            ):
                packages.append(package)
                selected.add(package.name)
            else:
                skipped.append((package, package.marker))
        skipped = [(p, m) for p, m in skipped if p.name not in selected]
        added = ", ".join(c for c in requested if c not in DEFAULT)
        why = (
            f" (default and {added}, as pipenv sync --dev adds develop)"
            if added
            else (" (pipenv sync's default; dev: pipenv sync --dev)")
        )
        picked = f"{', '.join(requested) or 'no'} packages{why}"
        description = selection_line(self.path, picked, marker_environment)
        return LockSelection(tuple(packages), tuple(skipped), requested, description)


def _sources(check: Fields, meta: Mapping[str, object]) -> dict[str, str]:
    """Source name -> index URL, from `_meta.sources`."""
    sources: dict[str, str] = {}
    for index, value in enumerate(check.typed("_meta.sources", meta.get("sources"), list, [])):
        item = check.typed(f"source #{index + 1}", value, dict, {})
        name = check.typed(f"source #{index + 1} name", item.get("name"), str, "")
        url = check.typed(f"source #{index + 1} url", item.get("url"), str, "")
        if name and url:
            sources[name] = without_credentials(url)
    return sources


def _origin(
    check: Fields, raw_name: str, info: Mapping[str, object], sources: Mapping[str, str]
) -> tuple[SourceKind, str | None]:
    """The kind of source and its location (a VCS URL with its ref, a path's file URL)."""
    editable = check.typed(f"editable of {raw_name!r}", info.get("editable"), bool, False)
    for vcs in VCS_KEYS:
        if vcs in info:
            url = check.typed(f"{vcs} of {raw_name!r}", info.get(vcs), str, "")
            ref = check.typed(f"ref of {raw_name!r}", info.get("ref"), str, "")
            sub = check.typed(f"subdirectory of {raw_name!r}", info.get("subdirectory"), str, "")
            # pipenv copies the Pipfile's value: it may be `git+https://…#egg=name` already.
            location = without_credentials(vcs_location(vcs, url, ref or None, sub or None))
            return ("editable" if editable else "vcs"), location
    local = check.typed(f"path of {raw_name!r}", info.get("path"), str, "")
    if local:
        return ("editable" if editable else "path"), file_url(check.path.parent, local)
    remote = check.typed(f"file of {raw_name!r}", info.get("file"), str, "")
    if remote:
        if "://" in remote:
            return "url", without_credentials(remote)
        return ("editable" if editable else "path"), file_url(check.path.parent, remote)
    index = check.typed(f"index of {raw_name!r}", info.get("index"), str, "")
    return "index", sources.get(index)


def _version(check: Fields, raw_name: str, info: Mapping[str, object]) -> str | None:
    """`==X` -> X; `*` or no version (a VCS or path package) -> None."""
    text = check.typed(f"version of {raw_name!r}", info.get("version"), str, "").strip()
    if text.startswith("==="):
        pinned = text[3:].strip()
        return check.version(pinned, raw_name, arbitrary=True) if pinned else None
    if text.startswith("=="):
        pinned = text[2:].strip()
        return check.version(pinned, raw_name) if pinned else None
    if text in ("", "*"):
        return None
    raise RequirementsError(f"{check.path}: version of {raw_name!r} is {text!r}, not an exact pin")


def read_pipfile_lock(path: Path) -> PipfileLock:
    """Read and check a Pipfile.lock: every category, every package."""
    path = Path(path)
    data = read_json(path)
    check = Fields(path)
    meta = check.typed("_meta", data.get("_meta"), dict, {})
    spec = check.typed("_meta.pipfile-spec", meta.get("pipfile-spec"), int, _SPEC)
    if not 1 <= spec <= _SPEC:
        raise RequirementsError(f"{path}: pipfile-spec {spec} is not one pipenv writes (1-6)")
    sources = _sources(check, meta)
    packages: list[LockedPackage] = []
    categories: list[str] = []
    for category, value in data.items():
        if category == "_meta":
            continue
        table = check.typed(f"category {category!r}", value, dict, {})
        categories.append(category)
        for raw_name, item in table.items():
            info = check.typed(f"package {raw_name!r}", item, dict, {})
            kind, location = _origin(check, raw_name, info, sources)
            marker = check.typed(f"markers of {raw_name!r}", info.get("markers"), str, "")
            packages.append(
                LockedPackage(
                    canonicalize_name(raw_name),
                    _version(check, raw_name, info),
                    kind,
                    location,
                    marker or None,
                    (category,),
                )
            )
    return PipfileLock(
        path=path,
        tool="pipenv",
        packages=tuple(packages),
        groups=tuple(categories),
        default_groups=DEFAULT,
    )
