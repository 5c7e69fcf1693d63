"""Words shown to people, from the command line and from the dashboard alike."""

from __future__ import annotations

__all__ = ["counted"]


def counted(count: int, noun: str) -> str:
    """ "1 change", "3 changes": what a person writes, not "3 change(s)"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
