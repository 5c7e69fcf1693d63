"""Freeze an environment into a requirements file: plan (with a diff) first, then write.

Writing is atomic (temporary file in the same directory + os.replace) and the previous file
is kept as `<name>.bak` (or a timestamped .bak when that exists already).
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from envcore.errors import RequirementsError
from envcore.inspect import Inventory
from envcore.pipcompat import freeze_lines
from envcore.requirements import RequirementEntry, load_requirements

FreezeMode = Literal["plain", "update"]


@dataclass(frozen=True)
class FreezePlan:
    """What writing would change; `diff` is a unified diff for the user to confirm."""

    path: Path
    mode: FreezeMode
    old_text: str | None
    new_text: str
    diff: str
    #: Lines update mode deliberately left alone, and why (`file:line: reason`).
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise RequirementsError(f"cannot read {path}: {exc}") from exc


def plan_freeze(inventory: Inventory, path: Path | str, mode: FreezeMode = "plain") -> FreezePlan:
    """The new text for `path`: plain = `pip freeze` output; update = the existing file with
    only the pins of lines naming installed distributions changed."""
    target = Path(path).absolute()
    old_text = _read(target)
    notes: tuple[str, ...] = ()
    if mode == "plain" or old_text is None:
        new_text = "".join(f"{line}\n" for line in freeze_lines(inventory))
    elif mode == "update":
        new_text, notes = _updated_text(target, old_text, inventory)
    else:
        raise RequirementsError(f"unknown freeze mode {mode!r} (plain or update)")
    diff = "".join(
        difflib.unified_diff(
            (old_text or "").splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=f"{target.name} (current)",
            tofile=f"{target.name} (new)",
        )
    )
    return FreezePlan(target, mode, old_text, new_text, diff, notes)


#: `name[extras] spec ; marker` followed by options / a comment, as written on one line.
_LINE = re.compile(
    r"^(?P<head>[ \t]*[A-Za-z0-9][A-Za-z0-9._-]*[ \t]*(?:\[[^\]\r\n]*\])?)"
    r"(?P<spec>[^;#\r\n]*?)(?P<marker>[ \t]*;[^#\r\n]*?)?"
    r"(?P<rest>(?:[ \t]+-[^\r\n]*|[ \t]+#[^\r\n]*)?)(?P<end>\r?\n?)\Z"
)


def _pinned_line(line: str, version: str) -> str | None:
    """`line` with its version specifier replaced by `==version`; None if not recognisable."""
    match = _LINE.match(line)
    if match is None:
        return None
    marker = (match.group("marker") or "").rstrip()
    return f"{match.group('head').rstrip()}=={version}{marker}{match['rest']}{match['end']}"


def _updated_text(target: Path, old_text: str, inventory: Inventory) -> tuple[str, tuple[str, ...]]:
    """Change only the pins of this file's own lines naming installed distributions.

    Comments, blank lines, order, options, includes and lines of included files stay as
    they are. Lines continued with a backslash, hashed lines, editables and URLs are left
    alone (a note says why when a pin would have changed).
    """
    parsed = load_requirements(target)
    lines = old_text.splitlines(keepends=True)
    marker_env = inventory.environment.marker_environment()
    real_target = os.path.realpath(target)
    notes: list[str] = []
    for entry in parsed.entries:
        if os.path.realpath(entry.path) != real_target or entry.name is None:
            continue
        dist = inventory.by_name.get(entry.name)
        if dist is None or entry.constraint or not entry.applies_to(marker_env):
            continue
        version = dist.display_version
        if _already_pinned(entry, version):
            continue
        reason = _cannot_pin(entry, lines)
        if reason:
            notes.append(f"{entry.source}: {reason}; left as it is")
            continue
        new_line = _pinned_line(lines[entry.line_number - 1], version)
        if new_line is None:
            notes.append(f"{entry.source}: not a simple requirement line; left as it is")
            continue
        lines[entry.line_number - 1] = new_line
    return "".join(lines), tuple(notes)


def _already_pinned(entry: RequirementEntry, version: str) -> bool:
    return entry.is_pinned and entry.specifier_set.contains(version, prereleases=True)


def _cannot_pin(entry: RequirementEntry, lines: list[str]) -> str:
    if entry.editable or entry.url:
        return "an editable or URL requirement"
    if entry.hashes:
        return "hashes would no longer match a new pin"
    if entry.line_number > len(lines) or lines[entry.line_number - 1].rstrip("\r\n").endswith("\\"):
        return "a requirement continued over several lines"
    return ""


def _backup_name(path: Path) -> Path:
    plain = path.with_name(f"{path.name}.bak")
    if not plain.exists():
        return plain
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return path.with_name(f"{path.name}.{stamp}-{time.monotonic_ns() % 10**6}.bak")


def write_freeze(plan: FreezePlan) -> Path | None:
    """Write a plan; returns the backup of the previous file (None when there was none).

    Refuses when the file changed since the plan was made, so a user never confirms one diff
    and gets another.
    """
    if _read(plan.path) != plan.old_text:
        raise RequirementsError(f"{plan.path} changed since the preview; preview it again")
    backup = None
    if plan.old_text is not None:
        backup = _backup_name(plan.path)
        backup.write_text(plan.old_text, encoding="utf-8")
    fd, temporary = tempfile.mkstemp(prefix=f".{plan.path.name}.", dir=plan.path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(plan.new_text)
            handle.flush()
            os.fsync(handle.fileno())
        if plan.old_text is not None:
            os.chmod(temporary, plan.path.stat().st_mode & 0o7777)
        else:
            os.chmod(temporary, 0o644)
        os.replace(temporary, plan.path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return backup
