"""Whether an install came from where its requirement line asks (drift's `source-differs`).

An index release, a URL, a VCS checkout, a local directory or an editable install: the
line and the installed distribution's PEP 610 record are compared by kind and location.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from envcore._files import read_text
from envcore.distributions import Distribution, Inventory
from envcore.requirements import RequirementEntry

__all__ = ["match_unnamed", "source_difference"]


def _local_path(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "file":
        return None
    return os.path.normpath(urllib.parse.unquote(parts.path))


def _vcs_location(url: str) -> str:
    """`git+https://host/repo.git@v1#egg=x` -> `https://host/repo.git` (for comparison)."""
    scheme, netloc, path, _, _ = urllib.parse.urlsplit(url)
    if "+" in scheme:
        scheme = scheme.split("+", 1)[1]
    if "@" in path.rsplit("/", 1)[-1]:
        path = path.rsplit("@", 1)[0]
    return urllib.parse.urlunsplit((scheme, netloc, path, "", ""))


def _installed_from(dist: Distribution) -> str:
    if dist.editable:
        return f"editable from {dist.editable_location}"
    if dist.direct_url is None:
        return "from an index"
    if dist.direct_url.vcs:
        return f"from {dist.direct_url.vcs}+{dist.direct_url.url}"
    return f"from {dist.direct_url.url}"


def source_difference(entry: RequirementEntry, dist: Distribution) -> str | None:
    """Why the install's origin is not what the line asks for, or None when it matches."""
    if entry.url is None and not entry.editable and not dist.editable and not dist.direct_url:
        return None  # the common case: a release from an index, asked for by name
    installed = f"installed {dist.display_version} {_installed_from(dist)}"
    if entry.editable != dist.editable:
        wanted = f"an editable install of {entry.url}" if entry.editable else "a non-editable"
        return f"requires {wanted} install, {installed}"
    if entry.url is None:
        if dist.direct_url is not None and not dist.editable:
            return f"requires a release from an index, {installed}"
        return None
    if not entry.editable and dist.direct_url is None:
        return f"requires {entry.url}, {installed}"
    wanted_path = _local_path(entry.url)
    if dist.editable:
        have = os.path.normpath(dist.editable_location or "")
        if wanted_path is not None and wanted_path != have:
            return f"requires {entry.url}, {installed}"
        return None
    direct = dist.direct_url
    if direct is None:  # editable through an .egg-link: no recorded origin to compare
        return None
    if direct.vcs:
        same = _vcs_location(entry.url) == _vcs_location(direct.url)
    elif wanted_path is not None:
        same = wanted_path == _local_path(direct.url)
    else:
        same = entry.url.split("#", 1)[0] == direct.url.split("#", 1)[0]
    return None if same else f"requires {entry.url}, {installed}"


def _project_name_at(url: str | None) -> NormalizedName | None:
    """The name of a local project directory (pyproject.toml, then setup.cfg)."""
    path = _local_path(url) if url else None
    if path is None:
        return None
    import tomllib  # only for a local project: not at every start-up

    try:
        data = tomllib.loads(read_text(Path(path, "pyproject.toml"), encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
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
