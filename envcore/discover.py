"""Find every Python environment under a set of directory roots, quickly and safely.

A directory is an environment when it holds a `pyvenv.cfg` file or a `conda-meta/`
directory. The walk never enters an environment, never follows symlinked directories and
prunes trees that cannot hold environments (node_modules, .git, caches).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "PRUNED_NAMES",
    "Discovery",
    "default_excludes",
    "default_roots",
    "discover",
    "pyenv_root",
    "workon_home",
]

DEFAULT_MAX_DEPTH = 8
#: Directory names that never contain an environment worth listing.
PRUNED_NAMES = frozenset(
    {
        "node_modules",
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        "site-packages",
        "dist-packages",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".ipynb_checkpoints",
        ".idea",
    }
)


def _home(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("HOME") or Path.home())


def pyenv_root(environ: Mapping[str, str] = os.environ) -> Path:
    """Where pyenv keeps its Pythons (`versions/`), its shims and pyenv-virtualenv's envs."""
    return Path(environ.get("PYENV_ROOT") or _home(environ) / ".pyenv").expanduser()


def workon_home(environ: Mapping[str, str] = os.environ) -> Path:
    """Where virtualenvwrapper keeps its environments."""
    return Path(environ.get("WORKON_HOME") or _home(environ) / ".virtualenvs").expanduser()


def default_excludes(environ: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """Big caches under home that hold no environments a user owns (globs on full paths)."""
    home = _home(environ)
    return tuple(
        str(home / relative)
        for relative in (
            ".cache/pip",
            ".cache/uv",
            ".npm",
            ".cargo",
            ".rustup",
            ".m2",
            ".gradle",
            ".local/share/Trash",
            ".vscode-server/data",
            "snap",
        )
    )


def default_roots(environ: Mapping[str, str] = os.environ) -> list[Path]:
    """Home plus the well-known homes of environments, including hidden ones, if present.

    The hidden homes are listed explicitly so a depth limit or an exclude cannot make
    pipenv, poetry or conda environments invisible.
    """
    home = _home(environ)
    candidates = [
        home,
        workon_home(environ),
        home / ".local/share/virtualenvs",
        Path(environ.get("POETRY_CACHE_DIR") or home / ".cache/pypoetry") / "virtualenvs",
        home / "Library/Caches/pypoetry/virtualenvs",
        pyenv_root(environ) / "versions",
        Path(environ.get("HATCH_DATA_DIR") or home / ".local/share/hatch") / "env",
        home / ".local/share/uv/tools",
        home / ".local/pipx/venvs",
        home / ".local/share/pipx/venvs",
        home / ".conda/envs",
    ]
    for conda_home in ("miniconda3", "anaconda3", "miniforge3", "mambaforge", "micromamba"):
        candidates.append(home / conda_home)
    # pyenv-virtualenv keeps environments in versions/<python>/envs/<name>.
    pyenv_versions = pyenv_root(environ) / "versions"
    if pyenv_versions.is_dir():
        candidates.extend(sorted(pyenv_versions.glob("*/envs")))
    candidates.extend(
        Path(part) for part in environ.get("CONDA_ENVS_PATH", "").split(os.pathsep) if part
    )
    roots: list[Path] = []
    for candidate in candidates:
        path = candidate.expanduser()
        if path.is_dir() and path not in roots:
            roots.append(path)
    return roots


@dataclass(frozen=True)
class Discovery:
    """Environments found (sorted, unique, absolute) and what could not be read."""

    environments: tuple[Path, ...]
    warnings: tuple[str, ...]
    roots: tuple[Path, ...]


def _excluded(path: str, name: str, excludes: Sequence[str]) -> bool:
    return any(
        fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(name, pattern)
        for pattern in excludes
    )


def discover(
    roots: Iterable[Path | str],
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    exclude: Sequence[str] = (),
) -> Discovery:
    """Walk `roots` and return every environment below them (a root may be one itself)."""
    found: dict[str, None] = {}
    warnings: list[str] = []
    # Directory identity -> the largest depth budget it was walked with; a directory reached
    # again from another root with more budget left is walked again, otherwise skipped.
    walked_with: dict[tuple[int, int], int] = {}
    root_paths = tuple(Path(root).expanduser().absolute() for root in roots)
    for root in root_paths:
        if root.is_symlink():
            warnings.append(f"{root}: scan root is a symlink; scanning its target")
        try:
            root_stat = root.stat()
        except OSError as exc:
            warnings.append(f"{root}: cannot read scan root ({exc.strerror or exc})")
            continue
        stack: list[tuple[str, int, tuple[int, int]]] = [
            (str(root), 0, (root_stat.st_dev, root_stat.st_ino))
        ]
        while stack:
            directory, depth, identity = stack.pop()
            budget = max_depth - depth
            if walked_with.get(identity, -1) >= budget:
                continue
            walked_with[identity] = budget
            try:
                with os.scandir(directory) as iterator:
                    entries = list(iterator)
            except PermissionError:
                warnings.append(f"{directory}: permission denied, skipped")
                continue
            except OSError as exc:
                warnings.append(f"{directory}: cannot read ({exc.strerror or exc}), skipped")
                continue
            subdirs: list[os.DirEntry[str]] = []
            is_env = False
            for entry in entries:
                try:
                    if entry.name == "pyvenv.cfg" and entry.is_file(follow_symlinks=False):
                        is_env = True
                    elif entry.is_dir(follow_symlinks=False):
                        if entry.name == "conda-meta":
                            is_env = True
                        subdirs.append(entry)
                except OSError:
                    continue
            if is_env:
                found[directory] = None
                # A conda base installation holds its other environments in envs/: walk
                # that one directory as if it were part of the base, never anything else.
                envs_dir = [entry for entry in subdirs if entry.name == "envs"]
                if envs_dir and (Path(directory) / "conda-meta").is_dir():
                    stat = envs_dir[0].stat(follow_symlinks=False)
                    stack.append((envs_dir[0].path, depth, (stat.st_dev, stat.st_ino)))
                continue
            if depth >= max_depth:
                continue
            for entry in subdirs:
                if entry.name in PRUNED_NAMES or _excluded(entry.path, entry.name, exclude):
                    continue
                try:
                    stat = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                stack.append((entry.path, depth + 1, (stat.st_dev, stat.st_ino)))
    return Discovery(
        environments=tuple(Path(path) for path in sorted(found)),
        warnings=tuple(warnings),
        roots=root_paths,
    )
