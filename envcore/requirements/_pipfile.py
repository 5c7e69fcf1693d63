"""Pipfile as a requirements source: each package converted to the pip line pipenv makes of
it (`pipenv.utils.dependencies.dependency_as_pip_install_line`), then read as pip reads
that line.

Values: `"*"` (any version), a specifier (`">=1"`; a bare `"1.0"` is `==1.0`), or a table
with `version`, `extras`, `markers`, marker keys (`sys_platform = "== 'win32'"`...), `git`
(`hg`, `svn`, `bzr`) and `ref`, `path` or `file`, `editable`, `index`. pipenv's own quirks
are kept, since they decide what it installs: an `os_name` key is dropped, a marker that
mentions `extra` is dropped, and several markers are joined with `and` as written.

`pipenv install` and `pipenv sync` install `[packages]`; `--dev` adds `[dev-packages]`,
`--categories` names custom ones. `groups` here are added to `[packages]`, as `--dev` adds
(`dev` and `develop` name dev-packages).

Also here: `ForeignFormatError`, what the requirements-file reader raises for a Pipfile, a
lock or another TOML/JSON file given as `-r`, instead of one "invalid requirement" per line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from packaging.markers import InvalidMarker, Marker

from envcore._pep508 import canonical_name
from envcore.requirements._entry import (
    ParsedRequirements,
    ParseIssue,
    RequirementEntry,
    RequirementsOptions,
)
from envcore.requirements._line import interpret_editable, interpret_line
from envcore.requirements._roots import not_read, within_roots
from envcore.requirements._text import clip, one_line

__all__ = [
    "VCS_KEYS",
    "ForeignFormatError",
    "foreign_format",
    "parse_pipfile",
    "pip_line",
    "pipenv_category",
    "vcs_location",
]

#: The keys that make a Pipfile (and Pipfile.lock) entry a VCS package, in pipenv's order.
VCS_KEYS = ("git", "hg", "svn", "bzr")
#: distlib's COMPARE_OP, which pipenv uses to tell a specifier from a bare version.
_COMPARE_OP = re.compile(r"^(<=?|>=?|={2,3}|[~!]=)\s*")
#: The marker variables pipenv accepts as keys of their own (packaging's environment).
_MARKER_KEYS = (
    "implementation_name",
    "implementation_version",
    "os_name",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_full_version",
    "python_version",
    "sys_platform",
)
_NOT_PACKAGES = {"source", "requires", "pipenv", "scripts"}
#: pipenv's two names for each built-in category: the Pipfile's table and the Pipfile.lock's
#: section (its get_lockfile_section_using_pipfile_category); `dev` is either dev name.
_CATEGORIES = (("packages", "default"), ("dev-packages", "develop"))


def pipenv_category(group: str, *, in_lock: bool) -> str:
    """pipenv's name for a category as a user may write it (`dev`, `develop`,
    `dev-packages`; `default`, `packages`): the lock's section or the Pipfile's table."""
    group = "dev-packages" if group == "dev" else group
    for table, section in _CATEGORIES:
        if group in (table, section):
            return section if in_lock else table
    return group


class ForeignFormatError(ValueError):
    """A file given as a requirements file that is another tool's format."""


_KNOWN = {
    "Pipfile": "pipenv's TOML file, not a requirements file: read it as Pipfile",
    "Pipfile.lock": "pipenv's lock (JSON), not a requirements file: read it as a lock file",
    "pyproject.toml": "TOML, not a requirements file: read it as pyproject.toml",
    "poetry.lock": "poetry's lock (TOML), not a requirements file: read it as a lock file",
    "uv.lock": "uv's lock (TOML), not a requirements file: read it as a lock file",
}
_TOML_HEADER = re.compile(r"\[\[?\s*[A-Za-z0-9_.\-\"' ]+\]\]?\s*(#.*)?")


def foreign_format(path: str, text: str) -> str | None:
    """Why a file is not a requirements file (None when it may be one): a Pipfile, a lock
    or pyproject.toml by name, or clearly TOML (a `[table]` line, which no requirements
    line can be) or a JSON object by content."""
    name = Path(path).name
    if name in _KNOWN:
        return f"{name} is {_KNOWN[name]}"
    if name.startswith("pylock.") and name.endswith(".toml"):
        return f"{name} is a PEP 751 lock, not a requirements file: read it as a lock file"
    line = _first_line(text)
    if line.startswith("{"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return None
        if isinstance(data, dict):
            kind = "a Pipfile.lock's" if "_meta" in data else "a"
            return f"{name} is {kind} JSON object, not a requirements file"
        return None
    if _TOML_HEADER.fullmatch(line):
        pipfile = re.match(r"\[\[?\s*(source|packages|dev-packages)\s*\]", line)
        kind = "a Pipfile's TOML" if pipfile else "TOML"
        return f"{name} is {kind}, not a requirements file"
    return None


def _first_line(text: str) -> str:
    """The first line that is neither blank nor a comment, stripped ("" for none), found
    without splitting the whole file: every requirements file read passes here."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end
        line = text[start:end].strip().lstrip("\ufeff")
        if line and not line.startswith("#"):
            return line
        start = end + 1
    return ""


def _marker_text(entry: Mapping[str, object]) -> str | None:
    """pipenv's `translate_markers`, quirks and all (see the module docstring)."""
    found: set[str] = set()
    markers = entry.get("markers")
    if isinstance(markers, str) and markers:
        text = str(Marker(markers))
        if "extra" not in text:
            found.add(text)
    for key in _MARKER_KEYS:
        if key in entry and key != "os_name":
            found.add(str(Marker(f"{key} {entry[key]}")))
    if not found:
        return None
    return str(Marker(" and ".join(sorted(found)))).replace('"', "'")


def _with_vcs_prefix(vcs: str, url: str) -> str:
    """`git+` put before a VCS value unless it has it: `pipenv install git+https://…`
    stores the URL as typed, prefix included (pipenv's own test: `f"{vcs}+" in url`)."""
    return url if f"{vcs}+" in url else f"{vcs}+{url}"


def vcs_location(vcs: str, url: str, ref: str | None, subdirectory: str | None) -> str:
    """`git+URL@REF#subdirectory=SUB`, the pip URL pipenv makes of a Pipfile's or a
    Pipfile.lock's VCS entry (`git`/`hg`/`svn`/`bzr` and `ref`): the VCS prefix added
    once, an `#egg=` fragment dropped, as pipenv drops it for a non-editable package."""
    location = _with_vcs_prefix(vcs, url.split("#egg=", maxsplit=1)[0])
    location += f"@{ref}" if ref else ""
    return location + (f"#subdirectory={subdirectory}" if subdirectory is not None else "")


def pip_line(name: str, spec: object) -> str:
    """The pip line pipenv makes of one Pipfile entry (hashes and index options aside)."""
    if isinstance(spec, str):
        if spec == "*":
            return name
        return f"{name}{spec}" if _COMPARE_OP.match(spec) else f"{name}=={spec}"
    if not isinstance(spec, dict):
        raise ValueError(f"a value must be a string or a table, not {type(spec).__name__}")
    marker = _marker_text(spec)
    extras = spec.get("extras")
    extras_text = f"[{','.join(str(e) for e in extras)}]" if isinstance(extras, list) else ""
    vcs = next((v for v in VCS_KEYS if v in spec), None)
    if vcs is not None:
        url = str(spec[vcs])
        ref = str(spec["ref"]) if spec.get("ref") else None
        subdirectory = spec.get("subdirectory")
        # pipenv installs a VCS package editable only from a local checkout, whatever the
        # `editable` key says (its is_editable_path, a look at the disk, is not made here).
        if "file://" in url:
            line = f"-e {_with_vcs_prefix(vcs, url)}" + (f"@{ref}" if ref else "")
            line += "" if "#egg=" in url else f"#egg={name}"
            line += f"&subdirectory={subdirectory}" if subdirectory is not None else ""
            return line + extras_text
        sub = None if subdirectory is None else str(subdirectory)
        line = f"{name}{extras_text} @ {vcs_location(vcs, url, ref, sub)}"
        return f"{line}; {marker}" if marker else line
    for key in ("file", "path"):
        if key in spec:
            location = str(spec[key])
            editable = spec.get("editable") and not location.startswith(("http:", "https:", "ftp:"))
            if location.startswith(("http:", "https:", "file:")):
                line = f"{name}{extras_text} @ {location}"
            else:
                line = f"{location}{extras_text}"
            line = f"{line}; {marker}" if marker else line
            return f"-e {line}" if editable else line
    line = f"{name}{extras_text}"
    version = spec.get("version")
    if isinstance(version, str) and version and version != "*":
        line += version if _COMPARE_OP.match(version) else f"=={version}"
    return f"{line}; {marker}" if marker else line


def _entry(name: str, line: str, path: Path, number: int) -> RequirementEntry | ParseIssue:
    """The pip line read as pip reads it; an unnamed path line keeps the Pipfile's name."""
    source = f"{path}:{number}"
    editable = line.startswith("-e ")
    try:
        found = (
            interpret_editable(line[3:], str(path.parent))
            if editable
            else interpret_line(line, str(path.parent))
        )
    except ValueError as exc:
        return ParseIssue(source, one_line(exc))
    raw_name = found.name or name
    return RequirementEntry(
        name=canonical_name(raw_name),
        raw_name=raw_name,
        specifier=found.specifier,
        marker=found.marker,
        extras=found.extras,
        editable=editable,
        url=found.url,
        constraint=False,
        hashes=(),
        source=source,
        path=path,
        line_number=number,
        text=line,
    )


def _line_numbers(text: str) -> dict[tuple[str, str], int]:
    """(section, key) -> line number, by the lines that open a table or set a key."""
    found: dict[tuple[str, str], int] = {}
    section = ""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.strip("[] ")
            continue
        key = stripped.split("=", 1)[0].strip().strip("\"'")
        if "=" in stripped and key:
            found.setdefault((section, key), number)
    return found


def _options(
    path: Path, data: Mapping[str, object], errors: list[ParseIssue]
) -> RequirementsOptions:
    """[[source]]: the first is pip's index URL, the others extra index URLs (as pipenv
    passes them)."""
    urls = []
    sources = data.get("source", [])
    for item in sources if isinstance(sources, list) else []:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            urls.append(item["url"])
        else:
            errors.append(ParseIssue(str(path), f"a [[source]] without a url: {clip(repr(item))}"))
    return RequirementsOptions(
        index_url=urls[0] if urls else None, extra_index_urls=tuple(urls[1:])
    )


def parse_pipfile(
    path: Path | str,
    *,
    groups: Iterable[str] | None = None,
    roots: Sequence[Path | str] | None = None,
) -> ParsedRequirements:
    """Read a Pipfile: `[packages]` and the categories named in `groups`."""
    from envcore.locks._read import read_project_toml

    path = Path(path)
    if not within_roots(path, roots):
        return not_read(path)
    text, data = read_project_toml(path)
    # `--group dev` is `pipenv install --dev`: [packages] and [dev-packages].
    requested = ["packages", *(pipenv_category(g, in_lock=False) for g in groups or ())]
    numbers = _line_numbers(text)
    errors: list[ParseIssue] = []
    options = _options(path, data, errors)
    entries: list[RequirementEntry] = []
    for category in dict.fromkeys(requested):
        table = data.get(category)
        if category in _NOT_PACKAGES or (table is None and category != "packages"):
            errors.append(ParseIssue(str(path), f"no package category named {category!r}"))
            continue
        if not isinstance(table, dict):
            if table is not None:
                errors.append(ParseIssue(str(path), f"[{category}] must be a table"))
            continue
        for name, spec in table.items():
            number = numbers.get((category, name), 1)
            try:
                line = pip_line(name, spec)
            except (ValueError, InvalidMarker) as exc:
                errors.append(ParseIssue(f"{path}:{number}", f"{name}: {one_line(exc)}"))
                continue
            made = _entry(name, line, path, number)
            if isinstance(made, ParseIssue):
                errors.append(made)
            else:
                entries.append(made)
    shown = ", ".join(f"[{c}]" for c in dict.fromkeys(requested))
    why = "" if groups else " (pipenv install's default; [dev-packages] with --dev)"
    return ParsedRequirements(
        entries=tuple(entries),
        errors=tuple(errors),
        options=options,
        files=(path,),
        selection=f"{path.name}: {shown}{why}",
    )
