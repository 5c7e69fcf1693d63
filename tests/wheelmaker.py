"""Build real wheels for the tests, offline, with nothing but the standard library.

Two uses:
- `write_wheel(...)` makes a wheel file directly (for wheelhouses and local indexes);
- copied into a project directory it is that project's PEP 517/660 build backend
  (`backend-path = ["."]`, `requires = []`), so pip and uv can build and install it,
  editable or not, without fetching setuptools.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import tomllib
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

_FILENAME_UNSAFE = re.compile(r"[^\w\d.]+")


def _escape(name: str) -> str:
    return _FILENAME_UNSAFE.sub("_", name).replace("-", "_")


def _metadata_text(
    name: str,
    version: str,
    *,
    requires: Iterable[str] = (),
    summary: str = "",
    requires_python: str | None = None,
    extras: Mapping[str, Iterable[str]] | None = None,
) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if summary:
        lines.append(f"Summary: {summary}")
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines.extend(f"Requires-Dist: {requirement}" for requirement in requires)
    for extra, extra_requires in (extras or {}).items():
        lines.append(f"Provides-Extra: {extra}")
        for requirement in extra_requires:
            joiner = " and " if ";" in requirement else "; "
            lines.append(f'Requires-Dist: {requirement}{joiner}extra == "{extra}"')
    return "\n".join(lines) + "\n\nA package built by envdash's tests.\n"


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _zip_wheel(
    target: Path, dist_info: str, files: Mapping[str, bytes], metadata: str, tag: str
) -> Path:
    wheel_meta = (
        f"Wheel-Version: 1.0\nGenerator: envdash-tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
    )
    entries = dict(files)
    entries[f"{dist_info}/METADATA"] = metadata.encode()
    entries[f"{dist_info}/WHEEL"] = wheel_meta.encode()
    record = [_record_line(path, data) for path, data in entries.items()]
    record.append(f"{dist_info}/RECORD,,")
    entries[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in entries.items():
            info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return target


def write_wheel(
    directory: Path | str,
    name: str,
    version: str,
    *,
    requires: Iterable[str] = (),
    summary: str = "",
    requires_python: str | None = None,
    extras: Mapping[str, Iterable[str]] | None = None,
    tag: str = "py3-none-any",
    files: Mapping[str, bytes] | None = None,
) -> Path:
    """Write `{name}-{version}-{tag}.whl` into `directory` and return its path."""
    escaped = _escape(name)
    module = escaped.lower()
    contents = (
        dict(files)
        if files is not None
        else {f"{module}/__init__.py": f'__version__ = "{version}"\n'.encode()}
    )
    metadata = _metadata_text(
        name,
        version,
        requires=requires,
        summary=summary,
        requires_python=requires_python,
        extras=extras,
    )
    target = Path(directory) / f"{escaped}-{version}-{tag}.whl"
    return _zip_wheel(target, f"{escaped}-{version}.dist-info", contents, metadata, tag)


# --- PEP 517 / PEP 660 build backend -------------------------------------------------


def _project() -> dict[str, object]:
    with open("pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    assert isinstance(project, dict)
    return project


def _project_metadata() -> tuple[str, str, str]:
    project = _project()
    name, version = str(project["name"]), str(project["version"])
    dependencies = project.get("dependencies", [])
    assert isinstance(dependencies, list)
    optional = project.get("optional-dependencies", {})
    assert isinstance(optional, dict)
    metadata = _metadata_text(
        name,
        version,
        requires=[str(d) for d in dependencies],
        summary=str(project.get("description", "")),
        requires_python=str(project["requires-python"]) if "requires-python" in project else None,
        extras={str(k): [str(d) for d in v] for k, v in optional.items()},
    )
    return name, version, metadata


def _source_files() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for top in sorted(os.listdir(".")):
        if top.startswith((".", "_")) or not Path(top, "__init__.py").is_file():
            continue
        for path in sorted(Path(top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files[path.as_posix()] = path.read_bytes()
    return files


def get_requires_for_build_wheel(config_settings: object = None) -> list[str]:
    return []


get_requires_for_build_editable = get_requires_for_build_wheel
get_requires_for_build_sdist = get_requires_for_build_wheel


def build_wheel(
    wheel_directory: str, config_settings: object = None, metadata_directory: object = None
) -> str:
    name, version, metadata = _project_metadata()
    escaped = _escape(name)
    filename = f"{escaped}-{version}-py3-none-any.whl"
    _zip_wheel(
        Path(wheel_directory) / filename,
        f"{escaped}-{version}.dist-info",
        _source_files(),
        metadata,
        "py3-none-any",
    )
    return filename


def build_editable(
    wheel_directory: str, config_settings: object = None, metadata_directory: object = None
) -> str:
    name, version, metadata = _project_metadata()
    escaped = _escape(name)
    filename = f"{escaped}-{version}-py3-none-any.whl"
    pth = {f"__editable__.{escaped}.pth": (os.path.abspath(".") + "\n").encode()}
    _zip_wheel(
        Path(wheel_directory) / filename,
        f"{escaped}-{version}.dist-info",
        pth,
        metadata,
        "py3-none-any",
    )
    return filename


def build_sdist(sdist_directory: str, config_settings: object = None) -> str:
    name, version, metadata = _project_metadata()
    base = f"{_escape(name).lower()}-{version}"
    target = Path(sdist_directory) / f"{base}.tar.gz"
    members = {"pyproject.toml": Path("pyproject.toml").read_bytes()}
    members[Path(__file__).name] = Path(__file__).read_bytes()
    members["PKG-INFO"] = metadata.encode()
    members.update(_source_files())
    with tarfile.open(target, "w:gz") as archive:
        for path, data in members.items():
            info = tarfile.TarInfo(f"{base}/{path}")
            info.size = len(data)
            info.mtime = 1704067200
            archive.addfile(info, io.BytesIO(data))
    return target.name


def make_project(
    directory: Path,
    name: str,
    version: str,
    *,
    dependencies: Iterable[str] = (),
    description: str = "",
) -> Path:
    """A buildable project tree using this file as its backend (for editable installs)."""
    directory.mkdir(parents=True, exist_ok=True)
    deps = ", ".join(f'"{d}"' for d in dependencies)
    (directory / "pyproject.toml").write_text(
        "[build-system]\n"
        'requires = []\nbuild-backend = "wheelmaker"\nbackend-path = ["."]\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\n'
        f'description = "{description}"\ndependencies = [{deps}]\n'
    )
    (directory / "wheelmaker.py").write_bytes(Path(__file__).read_bytes())
    package = directory / _escape(name).lower()
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text(f'__version__ = "{version}"\n')
    return directory
