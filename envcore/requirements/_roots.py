"""Which files a parse may open: only those whose real path lies inside the given roots.

A planted `-r /etc/shadow` or a `requirements.txt` link out of the tree must not carry
that file's content into pages or a team snapshot.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from envcore.requirements._entry import ParsedRequirements, ParseIssue, RequirementsOptions

__all__ = ["OUTSIDE", "admitted", "not_read", "resolve_roots", "within_roots"]

#: What a file outside the roots becomes instead of its content.
OUTSIDE = "not read, it is outside the scan roots"


def resolve_roots(roots: Sequence[Path | str] | None) -> tuple[str, ...] | None:
    return None if roots is None else tuple(os.path.realpath(root) for root in roots)


def admitted(real: str, real_roots: tuple[str, ...] | None) -> bool:
    """Whether a real (symlink-free) path may be opened: no roots, or inside one of them."""
    if real_roots is None:
        return True
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in real_roots)


def within_roots(path: Path | str, roots: Sequence[Path | str] | None) -> bool:
    """Whether `path`, symlinks resolved, is one of `roots` or inside one (no roots: yes)."""
    return admitted(os.path.realpath(path), resolve_roots(roots))


def not_read(path: Path) -> ParsedRequirements:
    """A source outside the roots: nothing asked for, one issue saying why, nothing opened."""
    return ParsedRequirements(
        entries=(),
        errors=(ParseIssue(str(path), OUTSIDE),),
        options=RequirementsOptions(),
        files=(),
        outside=(path,),
    )
