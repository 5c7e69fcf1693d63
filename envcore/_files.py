"""The one way envcore reads a file found under the scan roots: never blocks, never unbounded.

Anyone can plant a FIFO, a link to `/dev/zero` or a 3 GB sparse file where a requirements
file or a package's METADATA is expected. A plain `open()` of a FIFO waits forever for a
writer (hanging every worker), and `read()` of a device or a huge file fills the memory.
So every reader of scanned content goes through `read_bytes`/`read_text`: the file is
opened without blocking, must be a regular file, and is read up to a size limit. A
refusal is an OSError whose `strerror` is a one-line reason, so each caller's existing
"cannot read X: reason" handling reports it like any other unreadable file.

Where from: `within_roots` is the one "inside the scan roots" check (symlinks resolved),
here rather than in `envcore.requirements` so linking an environment to its project
(`scan`) asks it without loading the requirement parsers.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path

#: Requirements and constraints files, pyproject.toml, lock files, pyvenv.cfg, git files,
#: direct_url.json, WHEEL, INSTALLER: the largest real ones are a few hundred KiB.
TEXT_LIMIT = 10 * 1024 * 1024
#: The header block of METADATA / PKG-INFO: real ones stay under 1 MiB, but some packages
#: put megabytes of description or classifiers there.
METADATA_LIMIT = 64 * 1024 * 1024

_CHUNK = 16384
_FLAGS = os.O_RDONLY
for _flag in ("O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC"):  # POSIX only; Windows has no FIFOs
    _FLAGS |= getattr(os, _flag, 0)
_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _mib(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB"


def _refuse(path: str | os.PathLike[str], code: int, reason: str) -> OSError:
    return OSError(code, reason, os.fspath(path))


def _open_regular(
    path: str | os.PathLike[str], limit: int | None, dir_fd: int | None, follow: bool
) -> int:
    """An open fd of a regular file of at most `limit` bytes; anything else is refused.

    O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer; the
    fstat of the fd (not of the name, which could have been swapped) then refuses it.
    """
    flags = _FLAGS if follow else _FLAGS | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, dir_fd=dir_fd)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "a special file")
            raise _refuse(path, errno.EINVAL, f"not a regular file ({kind})")
        if limit is not None and info.st_size > limit:
            raise _refuse(path, errno.EFBIG, f"larger than {_mib(limit)}")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _has_blank_line(data: bytearray, start: int) -> bool:
    """Only the newest chunk (and 3 bytes before it) can complete a blank line: searching
    all of `data` after each chunk made a header block without one quadratic to read."""
    return data.find(b"\n\n", start) != -1 or data.find(b"\r\n\r\n", start) != -1


def read_bytes(
    path: str | os.PathLike[str],
    limit: int = TEXT_LIMIT,
    *,
    until_blank_line: bool = False,
    dir_fd: int | None = None,
    follow_symlinks: bool = True,
) -> bytes:
    """A regular file's bytes; more than `limit` of them is an OSError, never a truncation.

    With `until_blank_line`, only the header block of a metadata file is wanted: reading
    stops after the chunk that completes a blank line, and the limit applies to the header
    block, not to the file (the description after it may be any size).
    `dir_fd` and `follow_symlinks` are those of os.open (False: a link is ELOOP).
    Raises OSError like open() does, and for a file that is not regular or is too large.
    """
    fd = _open_regular(path, None if until_blank_line else limit, dir_fd, follow_symlinks)
    try:
        data = bytearray(os.read(fd, _CHUNK))
        complete = False
        # A short read of a regular file is its end: no second read just to learn that
        # (this runs for every installed package).
        while len(data) % _CHUNK == 0 and data and len(data) <= limit:
            if until_blank_line and _has_blank_line(data, max(0, len(data) - _CHUNK - 3)):
                complete = True
                break
            more = os.read(fd, _CHUNK)
            if not more:
                break
            data += more
        if len(data) > limit and not complete:
            raise _refuse(path, errno.EFBIG, f"larger than {_mib(limit)}")
        return bytes(data)
    finally:
        os.close(fd)


def read_text(
    path: str | os.PathLike[str],
    limit: int = TEXT_LIMIT,
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
) -> str:
    """`Path.read_text` for scanned content: `read_bytes` then decode (UnicodeDecodeError
    as before); universal newlines are not applied, as `splitlines()` callers need none."""
    return read_bytes(path, limit).decode(encoding, errors)


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
