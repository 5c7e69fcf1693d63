"""The Python interpreters an environment can be created with, from trusted places only.

Trusted places are the ones the user installed Pythons into: PATH, pyenv's versions, uv's
managed Pythons, conda installations, and interpreters the user named (Settings). Never
an environment's `pyvenv.cfg` `home`: that is text on disk anyone can plant under a scan
root, and finding interpreters *runs* them. Each candidate is run once (in parallel, with
a minimal environment: no tokens, no dashboard settings) to learn its real version; a
candidate that does not answer is left out rather than guessed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from envcore.discover import pyenv_root
from envcore.environment import Environment
from envcore.errors import InvalidSpecError
from envcore.runner import minimal_environment, run

__all__ = [
    "Interpreter",
    "InterpreterSource",
    "base_interpreter",
    "check_user_interpreter",
    "list_interpreters",
    "probe",
    "trusted_base",
]

InterpreterSource = Literal["PATH", "pyenv", "uv", "conda", "user"]

_NAME = re.compile(r"^(?:python|pypy)(?:\d+(?:\.\d+)?)?$")
_PROBE = (
    "import json, platform, sys; print(json.dumps([platform.python_version(), "
    "platform.python_implementation(), sys.prefix != getattr(sys, 'base_prefix', sys.prefix)]))"
)
_PROBE_TIMEOUT = 15.0
#: Where conda, miniforge and mamba installers put their base installation by default.
_CONDA_HOMES = (
    "~/miniconda3",
    "~/anaconda3",
    "~/miniforge3",
    "~/mambaforge",
    "~/micromamba",
    "/opt/conda",
    "/opt/miniconda3",
    "/opt/anaconda3",
    "/opt/miniforge3",
)


@dataclass(frozen=True, order=True)
class Interpreter:
    """A base interpreter that can create environments; `path` is how to run it."""

    path: Path
    version: str
    implementation: str
    source: InterpreterSource

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", self.version)[:3])

    def __str__(self) -> str:
        return f"{self.implementation} {self.version} ({self.path})"


def probe(path: Path, source: InterpreterSource = "PATH") -> Interpreter | None:
    """Run `path` to learn its version; None when it does not run or is itself a venv.

    Only for paths from a trusted place: this executes `path`, with a minimal environment
    so that even a trusted interpreter's site hooks never see the dashboard's secrets.
    """
    try:
        result = run(
            [path, "-I", "-c", _PROBE], timeout=_PROBE_TIMEOUT, environ=minimal_environment()
        )
    except OSError:
        return None
    if not result.ok:
        return None
    try:
        version, implementation, in_venv = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    if in_venv:  # an environment's own python is not a base to build from
        return None
    return Interpreter(Path(path), str(version), str(implementation), source)


def check_user_interpreter(raw: str) -> Interpreter:
    """An interpreter the user names (Settings): absolute, an executable file, and a
    Python that answers the probe; otherwise a one-line reason."""
    path = Path(raw.strip())
    if not raw.strip() or any(ord(ch) < 32 for ch in raw) or not path.is_absolute():
        raise InvalidSpecError("give the interpreter's absolute path, e.g. /usr/bin/python3")
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise InvalidSpecError(f"{path} is not an executable file")
    found = probe(path, "user")
    if found is None:
        raise InvalidSpecError(
            f"{path} did not answer as a base Python interpreter "
            "(a virtual environment's own python cannot create environments)"
        )
    return found


def _executables(directory: Path) -> list[Path]:
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    paths = [directory / name for name in names if _NAME.match(name)]
    return [path for path in paths if os.access(path, os.X_OK) and path.is_file()]


def _path_candidates(environ: Mapping[str, str]) -> list[Path]:
    shims = str(pyenv_root(environ) / "shims")
    found = []
    for directory in environ.get("PATH", "").split(os.pathsep):
        # pyenv shims are scripts that pick a version by cwd; the real ones come from pyenv.
        if directory and not directory.startswith(shims):
            found += _executables(Path(directory))
    return found


def _first_python(prefix: Path) -> list[Path]:
    """The installation's own python (the first of the usual names), unless it is a venv."""
    if (prefix / "pyvenv.cfg").exists():  # a pyenv-virtualenv or similar, not a Python
        return []
    for exe in ("python3", "python", "pypy3"):
        if (prefix / "bin" / exe).is_file():
            return [prefix / "bin" / exe]
    return []


def _subdirectories(directory: Path) -> list[Path]:
    try:
        return [directory / name for name in sorted(os.listdir(directory))]
    except OSError:
        return []


def _pyenv_candidates(environ: Mapping[str, str]) -> list[Path]:
    versions = pyenv_root(environ) / "versions"
    return [exe for prefix in _subdirectories(versions) for exe in _first_python(prefix)]


def _uv_candidates(environ: Mapping[str, str]) -> list[Path]:
    """uv's managed Pythons (what `uv python dir` prints), computed the way uv does."""
    configured = environ.get("UV_PYTHON_INSTALL_DIR")
    if configured:
        root = Path(configured).expanduser()
    else:
        data = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        root = Path(data).expanduser() / "uv" / "python"
    return [exe for prefix in _subdirectories(root) for exe in _first_python(prefix)]


def _conda_candidates(environ: Mapping[str, str]) -> list[Path]:
    """The base Python of each conda installation (not its environments)."""
    prefixes = [Path(home).expanduser() for home in _CONDA_HOMES]
    for variable in ("CONDA_EXE", "MAMBA_EXE"):  # <prefix>/bin/conda
        if environ.get(variable):
            prefixes.insert(0, Path(environ[variable]).expanduser().parent.parent)
    if environ.get("MAMBA_ROOT_PREFIX"):
        prefixes.insert(0, Path(environ["MAMBA_ROOT_PREFIX"]).expanduser())
    return [exe for prefix in prefixes for exe in _first_python(prefix)]


def base_interpreter(env: Environment) -> Path | None:
    """Where the interpreter an environment was made from would be, read from pyvenv.cfg.

    Only a path to show and to compare (`trusted_base`): never run it, since `home` is
    whatever the file says.
    """
    if env.home is None:
        return None
    names = [f"python{env.python_minor}"] if env.python_minor else []
    names += ["python3", "python", "pypy3"]
    for name in names:
        candidate = env.home / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def trusted_base(base: Path | str | None, trusted: Iterable[Path | str]) -> Path | None:
    """The trusted interpreter that is the same file as `base` (an environment's base as
    pyvenv.cfg names it), or None: a recreate may run only the former."""
    if base is None or not str(base):
        return None
    wanted = os.path.realpath(base)
    for candidate in trusted:
        if os.path.realpath(candidate) == wanted:
            return Path(candidate)
    return None


def list_interpreters(
    user: Iterable[Path | str] = (), *, environ: Mapping[str, str] | None = None
) -> tuple[Interpreter, ...]:
    """Every distinct working interpreter from the trusted places, newest version first.

    Duplicates (python3 and python3.11 pointing at one binary) are listed once, under the
    first name found: PATH, then pyenv, uv, conda, and last the `user`'s own.
    """
    environ = os.environ if environ is None else environ
    candidates: list[tuple[Path, InterpreterSource]] = [
        (path, "PATH") for path in _path_candidates(environ)
    ]
    candidates += [(path, "pyenv") for path in _pyenv_candidates(environ)]
    candidates += [(path, "uv") for path in _uv_candidates(environ)]
    candidates += [(path, "conda") for path in _conda_candidates(environ)]
    candidates += [(Path(path), "user") for path in user]
    unique: dict[str, tuple[Path, InterpreterSource]] = {}
    for path, source in candidates:
        unique.setdefault(os.path.realpath(path), (path, source))
    with ThreadPoolExecutor(max_workers=8) as pool:
        probed = pool.map(lambda item: probe(*item), unique.values())
        interpreters = [interpreter for interpreter in probed if interpreter is not None]
    interpreters.sort(key=lambda i: (i.version_tuple, i.implementation), reverse=True)
    return tuple(interpreters)
