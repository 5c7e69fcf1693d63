"""The record of directories envdash itself moved aside, so recovery acts on nothing else.

A recreate renames the old environment to a backup and a delete renames it to a trash name
before removing it; a crash can leave either behind. Names on disk prove nothing (anyone
can create `.x.envdash-backup-...`), so each operation records what it moves, with a random
nonce that is also part of the new name, before the rename, and forgets it once done.
`recover_interrupted` reads only this record. The dashboard keeps it in its database;
`MemoryJournal` serves tests and scripts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

__all__ = ["Journal", "JournalEntry", "MemoryJournal", "MoveKind", "plan_move"]

#: recreate: the old environment set aside while the new one is built (restore on crash);
#: delete: a directory renamed to be removed (finish removing on crash).
MoveKind = Literal["recreate", "delete"]

_LABELS: dict[str, str] = {"recreate": "backup", "delete": "trash"}


@dataclass(frozen=True)
class JournalEntry:
    """One directory envdash renamed: `original` became `moved`, whose name ends in `nonce`."""

    kind: MoveKind
    original: Path
    moved: Path
    nonce: str
    job_id: str | int | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC), compare=False)

    def __post_init__(self) -> None:
        if self.kind not in _LABELS:
            raise ValueError(f"unknown journal entry kind {self.kind!r}")


class Journal(Protocol):
    """Where operations record the directories they move aside (see the module docstring).

    `record` must have stored the entry when it returns (the rename follows at once);
    `forget` of an entry that is not there does nothing.
    """

    @property
    def job_id(self) -> str | int | None:
        """The job whose operations this journal records, if any (stored with each entry)."""
        ...

    def record(self, entry: JournalEntry) -> None: ...

    def forget(self, entry: JournalEntry) -> None: ...

    def entries(self) -> Sequence[JournalEntry]: ...


class MemoryJournal:
    """A journal in a list: for tests, and for scripts that recover in the same process."""

    def __init__(self, job_id: str | int | None = None) -> None:
        self.job_id = job_id
        self._entries: dict[str, JournalEntry] = {}

    def record(self, entry: JournalEntry) -> None:
        self._entries[entry.nonce] = entry

    def forget(self, entry: JournalEntry) -> None:
        self._entries.pop(entry.nonce, None)

    def entries(self) -> Sequence[JournalEntry]:
        return tuple(self._entries.values())

    def __repr__(self) -> str:
        return f"MemoryJournal({list(self._entries.values())!r})"


def plan_move(kind: MoveKind, original: Path, job_id: str | int | None = None) -> JournalEntry:
    """A new entry for moving `original` aside: `.NAME.envdash-backup-<time>-<nonce>` (or
    `-trash-`) beside it. The time is for people reading the directory; the nonce (random,
    recorded before the rename) is what recovery checks."""
    nonce = os.urandom(8).hex()  # secrets.token_hex, without loading hmac and hashlib
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    moved = original.with_name(f".{original.name}.envdash-{_LABELS[kind]}-{stamp}-{nonce}")
    return JournalEntry(kind, original, moved, nonce, job_id)
