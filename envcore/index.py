"""What the package indexes offer: the files of a project, from the indexes pip would ask.

Reads the PEP 691 JSON simple API (falling back to PEP 503 HTML) of every configured
index (envcore.pipconfig) and the find-links locations, concurrently, through an on-disk
cache that honours ETag/Last-Modified and Cache-Control max-age/no-store, with a time to
live for responses that say nothing, and an offline mode that only reads the cache. A
failing or slow index never raises: the answer carries a one-line reason instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import platformdirs
from packaging.utils import canonicalize_name

from envcore._files import METADATA_LIMIT as PAGE_LIMIT
from envcore._files import read_text
from envcore.pipconfig import IndexConfig
from envcore.text import shown_url

__all__ = [
    "DEFAULT_TTL",
    "FileLink",
    "IndexClient",
    "ProjectFiles",
    "parse_html_page",
    "parse_json_page",
]

#: Seconds a response without Cache-Control counts as fresh.
DEFAULT_TTL = 600.0
_JSON_TYPE = "application/vnd.pypi.simple.v1+json"
_ACCEPT = f"{_JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
#: A simple page larger than this is refused (a hostile or broken index).
_MAX_PAGE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class FileLink:
    """One downloadable file of a project, as an index lists it."""

    filename: str
    url: str
    requires_python: str | None = None
    yanked: bool = False


@dataclass(frozen=True)
class ProjectFiles:
    """Every file found for a project; `error` says why some or all sources failed."""

    name: str
    files: tuple[FileLink, ...]
    error: str = ""

    @property
    def unknown(self) -> bool:
        """Nothing could be learnt (every source failed)."""
        return not self.files and bool(self.error)


class _LinkParser(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.links: list[FileLink] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        values = dict(attrs)
        href = values.get("href")
        if not href:
            return
        url = urllib.parse.urljoin(self.base_url, href)
        filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        if not filename:
            return
        self.links.append(
            FileLink(
                filename=filename,
                url=url,
                requires_python=values.get("data-requires-python") or None,
                yanked="data-yanked" in values,
            )
        )


def parse_html_page(text: str, base_url: str) -> tuple[FileLink, ...]:
    """The links of a PEP 503 page (or a find-links directory listing)."""
    parser = _LinkParser(base_url)
    parser.feed(text)
    parser.close()
    return tuple(parser.links)


def parse_json_page(text: str, base_url: str) -> tuple[FileLink, ...]:
    """The files of a PEP 691 JSON page; raises ValueError when it is not one."""
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise ValueError("not a PEP 691 project page (no 'files' list)")
    links = []
    for item in data["files"]:
        if not isinstance(item, dict):
            continue
        filename, url = item.get("filename"), item.get("url")
        if not isinstance(filename, str) or not isinstance(url, str):
            continue
        requires = item.get("requires-python")
        links.append(
            FileLink(
                filename=filename,
                url=urllib.parse.urljoin(base_url, url),
                requires_python=requires if isinstance(requires, str) and requires else None,
                yanked=bool(item.get("yanked", False)),
            )
        )
    return tuple(links)


def _max_age(cache_control: str) -> tuple[float | None, bool]:
    """(max-age seconds or None, no-store)."""
    max_age: float | None = None
    no_store = False
    for part in cache_control.split(","):
        key, _, value = part.strip().partition("=")
        key = key.lower()
        if key == "no-store":
            no_store = True
        elif key in {"no-cache"}:
            max_age = 0.0
        elif key == "max-age" and value.strip().isdigit() and max_age is None:
            max_age = float(value.strip())
    return max_age, no_store


class IndexClient:
    """Asks the configured indexes and find-links about projects, through a disk cache."""

    def __init__(
        self,
        config: IndexConfig,
        *,
        cache_dir: Path | str | None = None,
        ttl: float = DEFAULT_TTL,
        offline: bool = False,
        timeout: float = 10.0,
        workers: int = 8,
    ) -> None:
        self.config = config
        default_cache = Path(platformdirs.user_cache_dir("envdash", appauthor=False)) / "index"
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache
        self.ttl = ttl
        self.offline = offline
        self.timeout = timeout
        self.workers = workers

    # --- cache ---------------------------------------------------------------------

    def _cache_path(self, url: str) -> Path:
        return self.cache_dir / (hashlib.sha256(url.encode("utf-8")).hexdigest() + ".json")

    def _read_cache(self, url: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._cache_path(url).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # missing or corrupt: as if never fetched
        if not isinstance(data, dict) or not isinstance(data.get("body"), str):
            return None
        return data

    def _write_cache(self, url: str, entry: Mapping[str, Any]) -> None:
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(entry, stream)
            os.replace(temporary, self._cache_path(url))
        except OSError:
            return  # a cache that cannot be written only costs speed

    # --- fetching ------------------------------------------------------------------

    def _fetch(self, url: str) -> tuple[str, str]:
        """(body, content type) of `url`, from the cache when fresh. Raises OSError/ValueError."""
        cached = self._read_cache(url)
        now = time.time()
        if cached is not None:
            age = now - float(cached.get("fetched", 0))
            fresh_for = cached.get("max_age")
            limit = float(fresh_for) if isinstance(fresh_for, int | float) else self.ttl
            if self.offline or age < limit:
                return cached["body"], str(cached.get("content_type", ""))
        if self.offline:
            raise OSError("offline and not cached")
        request = urllib.request.Request(url, headers={"Accept": _ACCEPT})  # noqa: S310
        if cached is not None:
            if cached.get("etag"):
                request.add_header("If-None-Match", str(cached["etag"]))
            if cached.get("last_modified"):
                request.add_header("If-Modified-Since", str(cached["last_modified"]))
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body_bytes = response.read(_MAX_PAGE_BYTES + 1)
                headers = response.headers
        except urllib.error.HTTPError as exc:
            if exc.code == 304 and cached is not None:
                max_age, _ = _max_age(exc.headers.get("Cache-Control", ""))
                self._write_cache(url, {**cached, "fetched": now, "max_age": max_age})
                return cached["body"], str(cached.get("content_type", ""))
            raise OSError(f"HTTP {exc.code} from {url}") from exc
        if len(body_bytes) > _MAX_PAGE_BYTES:
            raise ValueError(f"{url}: page larger than {_MAX_PAGE_BYTES // 2**20} MiB")
        content_type = headers.get("Content-Type", "")
        body = body_bytes.decode(headers.get_content_charset() or "utf-8", errors="replace")
        max_age, no_store = _max_age(headers.get("Cache-Control", ""))
        if not no_store:
            self._write_cache(
                url,
                {
                    "fetched": now,
                    "max_age": max_age,
                    "etag": headers.get("ETag"),
                    "last_modified": headers.get("Last-Modified"),
                    "content_type": content_type,
                    "body": body,
                },
            )
        return body, content_type

    def _index_files(self, index_url: str, name: str) -> tuple[FileLink, ...]:
        url = f"{index_url.rstrip('/')}/{name}/"
        if url.startswith("file:"):
            directory = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
            for candidate in (directory / "index.html", directory):
                if candidate.is_file():
                    return parse_html_page(read_text(candidate, PAGE_LIMIT, errors="replace"), url)
            if not directory.is_dir():
                raise OSError(f"{directory} does not exist")
            return _directory_links(directory, name)
        body, content_type = self._fetch(url)
        if content_type.split(";")[0].strip() == _JSON_TYPE:
            return parse_json_page(body, url)
        return parse_html_page(body, url)

    def _find_links_files(self, location: str, name: str) -> tuple[FileLink, ...]:
        if location.startswith(("http://", "https://")):
            body, _ = self._fetch(location)
            links = parse_html_page(body, location)
        else:
            path = location
            if location.startswith("file:"):
                path = urllib.request.url2pathname(urllib.parse.urlsplit(location).path)
            links = _directory_links(Path(path), name)
        return tuple(link for link in links if _belongs_to(link.filename, name))

    def _secure(self, location: str) -> bool:
        """pip's rule: HTTPS, a local file, loopback, or a host listed in trusted-host."""
        parts = urllib.parse.urlsplit(location)
        if parts.scheme != "http":
            return True
        host = parts.hostname or ""
        if host in {"localhost", "127.0.0.1", "::1"}:
            return True
        trusted = {entry.split(":")[0] for entry in self.config.trusted_hosts}
        return host in trusted or f"{host}:{parts.port}" in self.config.trusted_hosts

    def project_files(self, name: str) -> ProjectFiles:
        """Every file of `name` on every index and find-links location pip would use."""
        canonical = canonicalize_name(name)
        files: list[FileLink] = []
        errors: list[str] = []
        sources = [(url, True) for url in self.config.index_urls]
        sources += [(link, False) for link in self.config.find_links]
        for location, is_index in sources:
            if not self._secure(location):
                errors.append(
                    f"{shown_url(location)}: not a trusted or secure host (pip ignores it too; "
                    "add it to trusted-host)"
                )
                continue
            try:
                if is_index:
                    found = self._index_files(location, canonical)
                else:
                    found = self._find_links_files(location, canonical)
            except (OSError, ValueError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                errors.append(f"{shown_url(location)}: {reason}")
                continue
            files.extend(found)
        if not sources:
            errors.append("no index and no find-links configured")
        return ProjectFiles(canonical, tuple(files), "; ".join(errors))

    def many(self, names: Iterable[str]) -> dict[str, ProjectFiles]:
        """`project_files` for several projects at once, concurrently."""
        unique = sorted({canonicalize_name(name) for name in names})
        with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
            results = pool.map(self.project_files, unique)
            return {files.name: files for files in results}


def _directory_links(directory: Path, name: str) -> tuple[FileLink, ...]:
    try:
        entries = sorted(os.listdir(directory))
    except OSError as exc:
        raise OSError(f"cannot list {directory}: {exc.strerror}") from exc
    return tuple(
        FileLink(entry, (directory / entry).as_uri())
        for entry in entries
        if _belongs_to(entry, name)
    )


def _belongs_to(filename: str, name: str) -> bool:
    """Whether a wheel/sdist file name is of project `name` (the name before the version)."""
    stem = (
        filename.split("-", maxsplit=1)[0]
        if filename.endswith(".whl")
        else filename.rsplit("-", 1)[0]
    )
    return canonicalize_name(stem) == canonicalize_name(name)
