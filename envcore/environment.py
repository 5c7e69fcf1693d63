"""What one Python environment is, read from disk without running its interpreter.

`inspect_environment` reads pyvenv.cfg / conda-meta and the layout: the kind, the
interpreter, the health and the owning project (with the managing tool: `envcore._linking`).
Installed packages: `envcore.distributions`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from envcore._files import read_text
from envcore._linking import APP_MANAGERS, PROJECT_ENV_NAMES, find_project, manager_of
from envcore.discover import pyenv_root
from envcore.errors import NotAnEnvironmentError

if TYPE_CHECKING:
    from packaging.tags import Tag

__all__ = [
    "Environment",
    "EnvironmentKind",
    "cpython_wheel_tags",
    "disk_usage",
    "display_name",
    "inspect_environment",
    "is_environment",
    "site_packages_signature",
]

EnvironmentKind = Literal["venv", "virtualenv", "uv", "conda", "pyenv-virtualenv"]
Layout = Literal["posix", "windows"]

_VERSION_DIR = re.compile(r"^(?:python|pypy)(\d+\.\d+)t?$")
_CONDA_PYTHON = re.compile(r"^python-(\d+\.\d+(?:\.\d+)?)-.*\.json$")


def display_name(path: Path) -> str:
    """An environment's short display name: the directory, or `app/.venv` for a generic
    name (`.venv`, `venv`, `env`...), which says nothing alone: the directory holding it,
    as PyCharm names such an interpreter after its project and VS Code shows its folder."""
    if path.name in PROJECT_ENV_NAMES and path.parent.name:
        return f"{path.parent.name}/{path.name}"
    return path.name


@dataclass(frozen=True)
class Environment:
    """The facts about one environment that can be read without running it."""

    path: Path
    kind: EnvironmentKind
    layout: Layout
    python_version: str | None
    implementation: str
    home: Path | None
    interpreter: Path
    include_system_site_packages: bool
    prompt: str | None
    creator: str | None
    creator_version: str | None
    site_packages: tuple[Path, ...]
    project: Path | None
    broken_reason: str = ""
    config: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        return display_name(self.path)

    @property
    def broken(self) -> bool:
        return bool(self.broken_reason)

    @property
    def is_django(self) -> bool:
        return self.project is not None and os.path.isfile(os.path.join(self.project, "manage.py"))

    @property
    def python_minor(self) -> str | None:
        if not self.python_version:
            return None
        return ".".join(self.python_version.split(".")[:2])

    @cached_property
    def manager(self) -> str:
        """Which tool made or keeps the environment: pipenv, poetry, pdm, hatch, tox, nox,
        pipx, uv-tool, pyenv, conda, virtualenvwrapper; else its kind (venv, uv...)."""
        return manager_of(self.path, self.kind, self.config, self.project, self.python_minor)

    @property
    def is_app_env(self) -> bool:
        """An application installed by pipx or `uv tool`: no requirements to drift from."""
        return self.manager in APP_MANAGERS

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values for *this environment's* interpreter on this machine."""
        from packaging.markers import default_environment  # not loaded when only listing

        values = {key: str(value) for key, value in default_environment().items()}
        if self.python_version:
            full = self.python_version
            values["python_full_version"] = full
            values["implementation_version"] = full
            values["python_version"] = ".".join(full.split(".")[:2])
        implementation = self.implementation.lower()
        values["implementation_name"] = implementation
        values["platform_python_implementation"] = {"cpython": "CPython", "pypy": "PyPy"}.get(
            implementation, self.implementation
        )
        if self.layout == "windows":
            values.update(os_name="nt", sys_platform="win32", platform_system="Windows")
        return values

    @property
    def version_info(self) -> tuple[int, int] | None:
        """(major, minor) of the environment's Python, when known."""
        try:
            major, minor = (int(part) for part in (self.python_version or "").split(".")[:2])
        except ValueError:
            return None
        return major, minor

    @property
    def cpython_version(self) -> tuple[int, int] | None:
        """(major, minor) of a CPython whose wheel tags can be told here, else None.

        The environment runs on this machine, so only its interpreter differs from ours:
        a Windows tree seen from here, or another implementation, cannot be told.
        """
        if self.layout == "windows" or self.implementation.lower() != "cpython":
            return None
        return self.version_info

    def supported_tags(self) -> frozenset[Tag] | None:
        """Wheel tags the environment's interpreter accepts, or None when they cannot be told."""
        version = self.cpython_version
        return None if version is None else cpython_wheel_tags(version)


@lru_cache(maxsize=32)
def cpython_wheel_tags(version: tuple[int, int]) -> frozenset[Tag]:
    """The tags a CPython of that version installs on this machine, as pip computes them.

    A constant table, but ~10 ms to build: callers that can often decide without it ask
    for it only when they must. packaging.tags is imported here: it brings logging,
    subprocess and sysconfig, which listing environments (`scan`) does without.
    """
    from packaging.tags import compatible_tags, cpython_tags

    return frozenset(cpython_tags(version)) | frozenset(compatible_tags(version))


def _read_pyvenv_cfg(path: Path) -> dict[str, str]:
    """Parse pyvenv.cfg the way `site.py` does: `key = value` lines, keys lower-cased."""
    try:
        text = read_text(path, errors="replace")
    except OSError as exc:
        raise NotAnEnvironmentError(f"cannot read {path}: {exc.strerror or exc}") from exc
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


def is_environment(path: Path) -> bool:
    """Cheap test used while walking: pyvenv.cfg file or conda-meta/ directory."""
    return (path / "pyvenv.cfg").is_file() or (path / "conda-meta").is_dir()


def _layout(path: Path) -> Layout:
    windows_dirs = (path / "Scripts").is_dir() or (path / "Lib" / "site-packages").is_dir()
    return "windows" if windows_dirs and not (path / "bin").is_dir() else "posix"


def _find_site_packages(path: Path, layout: Layout) -> tuple[tuple[Path, ...], str | None]:
    """The site-packages directories and the X.Y version named by `lib/pythonX.Y`."""
    if layout == "windows":
        candidate = path / "Lib" / "site-packages"
        return ((candidate,) if candidate.is_dir() else ()), None
    found: list[Path] = []
    version: str | None = None
    for lib in ("lib", "lib64"):
        lib_dir = path / lib
        # lib64 is usually a symlink to lib: the same site-packages, counted once.
        if lib == "lib64" and (found and lib_dir.is_symlink()):
            continue
        try:
            entries = sorted(os.scandir(lib_dir), key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            match = _VERSION_DIR.match(entry.name)
            site = Path(entry.path) / "site-packages"
            if match and site.is_dir():
                found.append(site)
                version = version or match.group(1)
    return tuple(found), version


def _interpreter_path(path: Path, layout: Layout, kind: EnvironmentKind) -> Path:
    if layout == "windows":
        return path / "python.exe" if kind == "conda" else path / "Scripts" / "python.exe"
    bin_dir = path / "bin"
    for name in ("python", "python3"):
        if (bin_dir / name).is_symlink() or (bin_dir / name).exists():
            return bin_dir / name
    return bin_dir / "python"


def _conda_python_version(path: Path) -> str | None:
    try:
        names = os.listdir(path / "conda-meta")
    except OSError:
        return None
    for name in sorted(names):
        match = _CONDA_PYTHON.match(name)
        if match:
            return match.group(1)
    return None


def _is_under_pyenv(path: Path) -> bool:
    versions = pyenv_root() / "versions"
    try:
        path.relative_to(versions)
    except ValueError:
        return False
    return True


def _windows_style(path_text: str) -> bool:
    return (len(path_text) > 1 and path_text[1] == ":") or "\\" in path_text


def _health(
    path: Path, kind: EnvironmentKind, layout: Layout, home: str | None, interpreter: Path
) -> str:
    """Why the environment cannot work, in words; empty when it looks healthy."""
    if kind != "conda" and not home:
        return "pyvenv.cfg has no 'home' entry, so Python cannot find its base interpreter"
    checkable_home = home and not (layout == "windows" and _windows_style(home))
    if checkable_home and kind != "conda" and not Path(str(home)).is_dir():
        return (
            f"the base interpreter's directory {home} no longer exists "
            "(Python was removed or upgraded); recreate the environment"
        )
    if layout == "windows" and os.name != "nt":
        # A Windows tree seen from POSIX: its interpreter cannot be checked beyond existence.
        return "" if interpreter.exists() else f"the interpreter {interpreter} is missing"
    if interpreter.is_symlink() and not interpreter.exists():
        target = os.readlink(interpreter)
        return (
            f"{interpreter.relative_to(path)} points to {target}, which no longer exists; "
            "recreate the environment"
        )
    if not interpreter.exists():
        return f"the interpreter {interpreter.relative_to(path)} is missing"
    return ""


def inspect_environment(
    path: Path | str, *, roots: Sequence[Path | str] | None = None
) -> Environment:
    """Read one environment's facts. Raises NotAnEnvironmentError for anything else.

    `roots` (a scan's; None: anywhere) bound where a `.project` file may link it."""
    path = Path(path).absolute()
    if not path.exists():
        raise NotAnEnvironmentError(f"{path} does not exist")
    if not path.is_dir():
        raise NotAnEnvironmentError(f"{path} is a file, not an environment directory")
    cfg_path = path / "pyvenv.cfg"
    has_cfg = cfg_path.is_file()
    is_conda = (path / "conda-meta").is_dir()
    if not has_cfg and not is_conda:
        raise NotAnEnvironmentError(
            f"{path} is not a Python environment (no pyvenv.cfg and no conda-meta/)"
        )
    config = _read_pyvenv_cfg(cfg_path) if has_cfg else {}
    kind: EnvironmentKind
    creator: str | None
    creator_version: str | None
    if is_conda and not has_cfg:
        kind, creator, creator_version = "conda", "conda", None
    elif "uv" in config:
        kind, creator, creator_version = "uv", "uv", config["uv"]
    elif "virtualenv" in config:
        kind, creator, creator_version = "virtualenv", "virtualenv", config["virtualenv"]
    else:
        kind, creator, creator_version = "venv", "venv", config.get("version")
    if kind in {"venv", "virtualenv"} and _is_under_pyenv(path):
        kind = "pyenv-virtualenv"
    layout = _layout(path)
    site_packages, dir_version = _find_site_packages(path, layout)
    raw_version = config.get("version") or config.get("version_info") or ""
    version_parts = re.match(r"^(\d+\.\d+(?:\.\d+)?)", raw_version)
    python_version = version_parts.group(1) if version_parts else None
    if kind == "conda":
        python_version = _conda_python_version(path) or dir_version
    python_version = python_version or dir_version
    interpreter = _interpreter_path(path, layout, kind)
    home = config.get("home")
    broken_reason = _health(path, kind, layout, home, interpreter)
    if not broken_reason and not site_packages:
        broken_reason = "no site-packages directory (a half-deleted environment?)"
    return Environment(
        path=path,
        kind=kind,
        layout=layout,
        python_version=python_version,
        implementation=config.get("implementation", "CPython"),
        home=Path(home) if home else None,
        interpreter=interpreter,
        include_system_site_packages=config.get("include-system-site-packages", "false").lower()
        == "true",
        prompt=config.get("prompt") or None,
        creator=creator,
        creator_version=creator_version,
        site_packages=site_packages,
        project=find_project(path, site_packages, roots),
        broken_reason=broken_reason,
        config=config,
    )


def site_packages_signature(env: Environment) -> str:
    """Changes whenever anything is installed or removed (directory mtimes), cheap to get.

    Installers add and remove `*.dist-info` entries, which bumps the directory's mtime.
    """
    parts = []
    for path in (env.path / "pyvenv.cfg", *env.site_packages):
        try:
            stat = path.stat()
        except OSError:
            parts.append(f"{path}:-")
            continue
        parts.append(f"{path}:{stat.st_mtime_ns}:{stat.st_ino}")
    return "|".join(parts)


def disk_usage(path: Path) -> int:
    """Bytes used under a directory (not following symlinks); slow on big trees."""
    total = 0
    stack = [path]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(Path(entry.path))
                        else:
                            stat = entry.stat(follow_symlinks=False)
                            total += getattr(stat, "st_blocks", 0) * 512 or stat.st_size
                    except OSError:
                        continue
        except OSError:
            continue
    return total
