"""The "inside the scan roots" check for readers, and what a parse makes of a file outside.

A parse opens only files whose real path lies inside the given roots: a planted
`-r /etc/shadow` or a `requirements.txt` link out of the tree must not carry that file's
content into pages or a team snapshot. The operations and the dashboard ask the same
question through `within_roots` (kept in envcore._files, where linking an environment to
its project asks it too, and re-exported here).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from envcore._files import admitted, resolve_roots, within_roots
from envcore.requirements._entry import ParsedRequirements, ParseIssue, RequirementsOptions

__all__ = ["OUTSIDE", "admitted", "not_read", "resolve_roots", "roots_refusal", "within_roots"]

#: What a file outside the roots becomes instead of its content.
OUTSIDE = "not read, it is outside the scan roots"


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
