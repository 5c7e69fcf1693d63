"""Undo what a crash left half-done, from the journal of what envdash moved aside.

Only journal entries are acted on: nothing on disk is searched for or trusted because of
its name. Each entry is handled on its own, and an entry that fails is reported and kept for
the next try without stopping the others.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from envcore.errors import EnvcoreError, EnvironmentBusyError
from envcore.ops.journal import Journal, JournalEntry
from envcore.ops.recreate import restore_backup
from envcore.ops.safety import (
    LOCK_NAME,
    confirmed_environment,
    exclusive_lock,
    ignore_vanished,
    lock_is_free,
)

__all__ = ["RecoveryAction", "recover_interrupted"]

#: restored / removed: the crash was undone; skipped: an operation still runs (kept for
#: later); left: envdash's own checks failed, nothing was touched (the reason says why);
#: done: nothing was left on disk; failed: an error (kept, tried again at the next start).
RecoveryOutcome = Literal["restored", "removed", "skipped", "left", "done", "failed"]


@dataclass(frozen=True)
class RecoveryAction:
    """One journal entry handled by `recover_interrupted` and what was done with it."""

    path: Path
    action: RecoveryOutcome
    detail: str = ""


def recover_interrupted(journal: Journal) -> tuple[RecoveryAction, ...]:
    """Undo what a crash left: restore recreate backups, finish interrupted deletions.

    Acts only on `journal`'s entries. A backup is put back only when it is the recorded
    real directory (its name carries the recorded nonce), is an environment, and its
    original path is absent or an environment too (the half-built new one); anything else
    is left as it is, with the reason. A directory whose lock is still held belongs to an
    operation running right now and is left alone. Call it when a worker starts.
    """
    actions = []
    for entry in sorted(journal.entries(), key=lambda e: (e.created_at, e.nonce)):
        try:
            action = _recover(entry, journal)
        except Exception as exc:  # one bad entry must not stop the others
            detail = f"failed, will try again at the next start: {type(exc).__name__}: {exc}"
            action = RecoveryAction(entry.moved, "failed", detail)
        actions.append(action)
    return tuple(actions)


def _recover(entry: JournalEntry, journal: Journal) -> RecoveryAction:
    original, moved = entry.original, entry.moved
    if not original.is_absolute() or not moved.is_absolute():
        journal.forget(entry)
        return RecoveryAction(moved, "left", "not a recorded absolute path; nothing touched")
    if not lock_is_free(original):  # the operation has not renamed it yet, and still runs
        return RecoveryAction(moved, "skipped", "an operation is still using it")
    try:
        info = os.lstat(moved)
    except FileNotFoundError:
        journal.forget(entry)
        return RecoveryAction(moved, "done", "nothing left to do: it is gone")
    reason = _not_the_recorded_directory(entry, info.st_mode)
    if reason:
        journal.forget(entry)
        return RecoveryAction(moved, "left", f"untouched: {reason}")
    try:
        with exclusive_lock(moved):
            if entry.kind == "delete":
                shutil.rmtree(moved, onerror=ignore_vanished)
                action = RecoveryAction(moved, "removed", "interrupted deletion finished")
            else:
                action = _restore(entry, journal)
    except EnvironmentBusyError:
        return RecoveryAction(moved, "skipped", "an operation is still using it")
    except FileNotFoundError:  # another worker handled it between our look and the lock
        journal.forget(entry)
        return RecoveryAction(moved, "done", "nothing left to do: handled elsewhere")
    journal.forget(entry)
    return action


def _not_the_recorded_directory(entry: JournalEntry, mode: int) -> str:
    """Why `entry.moved` is not the directory envdash renamed, or "" when it is."""
    if stat.S_ISLNK(mode):
        return "it is a symlink, not the directory envdash moved there"
    if not stat.S_ISDIR(mode):
        return "it is not a directory"
    name = entry.moved.name
    if (
        len(entry.nonce) < 16
        or not name.endswith(f"-{entry.nonce}")
        or not name.startswith(f".{entry.original.name}.envdash-")
        or entry.moved.parent != entry.original.parent
    ):
        return "its name does not carry the recorded nonce"
    return ""


def _restore(entry: JournalEntry, journal: Journal) -> RecoveryAction:
    original, backup = entry.original, entry.moved
    try:
        confirmed_environment(backup)
    except EnvcoreError as exc:
        return RecoveryAction(backup, "left", f"not restored, both untouched: {exc}")
    if os.path.lexists(original):
        try:
            confirmed_environment(original)  # the half-built new environment
        except EnvcoreError as exc:
            return RecoveryAction(
                backup,
                "left",
                f"not restored over {original}, both untouched: {exc}; "
                f"the old environment is kept at {backup}",
            )
    restore_backup(entry, journal)
    (original / LOCK_NAME).unlink(missing_ok=True)  # the crashed recreate's, moved with it
    return RecoveryAction(original, "restored", f"from {backup.name}")
