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
from datetime import date
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from packaging.version import Version

from envcore.discover import pyenv_root
from envcore.environment import Environment
from envcore.errors import InvalidSpecError, RequirementsError
from envcore.runner import minimal_environment, run
from envcore.versions import parse_specifier, parse_version, satisfies

__all__ = [
    "END_OF_LIFE",
    "Interpreter",
    "InterpreterSource",
    "base_interpreter",
    "check_user_interpreter",
    "default_interpreter",
    "end_of_life",
    "is_end_of_life",
    "list_interpreters",
    "nearest_interpreter",
    "newest_first",
    "probe",
    "project_requires_python",
    "trusted_base",
    "version_key",
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
    return tuple(newest_first(interpreters))


# -- choosing one: version order, end of life, requires-python, nearest -----------------

#: The month each Python version's support ends, from the Python devguide's "Status of
#: Python versions" (https://devguide.python.org/versions/). Versions before the first
#: are past their end; versions after the last are not yet scheduled to end.
END_OF_LIFE: Mapping[tuple[int, int], date] = {
    (3, 8): date(2024, 10, 1),
    (3, 9): date(2025, 10, 1),
    (3, 10): date(2026, 10, 1),
    (3, 11): date(2027, 10, 1),
    (3, 12): date(2028, 10, 1),
    (3, 13): date(2029, 10, 1),
    (3, 14): date(2030, 10, 1),
}


class Versioned(Protocol):
    """Anything listing an interpreter: this module's `Interpreter`, the dashboard's row."""

    @property
    def version(self) -> str: ...

    @property
    def implementation(self) -> str: ...

    @property
    def path(self) -> object: ...


V = TypeVar("V", bound=Versioned)

#: Where a version that is not PEP 440 sorts: before every real one.
_NO_VERSION = Version("0")


def version_key(version: str) -> Version:
    """What interpreters are ordered by: the version as a version (3.13 after 3.9), not
    as text; one that does not parse sorts first."""
    return parse_version(version.strip()) or _NO_VERSION


def newest_first(interpreters: Iterable[V]) -> list[V]:
    """Newest version first; on a tie CPython before other implementations, then by path."""
    ordered = sorted(interpreters, key=lambda item: str(item.path))
    ordered.sort(key=lambda item: item.implementation != "CPython")
    ordered.sort(key=lambda item: version_key(item.version), reverse=True)
    return ordered


def end_of_life(version: str) -> date | None:
    """The month (its first day) `version`'s support ends; None when not scheduled."""
    parsed = parse_version(version.strip())
    if parsed is None:
        return None
    minor = (parsed.major, parsed.minor)
    if minor in END_OF_LIFE:
        return END_OF_LIFE[minor]
    if minor < min(END_OF_LIFE):
        return date.min  # 3.7, 2.7 and older: long over
    return None


def is_end_of_life(version: str, today: date) -> bool:
    """Whether `version` no longer gets fixes on `today` (from the first of its month)."""
    ends = end_of_life(version)
    return ends is not None and today >= ends


def project_requires_python(project: Path) -> str | None:
    """The `requires-python` of `project`'s pyproject.toml, or None when there is none (or
    the file cannot be read as TOML: then nothing is known about what it allows)."""
    from envcore.locks._read import read_project_toml  # only for a new env's project

    try:
        _text, data = read_project_toml(project / "pyproject.toml")
    except RequirementsError:
        return None
    table = data.get("project")
    value = table.get("requires-python") if isinstance(table, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def default_interpreter(
    interpreters: Iterable[V], *, requires_python: str | None = None, today: date
) -> V | None:
    """What a new environment gets when the user does not choose: the newest interpreter
    that `requires_python` allows (an unreadable one allows all), preferring one that is
    not end of life on `today` and a final release over a pre-release. None when
    `requires_python` allows none of them."""
    specifier = parse_specifier(requires_python) if requires_python else None
    allowed = [
        item
        for item in newest_first(interpreters)
        if specifier is None or satisfies(specifier, item.version)
    ]

    def preference(item: V) -> tuple[bool, bool]:
        return is_end_of_life(item.version, today), version_key(item.version).is_prerelease

    return min(allowed, key=preference, default=None)  # min is stable: the newest first


def nearest_interpreter(interpreters: Iterable[V], version: str) -> V | None:
    """The interpreter nearest to `version` (an environment's own, for a recreate): the
    same major.minor (its newest patch release), else the nearest newer minor, else the
    nearest older one. With no usable `version`, the newest."""
    ordered = newest_first(interpreters)
    wanted = parse_version(version.strip()) if version else None
    if wanted is None:
        return ordered[0] if ordered else None
    target = (wanted.major, wanted.minor)

    def distance(item: V) -> tuple[int, int]:
        found = version_key(item.version)
        minor = (found.major, found.minor)
        if minor == target:
            return (0, 0)
        steps = abs((found.major - target[0]) * 100 + found.minor - target[1])
        return (1, steps) if minor > target else (2, steps)

    return min(ordered, key=distance, default=None)
