"""The one "inside the scan roots" check, and what a parse makes of a file outside them.

A parse opens only files whose real path lies inside the given roots: a planted
`-r /etc/shadow` or a `requirements.txt` link out of the tree must not carry that file's
content into pages or a team snapshot. The operations and the dashboard ask the same
question through `within_roots`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from envcore.requirements._entry import ParsedRequirements, ParseIssue, RequirementsOptions

__all__ = ["OUTSIDE", "admitted", "not_read", "resolve_roots", "roots_refusal", "within_roots"]

#: What a file outside the roots becomes instead of its content.
OUTSIDE = "not read, it is outside the scan roots"


def resolve_roots(roots: Sequence[Path | str] | None) -> tuple[str, ...] | None:
    return None if roots is None else tuple(os.path.realpath(root) for root in roots)


def admitted(real: str, real_roots: tuple[str, ...] | None, *, strictly: bool = False) -> bool:
    """Whether a real (symlink-free) path is inside one of `real_roots` (None: anywhere);
    a root itself counts unless `strictly`."""
    if real_roots is None:
        return True
    return any(
        (real == root and not strictly) or real.startswith(root.rstrip(os.sep) + os.sep)
        for root in real_roots
    )


def within_roots(
    path: Path | str, roots: Sequence[Path | str] | None, *, strictly: bool = False
) -> bool:
    """Whether `path`, symlinks resolved, is inside one of `roots` (None: anywhere).

    A root itself counts (a scan may start at a root that is an environment, and files are
    read from it) unless `strictly`: a change to an environment (create, delete, recreate,
    which moves the old one aside next to it) must stay strictly below a root.
    """
    return admitted(os.path.realpath(path), resolve_roots(roots), strictly=strictly)


def roots_refusal(
    path: Path | str, roots: Sequence[Path | str] | None, *, strictly: bool = False
) -> str | None:
    """Why `path` may not be used (None: it may), as the words after the path: a root
    itself is refused for what must stay strictly below one, everything else outside."""
    real = os.path.realpath(path)
    real_roots = resolve_roots(roots)
    if admitted(real, real_roots, strictly=strictly):
        return None
    if real_roots is not None and real in real_roots:
        return (
            "is a scan root itself; envdash creates, moves and deletes environments "
            "only below a scan root"
        )
    return "is outside the scan roots"


def not_read(path: Path) -> ParsedRequirements:
    """A source outside the roots: nothing asked for, one issue saying why, nothing opened."""
    return ParsedRequirements(
        entries=(),
        errors=(ParseIssue(str(path), OUTSIDE),),
        options=RequirementsOptions(),
        files=(),
        outside=(path,),
    )
