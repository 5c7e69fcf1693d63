"""Whether an install came from where its requirement line asks (drift's `source-differs`).

An index release, a URL, a VCS checkout, a local directory or an editable install: the
line and the installed distribution's PEP 610 record are compared by kind and location.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from envcore._files import read_text
from envcore._pep508 import specifier_set
from envcore.distributions import Distribution, Inventory
from envcore.errors import RequirementsError
from envcore.locks import is_lock_file, locked_version
from envcore.requirements import RequirementEntry
from envcore.text import shown_url, url_parts
from envcore.versions import satisfies

__all__ = ["locked_version_difference", "match_unnamed", "source_difference"]

#: A full commit hash (SHA-1 or SHA-256), as a lock records the commit it resolved.
_FULL_HASH = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _local_path(url: str) -> str | None:
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # `file://[x` in a planted direct_url.json: no local path
        return None
    if parts.scheme != "file":
        return None
    return os.path.normpath(urllib.parse.unquote(parts.path))


def _vcs_parts(url: str) -> tuple[str, str | None]:
    """`git+https://host/repo.git@v1#egg=x` -> (`https://host/repo.git`, `v1`): the location
    compared, and the revision asked for. No urllib: a planted direct_url.json or a lock may
    hold a URL it refuses (`http://[`), and drift must not raise on it."""
    url = url.partition("#")[0].partition("?")[0]
    parts = url_parts(url)
    if parts is None:
        return url, None
    scheme, userinfo, host, path = parts
    scheme = scheme.split("+", 1)[-1]
    revision = None
    if "@" in path.rsplit("/", 1)[-1]:
        path, _, revision = path.rpartition("@")
    netloc = f"{userinfo}@{host}" if userinfo else host
    return f"{scheme}://{netloc}{path}", revision


def _locked_commit(entry: RequirementEntry) -> str | None:
    """The commit a lock pins a VCS package at (uv, pylock and Pipfile.lock record the full
    hash). A requirements file's `@rev` may name a branch or a tag, which moves: only a
    lock's full hash is compared with the commit the install recorded."""
    if not is_lock_file(entry.path) or entry.url is None:
        return None
    revision = _vcs_parts(entry.url)[1]
    return revision.lower() if revision and _FULL_HASH.fullmatch(revision.lower()) else None


def _installed_from(dist: Distribution) -> str:
    if dist.editable:
        return f"editable from {dist.editable_location}"
    if dist.direct_url is None:
        return "from an index"
    if dist.direct_url.vcs:
        return f"from {dist.direct_url.vcs}+{dist.direct_url.url}"
    return f"from {dist.direct_url.url}"


def locked_version_difference(entry: RequirementEntry, dist: Distribution) -> str | None:
    """Why the install is not the version a lock pins for a package from a URL, a path or
    a VCS (the entry's URL is what pip is given, so its version is no specifier), or None.
    """
    version = locked_version(entry) if entry.url is not None else None
    if version is None or satisfies(specifier_set(f"=={version}"), dist.version):
        return None
    location = shown_url(entry.url or "")
    return f"installed {dist.display_version}, the lock pins {version} from {location}"


def source_difference(entry: RequirementEntry, dist: Distribution) -> str | None:
    """Why the install's origin is not what the line asks for, or None when it matches."""
    if entry.url is None and not entry.editable and not dist.editable and not dist.direct_url:
        return None  # the common case: a release from an index, asked for by name
    installed = f"installed {dist.display_version} {_installed_from(dist)}"
    if entry.editable != dist.editable:
        wanted = (
            f"an editable install of {shown_url(entry.url or '')}"
            if entry.editable
            else "a non-editable install"
        )
        return f"requires {wanted}, {installed}"
    if entry.url is None:
        if dist.direct_url is not None and not dist.editable:
            return f"requires a release from an index, {installed}"
        return None
    if not entry.editable and dist.direct_url is None:
        return f"requires {shown_url(entry.url)}, {installed}"
    wanted_path = _local_path(entry.url)
    if dist.editable:
        have = os.path.normpath(dist.editable_location or "")
        if wanted_path is not None and wanted_path != have:
            return f"requires {shown_url(entry.url)}, {installed}"
        return None
    direct = dist.direct_url
    if direct is None:  # editable through an .egg-link: no recorded origin to compare
        return None
    if direct.vcs:
        same = _vcs_parts(entry.url)[0] == _vcs_parts(direct.url)[0]
        commit = _locked_commit(entry)
        installed_commit = (direct.commit_id or "").lower()
        if same and commit is not None and installed_commit != commit:
            shown = installed_commit[:12] or "no recorded commit"
            return (
                f"requires commit {commit[:12]} of {shown_url(entry.url)}, installed commit {shown}"
            )
    elif wanted_path is not None:
        same = wanted_path == _local_path(direct.url)
    else:
        same = entry.url.split("#", 1)[0] == direct.url.split("#", 1)[0]
    return None if same else f"requires {shown_url(entry.url)}, {installed}"


def _project_name_at(url: str | None) -> NormalizedName | None:
    """The name of a local project directory (pyproject.toml, then setup.cfg)."""
    path = _local_path(url) if url else None
    if path is None:
        return None
    from envcore.locks._read import read_project_toml  # only for a local project

    try:
        _text, data = read_project_toml(Path(path, "pyproject.toml"))
    except RequirementsError:
        data = {}
    project = data.get("project")
    if isinstance(project, dict) and isinstance(project.get("name"), str):
        return canonicalize_name(project["name"])
    try:
        for line in read_text(Path(path, "setup.cfg")).splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() == "name" and value.strip():
                return canonicalize_name(value.strip())
    except (OSError, UnicodeDecodeError):
        pass
    return None


def match_unnamed(entry: RequirementEntry, inventory: Inventory) -> Distribution | None:
    """An unnamed line (`-e .`, `./dist/x.tar.gz`): the install that came from there."""
    wanted = _local_path(entry.url) if entry.url else None
    for dist in inventory.distributions:
        location = dist.editable_location
        if wanted is not None and location is not None and os.path.normpath(location) == wanted:
            return dist
        if dist.direct_url is not None and entry.url is not None:
            if wanted is not None and _local_path(dist.direct_url.url) == wanted:
                return dist
            if dist.direct_url.url == entry.url.split("#", 1)[0]:
                return dist
    name = _project_name_at(entry.url)
    return inventory.by_name.get(name) if name is not None else None
