"""What one requirement line names: project, specifier, marker, extras and URL, as pip reads it.

A plain `name` / `name==1.0` line takes a regex fast path; anything else (markers, extras,
URLs, paths, wheels, editables) follows pip's rules for requirement lines, including its
habit of resolving relative paths against the working directory (`base_dir` here).
"""

from __future__ import annotations

import os
import posixpath
import re
import urllib.parse
from dataclasses import dataclass

from packaging.markers import InvalidMarker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from envcore import _pep508
from envcore.requirements._text import clip

__all__ = ["LineRequirement", "interpret_editable", "interpret_line", "is_url", "path_to_url"]

_VCS_SCHEMES = frozenset(
    {
        *(f"bzr+{s}" for s in ("http", "https", "ssh", "sftp", "ftp", "lp", "file")),
        *(f"git+{s}" for s in ("http", "https", "ssh", "git", "file")),
        *(f"hg+{s}" for s in ("file", "http", "https", "ssh", "static-http")),
        *(f"svn+{s}" for s in ("ssh", "http", "https", "svn", "file")),
    }
)
_URL_SCHEMES = frozenset({"http", "https", "file", "ftp"}) | _VCS_SCHEMES
_VCS_NAMES = ("bzr", "git", "hg", "svn")
_ARCHIVE_EXTENSIONS = (
    ".zip",
    ".whl",
    ".tar.bz2",
    ".tbz",
    ".tar.gz",
    ".tgz",
    ".tar",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
)
_EGG = re.compile(r"[#&]egg=([^&]*)")
_TRAILING_EXTRAS = re.compile(r"^(.+)(\[[^\]]+\])$")


@dataclass(frozen=True, slots=True)
class LineRequirement:
    """The pieces of one requirement; `name` is as written (None for unnamed URLs/paths)."""

    name: str | None
    specifier: str
    marker: str | None
    extras: tuple[str, ...]
    url: str | None


def is_url(text: str) -> bool:
    """pip's test: a scheme it knows how to fetch from (http(s), file, ftp, VCS)."""
    if ":" not in text:
        return False
    return urllib.parse.urlsplit(text).scheme in _URL_SCHEMES


def _extension(path: str) -> str:
    """The file extension, with `.tar` kept in front of a compression suffix (`.tar.gz`)."""
    base, ext = posixpath.splitext(path)
    if base.lower().endswith(".tar"):
        ext = base[-4:] + ext
    return ext


_ARCHIVE_SUFFIXES = frozenset(ext.rpartition(".")[2] for ext in _ARCHIVE_EXTENSIONS)


def _is_archive(path: str) -> bool:
    if path.rpartition(".")[2].lower() not in _ARCHIVE_SUFFIXES:  # cheap test first
        return False
    return _extension(path).lower() in _ARCHIVE_EXTENSIONS


def path_to_url(path: str, base_dir: str) -> str:
    # Imported here: urllib.request brings http, email and ssl, 15-30 ms of start-up.
    from urllib.request import pathname2url

    path = os.path.normpath(os.path.join(base_dir, path))
    return urllib.parse.urljoin("file://", pathname2url(path))


def _looks_like_path(name: str) -> bool:
    return "/" in name or os.sep in name or name.startswith(".")


def _egg_name(url: str) -> str | None:
    match = _EGG.search(url)
    if match is None:
        return None
    if not _pep508.is_project_name(match.group(1)):
        raise ValueError(
            f"{clip(match.group(1))!r} is not a valid #egg= project name in {clip(url)}"
        )
    return match.group(1)


def _url_path(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path)


def _url_ext_is_wheel(url: str) -> bool:
    return _extension(posixpath.basename(_url_path(url).rstrip("/"))) == ".whl"


def _extras_from_suffix(suffix: str | None) -> tuple[str, ...]:
    if not suffix:
        return ()
    try:
        return tuple(sorted(_pep508.requirement("placeholder" + suffix.lower()).extras))
    except InvalidRequirement as exc:
        raise _invalid(suffix, exc) from exc


def _strip_extras(text: str) -> tuple[str, tuple[str, ...]]:
    if not text.endswith("]"):  # the regex needs it, and this keeps it from backtracking
        return text, ()
    match = _TRAILING_EXTRAS.match(text)
    if match is None:
        return text, ()
    return match.group(1).rstrip(), _extras_from_suffix(match.group(2))


def _installable_dir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "pyproject.toml")) or os.path.isfile(
        os.path.join(path, "setup.py")
    )


def _url_for_path(path: str, name: str) -> str | None:
    """A file: URL when the text names a local project dir or archive, like pip does."""
    if _looks_like_path(name) and os.path.isdir(path):
        if _installable_dir(path):
            return path_to_url(path, "/")
        raise ValueError(
            f"directory {clip(name)!r} is not installable: it has no pyproject.toml or setup.py"
        )
    if not _is_archive(path):
        return None
    if os.path.isfile(path):
        return path_to_url(path, "/")
    before_at = name.split("@", 1)
    if len(before_at) >= 2 and not _looks_like_path(before_at[0]):
        return None  # `name @ https://.../x.whl`: a PEP 508 URL requirement
    return path_to_url(path, "/")


def _from_requirement(
    requirement: Requirement, marker: str | None, extras: tuple[str, ...], url: str | None
) -> LineRequirement:
    if marker is None and requirement.marker is not None:
        marker = str(requirement.marker)
    if url is None and requirement.url is not None:
        _egg_name(requirement.url)  # pip turns the URL into a link, which checks #egg=
    return LineRequirement(
        name=requirement.name,
        specifier=str(requirement.specifier),
        marker=marker,
        extras=extras or tuple(sorted(requirement.extras)),
        url=url if url is not None else requirement.url,
    )


def _invalid(text: str, exc: Exception) -> ValueError:
    hint = ""
    if "=" in text and not any(op in text for op in ("~=", "==", "!=", "<=", ">=", "<", ">")):
        hint = " (= is not a valid operator; did you mean ==?)"
    elif os.sep in text:
        hint = " (it looks like a path, but there is no such file or project)"
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ValueError(f"invalid requirement {clip(text)!r}: {clip(reason)}{hint}")


def _simple(text: str, marker: str | None) -> LineRequirement | None:
    """The fast path for `name[extras] <specifiers>`, or None to take pip's full route."""
    # A trailing `[...]` is read by pip as extras of a path; archive names are file paths.
    if text.endswith("]") or _is_archive(text):
        return None
    parts = _pep508.plain_parts(text)
    if parts is None or parts.marker is not None:
        return None
    try:
        specifier = _pep508.normalized_specifier(parts.specifier) if parts.specifier else ""
    except InvalidSpecifier:
        return None  # let packaging produce the precise message
    extras = tuple(sorted(set(parts.extras)))
    return LineRequirement(parts.name, specifier, marker, extras, None)


def interpret_line(text: str, base_dir: str) -> LineRequirement:
    """A non-editable requirement line; raises ValueError with pip's reason when invalid."""
    separator = "; " if is_url(text) else ";"
    marker: str | None = None
    if separator in text:
        text, marker_text = text.split(separator, 1)
        marker_text = marker_text.strip()
        if marker_text:
            try:
                marker = _pep508.marker_text(marker_text)
            except InvalidMarker as exc:
                raise _invalid(text.strip(), exc) from exc
    text = text.strip()
    simple = _simple(text, marker)
    if simple is not None:
        return simple
    url: str | None = None
    extras: tuple[str, ...] = ()
    if is_url(text):
        url = text
    else:
        path = os.path.normpath(os.path.join(base_dir, text))
        path, extras = _strip_extras(path)
        url = _url_for_path(path, text)
    requirement_text: str | None = text
    if url is not None:
        _egg_name(url)  # pip makes a link of the text as written, which checks #egg=
        if "../" in url and urllib.parse.urlsplit(url).scheme == "file":
            url = path_to_url(_url_path(url), base_dir)
        egg = _egg_name(url)
        if _url_ext_is_wheel(url):
            filename = posixpath.basename(_url_path(url).rstrip("/"))
            try:
                wheel_name, version, _, _ = parse_wheel_filename(filename)
            except InvalidWheelFilename as exc:
                raise ValueError(
                    f"invalid wheel filename {clip(filename)!r}: {clip(str(exc))}"
                ) from exc
            requirement_text = f"{wheel_name}=={version}"
        else:
            requirement_text = egg
    if requirement_text is None:
        return LineRequirement(None, "", marker, extras, url)
    try:
        requirement = _pep508.requirement(requirement_text)
    except InvalidRequirement as exc:
        raise _invalid(requirement_text, exc) from exc
    return _from_requirement(requirement, marker, extras, url)


def interpret_editable(text: str, base_dir: str) -> LineRequirement:
    """An `-e` value: a local project path or VCS URL, optionally `name @ url`."""
    name: str | None = None
    extras: tuple[str, ...] = ()
    try:
        direct = _pep508.requirement(text)
    except InvalidRequirement:
        direct = None
    if direct is not None and direct.url:
        url = direct.url
        _egg_name(url)
        name = f"{direct.name} ; {direct.marker}" if direct.marker else direct.name
        extras = tuple(sorted(direct.extras))
    else:
        url = text
        without_extras, extras = _strip_extras(url)
        # An empty path is no directory (joining it to base_dir would make it one).
        if without_extras and os.path.isdir(os.path.join(base_dir, without_extras)):
            without_extras = path_to_url(without_extras, base_dir)
        if without_extras.lower().startswith("file:"):
            url = without_extras
            name = _egg_name(url)
        else:
            extras = ()
            for vcs_name in _VCS_NAMES:
                if url.lower().startswith(f"{vcs_name}:"):
                    url = f"{vcs_name}+{url}"
                    break
            name = _egg_name(url)
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in _VCS_SCHEMES and not url.startswith("file:"):
        raise ValueError(
            f"{clip(text)} is not a valid editable requirement: use a path to a local project "
            "or a VCS URL (git+https://..., hg+..., svn+..., bzr+...)"
        )
    if not name and not url.startswith("file:"):
        raise ValueError(
            f"cannot tell the project name of {clip(text)!r}: "
            "write it as `name @ URL` or add #egg=name"
        )
    if name is None:
        return LineRequirement(None, "", None, extras, url)
    try:
        requirement = _pep508.requirement(name)
    except InvalidRequirement as exc:
        raise _invalid(name, exc) from exc
    return _from_requirement(requirement, None, extras, url)
