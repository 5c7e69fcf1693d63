"""The Python interpreters an environment can be created with: PATH, pyenv, bases of known envs.

Each candidate is run once (in parallel) to learn its real version and implementation; a
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

from envcore.errors import EnvcoreError
from envcore.inspect import Environment, inspect_environment
from envcore.runner import run

__all__ = ["Interpreter", "InterpreterSource", "base_interpreter", "list_interpreters", "probe"]

InterpreterSource = Literal["PATH", "pyenv", "environment"]

_NAME = re.compile(r"^(?:python|pypy)(?:\d+(?:\.\d+)?)?$")
_PROBE = (
    "import json, platform, sys; print(json.dumps([platform.python_version(), "
    "platform.python_implementation(), sys.prefix != getattr(sys, 'base_prefix', sys.prefix)]))"
)
_PROBE_TIMEOUT = 15.0


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
    """Run `path` to learn its version; None when it does not run or is itself a venv."""
    try:
        result = run([path, "-I", "-c", _PROBE], timeout=_PROBE_TIMEOUT)
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


def _path_candidates(environ: Mapping[str, str]) -> list[Path]:
    shims = str(_pyenv_root(environ) / "shims")
    found = []
    for directory in environ.get("PATH", "").split(os.pathsep):
        # pyenv shims are scripts that pick a version by cwd; the real ones come from pyenv.
        if not directory or directory.startswith(shims):
            continue
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            candidate = Path(directory, name)
            if _NAME.match(name) and os.access(candidate, os.X_OK) and candidate.is_file():
                found.append(candidate)
    return found


def _pyenv_root(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("PYENV_ROOT") or Path.home() / ".pyenv").expanduser()


def _pyenv_candidates(environ: Mapping[str, str]) -> list[Path]:
    versions = _pyenv_root(environ) / "versions"
    try:
        names = sorted(os.listdir(versions))
    except OSError:
        return []
    found = []
    for name in names:
        if (versions / name / "pyvenv.cfg").exists():  # a pyenv-virtualenv, not a Python
            continue
        for exe in ("python3", "python", "pypy3"):
            if (versions / name / "bin" / exe).is_file():
                found.append(versions / name / "bin" / exe)
                break
    return found


def base_interpreter(env: Environment) -> Path | None:
    """The base interpreter an environment was made from, if it still exists."""
    if env.home is None:
        return None
    names = [f"python{env.python_minor}"] if env.python_minor else []
    names += ["python3", "python", "pypy3"]
    for name in names:
        candidate = env.home / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def list_interpreters(
    known_environments: Iterable[Path] = (), *, environ: Mapping[str, str] | None = None
) -> tuple[Interpreter, ...]:
    """Every distinct working interpreter, newest version first.

    Duplicates (python3 and python3.11 pointing at one binary) are listed once, under the
    first name found: PATH first, then pyenv, then the bases of `known_environments`.
    """
    environ = os.environ if environ is None else environ
    candidates: list[tuple[Path, InterpreterSource]] = [
        (path, "PATH") for path in _path_candidates(environ)
    ]
    candidates += [(path, "pyenv") for path in _pyenv_candidates(environ)]
    for env_path in known_environments:
        try:
            base = base_interpreter(inspect_environment(env_path))
        except EnvcoreError:
            continue
        if base is not None:
            candidates.append((base, "environment"))
    unique: dict[str, tuple[Path, InterpreterSource]] = {}
    for path, source in candidates:
        unique.setdefault(os.path.realpath(path), (path, source))
    with ThreadPoolExecutor(max_workers=8) as pool:
        probed = pool.map(lambda item: probe(*item), unique.values())
        interpreters = [interpreter for interpreter in probed if interpreter is not None]
    interpreters.sort(key=lambda i: (i.version_tuple, i.implementation), reverse=True)
    return tuple(interpreters)
