"""Freeze an environment into a requirements file: plan (with a diff) first, then write.

Plain freeze writes what `pip freeze` prints, by default to a new lock file beside the
requirements (`default_freeze_target`), never over them unless asked; update mode changes
only the lines of the requirements file the environment no longer satisfies. Writing is
atomic (temporary file in the same directory + os.replace) and the previous file is kept
as `<name>.bak` (or a timestamped .bak when that exists already); no step follows a
symbolic link, since anything under the scan roots may be planted.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import os
import re
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from envcore._files import read_bytes
from envcore.distributions import Inventory, read_inventory
from envcore.errors import RequirementsError
from envcore.ops.context import Context
from envcore.ops.safety import NOFOLLOW, confirmed_environment, inside_roots, write_new_file
from envcore.pipcompat import freeze, unsafe_reason
from envcore.requirements import RequirementEntry, load_requirements
from envcore.versions import satisfies

__all__ = ["FreezeMode", "FreezePlan", "default_freeze_target", "plan_freeze", "write_freeze"]

FreezeMode = Literal["plain", "update"]

#: How many timestamped backup names to try before giving up (each is created O_EXCL).
_BACKUP_ATTEMPTS = 20


@dataclass(frozen=True)
class FreezePlan:
    """What writing would change; `diff` is a unified diff for the user to confirm."""

    path: Path
    mode: FreezeMode
    old_text: str | None
    new_text: str
    diff: str
    #: Lines update mode deliberately left alone, and why (`file:line: reason`); in plain
    #: mode the distributions left out because of invalid metadata (`skipped name: reason`).
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.old_text != self.new_text


def _read(path: Path, dir_fd: int | None = None) -> str | None:
    """The file's text, never through a link: a planted `requirements.txt` link to a file
    elsewhere must not show that file's content in a diff. With `dir_fd`, `path`'s name is
    opened in that directory."""
    try:
        data = read_bytes(
            path.name if dir_fd is not None else path, dir_fd=dir_fd, follow_symlinks=False
        )
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RequirementsError(
                f"{path} is a symbolic link; envdash does not read or write through one"
            ) from exc
        raise RequirementsError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequirementsError(f"cannot read {path}: {exc}") from exc


def plan_freeze(
    env_path: Path | str,
    requirements_path: Path | str,
    mode: FreezeMode = "plain",
    *,
    context: Context | None = None,
) -> FreezePlan:
    """Preview freezing the environment into `requirements_path` (see `write_freeze`).

    With the context's roots, update mode reads no include outside them.
    """
    env = confirmed_environment(Path(env_path).absolute())
    roots = context.roots if context is not None else None
    return _plan(read_inventory(env), requirements_path, mode, roots=roots)


def _plan(
    inventory: Inventory,
    path: Path | str,
    mode: FreezeMode = "plain",
    *,
    roots: Sequence[Path | str] | None = None,
) -> FreezePlan:
    """The new text for `path`: plain = `pip freeze` output; update = the existing file with
    only the lines the installed distributions no longer satisfy changed (its includes are
    read only inside `roots`, when given)."""
    target = Path(path).absolute()
    old_text = _read(target)
    notes: tuple[str, ...] = ()
    if mode == "plain" or old_text is None:
        frozen = freeze(inventory)
        new_text, notes = frozen.text, frozen.skipped
    elif mode == "update":
        new_text, notes = _updated_text(target, old_text, inventory, roots)
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


def _updated_text(
    target: Path, old_text: str, inventory: Inventory, roots: Sequence[Path | str] | None
) -> tuple[str, tuple[str, ...]]:
    """Change only this file's own lines that the environment no longer satisfies, each to
    the installed version (`==version`).

    A range the installed version satisfies (`packaging>=24`) stays a range: freezing in
    place records what changed, it does not tighten what the project asks for. Comments,
    blank lines, order, options, markers, includes and lines of included files stay as
    they are. Lines continued with a backslash, hashed lines, editables and URLs are left
    alone, as are lines naming what is not installed (a note says why).
    """
    parsed = load_requirements(target, roots=roots)
    lines = old_text.splitlines(keepends=True)
    marker_env = inventory.environment.marker_environment()
    real_target = os.path.realpath(target)
    notes: list[str] = []
    for entry in parsed.entries:
        if os.path.realpath(entry.path) != real_target or entry.name is None:
            continue
        if entry.constraint or not entry.applies_to(marker_env):
            continue
        dist = inventory.by_name.get(entry.name)
        if dist is None:
            name = entry.raw_name or entry.name
            notes.append(f"{entry.source}: {name} is not installed; left as it is")
            continue
        version = dist.display_version
        if satisfies(entry.specifier_set, version):
            continue  # still satisfied: the line stays as written
        reason = unsafe_reason(dist) or _cannot_pin(entry, lines)
        if reason:
            notes.append(f"{entry.source}: {reason}; left as it is")
            continue
        new_line = _pinned_line(lines[entry.line_number - 1], version)
        if new_line is None:
            notes.append(f"{entry.source}: not a simple requirement line; left as it is")
            continue
        lines[entry.line_number - 1] = new_line
    return "".join(lines), tuple(notes)


def default_freeze_target(requirements: Path | None, project: Path) -> Path:
    """Where a plain freeze goes unless the user picks the requirements file itself: a
    lock file beside the requirements, named after them (`requirements.txt` ->
    `requirements.lock.txt`, `requirements/dev.txt` -> `requirements/dev.lock.txt`,
    `pyproject.toml` -> `requirements.lock.txt`), as uv, Poetry, Pipenv and rye call a file
    with every version pinned, ending in `.txt` so `pip install -r` and editors take it.
    With no requirements file, `requirements.txt` in the project (what `pip freeze >
    requirements.txt` makes) unless that name is taken."""
    if requirements is None:
        plain = project / "requirements.txt"
        return plain if not os.path.lexists(plain) else project / "requirements.lock.txt"
    stem = "requirements" if requirements.name == "pyproject.toml" else requirements.stem
    stem = stem.removesuffix(".lock")  # the requirements are a lock file: -frozen beside
    target = requirements.with_name(f"{stem}.lock.txt")
    return target if target != requirements else requirements.with_name(f"{stem}-frozen.txt")


def _cannot_pin(entry: RequirementEntry, lines: list[str]) -> str:
    if entry.editable or entry.url:
        return "an editable or URL requirement"
    if entry.hashes:
        return "hashes would no longer match a new pin"
    if entry.line_number > len(lines) or lines[entry.line_number - 1].rstrip("\r\n").endswith("\\"):
        return "a requirement continued over several lines"
    return ""


@contextlib.contextmanager
def _directory(path: Path, roots: Sequence[Path | str] | None) -> Iterator[int]:
    """The target's directory, opened once: every later step goes through this descriptor,
    so swapping the directory for a link after the checks changes nothing. With `roots`,
    its real path must lie inside them (a planted directory link cannot lead outside)."""
    real = os.path.realpath(path.parent)
    fd = os.open(real, os.O_RDONLY | os.O_DIRECTORY | NOFOLLOW)
    try:
        opened, checked = os.fstat(fd), os.stat(real, follow_symlinks=False)
        if (opened.st_dev, opened.st_ino) != (checked.st_dev, checked.st_ino):
            raise RequirementsError(f"{path.parent} changed while being opened; try again")
        if roots is not None:
            inside_roots(Path(real, path.name), roots)
        yield fd
    finally:
        os.close(fd)


def _create_backup(path: Path, text: str, mode: int, dir_fd: int) -> Path:
    """Write `text` to a new `<name>.bak` (or a timestamped .bak when that name is taken by
    anything, a link included): created exclusively, never following a link."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    names = [f"{path.name}.bak"]
    names += [f"{path.name}.{stamp}-{secrets.token_hex(3)}.bak" for _ in range(_BACKUP_ATTEMPTS)]
    for name in names:
        try:
            write_new_file(name, text, mode, dir_fd)
        except FileExistsError:
            continue
        return path.with_name(name)
    raise RequirementsError(f"cannot find a free backup name for {path}; remove old .bak files")


def write_freeze(plan: FreezePlan, *, context: Context | None = None) -> Path | None:
    """Write a plan; returns the backup of the previous file (None when there was none).

    Refuses when the file changed since the plan was made, so a user never confirms one diff
    and gets another. Nothing is written through a symbolic link: the target must be a
    regular file (or absent), the backup is a new file, and the new text goes to a new
    temporary file in the same directory that then replaces the target. With the context's
    roots, the directory's real path must lie inside them.
    """
    roots = context.roots if context is not None else None
    with _directory(plan.path, roots) as dir_fd:
        # Read without following a link and only a regular file (fstat of the opened file,
        # so a swap after a check cannot slip through): a link, FIFO or directory put at
        # the target since the preview is refused here, before anything is written.
        if _read(plan.path, dir_fd) != plan.old_text:
            raise RequirementsError(f"{plan.path} changed since the preview; preview it again")
        backup = None
        mode = 0o644
        if plan.old_text is not None:
            mode = os.stat(plan.path.name, dir_fd=dir_fd, follow_symlinks=False).st_mode & 0o7777
            backup = _create_backup(plan.path, plan.old_text, mode, dir_fd)
        temporary = f".{plan.path.name}.{secrets.token_hex(6)}.tmp"
        try:
            write_new_file(temporary, plan.new_text, mode, dir_fd)
            os.replace(temporary, plan.path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=dir_fd)
            raise
    return backup
