"""A PEP 610 `direct_url.json`: where an installed distribution came from."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from envcore._files import read_bytes
from envcore.errors import MetadataError

__all__ = ["DirectUrl", "read_direct_url"]


@dataclass(frozen=True, slots=True)
class DirectUrl:
    """A PEP 610 ``direct_url.json``: where a distribution was installed from."""

    url: str
    editable: bool = False
    vcs: str | None = None
    commit_id: str | None = None
    requested_revision: str | None = None
    archive_hash: str | None = None
    subdirectory: str | None = None

    @property
    def is_local_dir(self) -> bool:
        return self.vcs is None and self.archive_hash is None and self.url.startswith("file:")

    @property
    def local_path(self) -> str | None:
        """The filesystem path of a ``file:`` URL (as pip's ``url_to_path`` gives it)."""
        parts = urlsplit(self.url)
        if parts.scheme != "file":
            return None
        return unquote(parts.path)

    def as_requirement(self, name: str) -> str:
        """What pip freeze writes for a non-editable direct-URL install."""
        fragments = []
        if self.vcs:
            requirement = f"{name} @ {self.vcs}+{self.url}@{self.commit_id}"
        else:
            requirement = f"{name} @ {self.url}"
            if self.archive_hash:
                fragments.append(self.archive_hash)
        if self.subdirectory:
            fragments.append(f"subdirectory={self.subdirectory}")
        if fragments:
            requirement += "#" + "&".join(fragments)
        return requirement


def read_direct_url(path: Path | str) -> DirectUrl | None:
    """Read ``direct_url.json``; None when absent, MetadataError when corrupt."""
    path = str(path)
    if not os.access(path, os.F_OK):  # most installs have none: no exception per package
        return None
    try:
        raw = read_bytes(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise MetadataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(raw)
        url = data["url"]
        if not isinstance(url, str):
            raise TypeError("url is not a string")
    except (ValueError, KeyError, TypeError) as exc:
        raise MetadataError(f"{path} is not a valid PEP 610 document ({exc})") from exc
    except RecursionError as exc:  # json recurses once per level of nesting
        raise MetadataError(f"{path} is not a valid PEP 610 document (nested too deeply)") from exc
    dir_info = data.get("dir_info") if isinstance(data.get("dir_info"), dict) else None
    vcs_info = data.get("vcs_info") if isinstance(data.get("vcs_info"), dict) else None
    archive_info = data.get("archive_info") if isinstance(data.get("archive_info"), dict) else None
    archive_hash: str | None = None
    if archive_info is not None:
        hashes = archive_info.get("hashes")
        if isinstance(hashes, dict) and hashes:
            algorithm, value = next(iter(hashes.items()))
            archive_hash = f"{algorithm}={value}"
        elif isinstance(archive_info.get("hash"), str):
            archive_hash = archive_info["hash"]
    subdirectory = data.get("subdirectory")
    return DirectUrl(
        url=url,
        editable=bool(dir_info and dir_info.get("editable")),
        vcs=str(vcs_info["vcs"]) if vcs_info and "vcs" in vcs_info else None,
        commit_id=str(vcs_info.get("commit_id")) if vcs_info else None,
        requested_revision=(
            str(vcs_info["requested_revision"])
            if vcs_info and vcs_info.get("requested_revision")
            else None
        ),
        archive_hash=archive_hash,
        subdirectory=subdirectory if isinstance(subdirectory, str) and subdirectory else None,
    )
