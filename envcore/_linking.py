"""Which tool made an environment and which project it belongs to, told from the disk.

poetry, pdm and hatch keep environments out of the project, in their own directories, and
name them after a hash of the project's path. The project's own editable install in the
environment (`direct_url.json`, PEP 610) names a candidate directory; it is accepted only
when its hash is the one in the environment's name, so a planted `direct_url.json` cannot
link an environment to an arbitrary directory. Where the path holds no hash, nothing is
linked through it: hatch 1.18 drops its hash level only for envs kept in `~/.virtualenvs`
or in a directory inside the project (a project's `.hatch/` is linked as the project's).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Literal

from envcore._direct_url import read_direct_url
from envcore._files import read_text, within_roots
from envcore.discover import pyenv_root, workon_home
from envcore.errors import MetadataError

__all__ = [
    "APP_MANAGERS",
    "PROJECT_ENV_NAMES",
    "PROJECT_MARKERS",
    "ToolCache",
    "find_project",
    "looks_like_project",
    "manager_of",
    "path_hash",
    "tool_cache",
]

ToolCache = Literal["poetry", "pdm", "hatch"]

#: Directory names that make their parent the owning project (when it looks like one).
PROJECT_ENV_NAMES = frozenset({".venv", "venv", "env", ".env", "virtualenv", ".virtualenv"})
#: Files whose presence marks a directory as a Python project.
PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "manage.py", "Pipfile")
#: Managers whose environments hold one application, installed by the tool: no project
#: and no requirements file to drift from.
APP_MANAGERS = frozenset({"pipx", "uv-tool"})
#: Directories of a project's tool-made envs, and the tool's files that mark the project
#: (tox 4 reads setup.cfg and pyproject.toml too: both mark a project already).
_TEST_ENV_DIRS = {
    ".tox": ("tox.ini", "tox.toml"),
    ".nox": ("noxfile.py",),
    ".hatch": ("pyproject.toml",),
}

#: poetry 2.5 `EnvManager.generate_env_name` + `-py{minor}`: `{name[:42]}-{hash}-py3.11`.
_POETRY_NAME = re.compile(r"^(?P<name>.+)-(?P<hash>[A-Za-z0-9_-]{8})-py\d+\.\d+t?$")
#: pdm 2.29 `get_venv_prefix` + name: `{project dir name}-{hash}-{python X.Y or name}`.
_PDM_NAME = re.compile(r"^(?P<name>.+?)-[A-Za-z0-9_-]{8}-")
_HASH = re.compile(r"^[A-Za-z0-9_-]{8}$")


def path_hash(directory: str, tool: ToolCache) -> str:
    """The 8 characters each tool puts in an environment's name for a project directory.

    poetry 2.5 (`EnvManager.generate_env_name`): sha256 of normcase(realpath(dir));
    pdm 2.29 (`venv.utils.hash_path` of `project.root.as_posix()`): md5;
    hatch 1.18 (`hatch.utils.fs.Path.id`, of `str(root)`, case-folded on macOS and
    Windows): sha256. All urlsafe base64. (hashlib is imported here: only environments in
    a tool's directory need it, `scan` lists the others without.)
    """
    import base64
    import hashlib

    if tool == "poetry":
        text = os.path.normcase(os.path.realpath(directory))
        digest = hashlib.sha256(text.encode()).digest()
    elif tool == "pdm":
        posix = PurePath(directory).as_posix().encode()
        digest = hashlib.md5(posix, usedforsecurity=False).digest()
    else:
        # hatch case-folds the path where file names are case-insensitive by default.
        folded = directory.casefold() if sys.platform in {"darwin", "win32"} else directory
        digest = hashlib.sha256(folded.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:8]


def tool_cache(path: Path) -> ToolCache | None:
    """The tool whose own environment directory holds `path`, from the path alone.

    poetry: `.../pypoetry/virtualenvs/` (`Cache/virtualenvs` on Windows); pdm:
    `.../pdm/venvs/`; hatch: anywhere under `.../hatch/env/`.
    """
    text = path.as_posix()
    if "pypoetry/virtualenvs/" in text or "pypoetry/Cache/virtualenvs/" in text:
        return "poetry"
    if path.parent.name == "venvs" and path.parent.parent.name == "pdm":
        return "pdm"
    if "/hatch/env/" in text:
        return "hatch"
    return None


def _editable_locations(site_packages: Sequence[Path], likely: str) -> Iterator[str]:
    """The project directory of each editable install (PEP 610), the distribution named
    `likely` (the project's name as the env's name gives it) first.

    Only for environments in a tool's directory: a listing of site-packages, then one
    `direct_url.json` for the likely distribution, and for the others only if need be.
    """
    prefix = _normalized(likely).replace("-", "_") + "-"
    first: list[tuple[Path, str]] = []
    rest: list[tuple[Path, str]] = []
    for site in site_packages:
        try:
            with os.scandir(site) as entries:
                names = [entry.name for entry in entries if entry.name.endswith(".dist-info")]
        except OSError:
            continue
        size = len(prefix)
        for name in names:
            likely_one = name[:size].lower().replace(".", "_") == prefix
            (first if likely_one else rest).append((site, name))
    for site, name in first + sorted(rest):
        try:
            direct_url = read_direct_url(os.path.join(site, name, "direct_url.json"))
        except MetadataError:
            continue
        if direct_url is not None and direct_url.editable and direct_url.local_path is not None:
            yield direct_url.local_path


def _hatch_levels(path: Path) -> tuple[str, ...]:
    """The levels below hatch's env-type directory: (project, hash, env) as hatch 1.18
    makes them (`.internal/{env}` counts as a type directory); anything else is no layout
    of a project's env there (`.scripts/{id}` is a script's)."""
    parts = path.parts
    for index in range(len(parts) - 1):
        if parts[index] == "hatch" and parts[index + 1] == "env":
            below = parts[index + 2 :]
            return below[2:] if below[:1] == (".internal",) else below[1:]
    return ()


def _likely_name(path: Path, tool: ToolCache) -> str:
    """The project's name as the environment's path gives it (a guess: only an order)."""
    if tool == "hatch":
        return _hatch_levels(path)[0] if len(_hatch_levels(path)) == 3 else ""
    match = (_POETRY_NAME if tool == "poetry" else _PDM_NAME).match(path.name)
    return match.group("name") if match else ""


def _hash_in_name(path: Path, tool: ToolCache) -> str | None:
    if tool == "poetry":
        match = _POETRY_NAME.match(path.name)
        return match.group("hash") if match else None
    if tool == "hatch":
        # `{data}/env/virtual/{project}/{hash}/{env}` (and `.internal/{env}/...` alike).
        levels = _hatch_levels(path)
        return levels[1] if len(levels) == 3 and _HASH.match(levels[1]) else None
    return None  # pdm: `{dir name}-{hash}-{python}`, checked whole (names may hold '-')


def _cache_project(path: Path, tool: ToolCache, site_packages: Sequence[Path]) -> Path | None:
    """The project directory of an environment in a tool's directory, checked by its hash."""
    in_name = _hash_in_name(path, tool)
    if tool != "pdm" and in_name is None:
        return None  # no hash to check a candidate against (hatch's `.scripts/{id}`...)
    for location in _editable_locations(site_packages, _likely_name(path, tool)):
        for directory in _spellings(location, tool):
            if tool == "pdm":
                prefix = f"{PurePath(directory).name}-{path_hash(directory, 'pdm')}-"
                matches = path.name.startswith(prefix) and len(path.name) > len(prefix)
            else:
                matches = path_hash(directory, tool) == in_name
            if matches and looks_like_project(Path(directory)):
                return Path(directory)
    return None


def _spellings(location: str, tool: ToolCache) -> Iterator[str]:
    """The directory as the tool may have hashed it: poetry its real path; pdm and hatch the
    path as they were given it, which is the real one unless a symlink was on the way."""
    absolute = os.path.abspath(location)
    if tool != "poetry":
        yield absolute
    real = os.path.realpath(absolute)
    if tool == "poetry" or real != absolute:
        yield real


def _normalized(name: str) -> str:
    """PEP 503 normalisation (packaging's, without importing packaging for `scan`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.relative_to(directory)
    except ValueError:
        return False
    return True


def _sibling_project(path: Path) -> Path | None:
    """A differently named venv (`venv312`, `.venv-3.12`) directly inside a project.

    Not in the directories where environments are kept side by side (virtualenvwrapper's
    WORKON_HOME, pyenv's versions), nor directly in the home directory or `/`.
    """
    parent = path.parent
    home = Path(os.environ.get("HOME") or Path.home())
    if parent in {workon_home(), home, Path(parent.anchor)}:
        return None
    if _inside(path, pyenv_root() / "versions"):
        return None
    return parent if looks_like_project(parent) else None


def find_project(
    path: Path, site_packages: Sequence[Path], roots: Sequence[Path | str] | None = None
) -> Path | None:
    """The project that owns an environment, if one can be told from the disk; a `.project`
    file links it only to a directory inside `roots` (None: anywhere)."""
    linked = _dot_project(path, roots)
    if linked is not None:
        return linked
    parent = path.parent
    if path.name in PROJECT_ENV_NAMES:
        return parent if looks_like_project(parent) else None
    if parent.name in _TEST_ENV_DIRS:
        # hatch keeps envs flat in the project with `[tool.hatch.dirs.env] virtual = ".hatch"`
        owner = parent.parent
        configs = (os.path.join(owner, name) for name in _TEST_ENV_DIRS[parent.name])
        return owner if any(map(os.path.isfile, configs)) or looks_like_project(owner) else None
    tool = tool_cache(path)
    if tool is None and _POETRY_NAME.match(path.name):
        tool = "poetry"  # poetry's `virtualenvs.path` set elsewhere: the hash still decides
    if tool is not None:
        return _cache_project(path, tool, site_packages)
    return _sibling_project(path)


def _dot_project(path: Path, roots: Sequence[Path | str] | None) -> Path | None:
    """The directory the environment's `.project` names: virtualenvwrapper's
    `setvirtualenvproject` writes the project's absolute path there on one line, pipenv
    its project's path (no newline). Anyone can write one, so the directory must be inside
    the scan roots (symlinks resolved) as every file envdash reads is: a link elsewhere is
    not followed, as a tool cache's hash that does not match is not."""
    try:
        linked = read_text(path / ".project", errors="replace").strip()
    except OSError:
        return None
    if not os.path.isabs(linked) or not os.path.isdir(linked):
        return None
    return Path(linked) if within_roots(linked, roots) else None


def looks_like_project(directory: Path) -> bool:
    base = os.fspath(directory)  # string paths, not pathlib: this runs for every environment
    if any(os.path.isfile(os.path.join(base, marker)) for marker in PROJECT_MARKERS):
        return True
    try:
        with os.scandir(base) as entries:
            return any(
                entry.name.startswith("requirements") and entry.name.endswith(".txt")
                for entry in entries
            ) or os.path.isdir(os.path.join(base, "requirements"))
    except OSError:
        return False


def _made_by_pdm(
    path: Path, config: Mapping[str, str], project: Path | None, minor: str | None
) -> bool:
    """pdm 2.29's marks in an in-project env's pyvenv.cfg.

    Its virtualenv backend (the default) runs `{pdm's python} -m virtualenv`, and that
    python lives in a directory named pdm (pipx, `uv tool`, Homebrew, install-pdm.py);
    every backend passes `--prompt {project dir name, lower-cased}-{python X.Y}`.
    """
    command = config.get("command", "")
    interpreter, _, rest = command.partition(" -m virtualenv ")
    if rest and "pdm" in PurePath(interpreter).parts:
        return True
    prompt = config.get("prompt", "").strip("'\"")
    return (
        project is not None
        and minor is not None
        and path.parent == project
        and prompt == f"{project.name.lower()}-{minor}"
    )


def _home() -> str:
    return os.environ.get("HOME") or str(Path.home())


def _uv_tool_dirs() -> set[str]:
    """Where `uv tool` keeps its envs (uv 0.13's `uv tool dir`): `$UV_TOOL_DIR`, else
    `$XDG_DATA_HOME/uv/tools`, else `~/.local/share/uv/tools`; each of them, as settings
    change between installs."""
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(_home(), ".local", "share")
    dirs = {os.environ.get("UV_TOOL_DIR", ""), os.path.join(data, "uv", "tools")}
    dirs.add(os.path.join(_home(), ".local", "share", "uv", "tools"))
    return {os.path.realpath(os.path.expanduser(d)) for d in dirs if d}


def _pipx_venv_dirs() -> set[str]:
    """Where pipx keeps its envs: `{home}/venvs` for `$PIPX_HOME`, its defaults and the
    fallbacks it still uses when they exist (pipx's docs, "Configure paths":
    `~/.local/share/pipx` or `$XDG_DATA_HOME/pipx` on Linux, `~/.local/pipx`, macOS's
    `~/Library/Application Support/pipx`) and `--global`'s `$PIPX_GLOBAL_HOME` or
    `/opt/pipx`."""
    home = _home()
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    homes = {
        os.environ.get("PIPX_HOME", ""),
        os.environ.get("PIPX_GLOBAL_HOME") or "/opt/pipx",
        os.path.join(data, "pipx"),
        os.path.join(home, ".local", "share", "pipx"),
        os.path.join(home, ".local", "pipx"),
        os.path.join(home, "Library", "Application Support", "pipx"),
    }
    return {os.path.realpath(os.path.join(os.path.expanduser(h), "venvs")) for h in homes if h}


def _app_manager(path: Path) -> str | None:
    """pipx or `uv tool`: the tool's own file in the env, and the env in that tool's own
    directory (a receipt planted in a project's `.venv` makes no application env)."""
    base = os.fspath(path)
    for marker, manager, dirs in (
        ("uv-receipt.toml", "uv-tool", _uv_tool_dirs),
        ("pipx_metadata.json", "pipx", _pipx_venv_dirs),
    ):
        if os.path.isfile(os.path.join(base, marker)) and os.path.realpath(path.parent) in dirs():
            return manager
    return None


def manager_of(
    path: Path,
    fallback: str,
    config: Mapping[str, str],
    project: Path | None,
    minor: str | None,
) -> str:
    """Which tool's environment this is; `fallback` (the kind) when no tool claims it."""
    app = _app_manager(path)
    if app is not None:
        return app
    if "/.local/share/virtualenvs/" in path.as_posix():
        return "pipenv"
    tool = tool_cache(path)
    if tool is not None:
        return tool
    if path.parent.name == ".hatch":
        return "hatch"
    parts = path.parts
    if ".tox" in parts:
        return "tox"
    if ".nox" in parts:
        return "nox"
    if fallback in {"pyenv-virtualenv", "conda"}:
        return "pyenv" if fallback == "pyenv-virtualenv" else "conda"
    if path.parent == workon_home():
        return "virtualenvwrapper"
    if _made_by_pdm(path, config, project, minor):
        return "pdm"
    return fallback
