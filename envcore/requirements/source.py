"""Which requirements source belongs to a project directory."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from envcore._files import read_text
from envcore.requirements._roots import within_roots

__all__ = ["find_requirements_source"]


#: Files in requirements/ that describe what a project needs to run, best first.
_PREFERRED_STEMS = ("base", "main", "prod", "production", "common", "default", "requirements")
_DEV_WORDS = re.compile(r"dev|test|doc|lint|ci|local|type|check", re.IGNORECASE)


def find_requirements_source(
    project_dir: Path | str, roots: Sequence[Path | str] | None = None
) -> Path | None:
    """requirements.txt, else the best requirements/*.txt, else a pyproject.toml with deps.

    With `roots`, a pyproject.toml whose real path is outside them is returned unread, so
    that parsing it says why it was not read rather than the project seeming to have none.
    """
    project_dir = Path(project_dir)
    top = project_dir / "requirements.txt"
    if top.is_file():
        return top
    try:
        candidates = sorted(p for p in (project_dir / "requirements").glob("*.txt") if p.is_file())
    except OSError:
        candidates = []
    if candidates:
        by_stem = {p.stem.lower(): p for p in candidates}
        for stem in _PREFERRED_STEMS:
            if stem in by_stem:
                return by_stem[stem]
        runtime = [p for p in candidates if not _DEV_WORDS.search(p.stem)]
        return (runtime or candidates)[0]
    pyproject = project_dir / "pyproject.toml"
    if pyproject.is_file():
        if not within_roots(pyproject, roots):
            return pyproject
        import tomllib  # only when there is a pyproject.toml: not at every start-up

        try:
            data = tomllib.loads(read_text(pyproject, encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
        if isinstance(data.get("project"), dict) or isinstance(data.get("dependency-groups"), dict):
            return pyproject
    return None
