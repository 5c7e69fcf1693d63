"""Filesystem safety for the operations: allowed paths, directories moved aside (recorded in
a `Journal` first), locks, new files never written through a link, processes using an env.

A recreate moves the old environment aside (recorded in a `Journal` first) and holds an
exclusive `flock` on a file inside it for as long as it runs. The kernel drops that lock when
the process dies, however it dies, so a later `recover_interrupted` can tell a crashed
recreate (lock free: restore) from one still running in another worker (lock held: leave).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from envcore.environment import Environment, inspect_environment
from envcore.errors import EnvironmentBusyError, NotAnEnvironmentError, PathNotAllowedError
from envcore.ops.journal import Journal, JournalEntry, MoveKind, plan_move
from envcore.requirements import ParsedRequirements, load_requirements, roots_refusal
from envcore.text import shown_url

LOCK_NAME = ".envdash-operation.lock"
#: Open flags that refuse a symbolic link as the last part of a path.
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
#: The lock file is opened inside directories found on disk: never through a symlink, and
#: never waiting on whatever a planted name could open (a FIFO, a device).
_LOCK_FLAGS = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def inside_roots(path: Path, roots: Sequence[Path | str]) -> Path:
    """The real path of `path` when it lies strictly inside one of `roots`; refuse otherwise."""
    refusal = roots_refusal(path, roots, strictly=True)
    if refusal is None:
        return Path(os.path.realpath(path))
    shown = ", ".join(str(root) for root in roots) or "(none configured)"
    raise PathNotAllowedError(f"{path} {refusal} ({shown})")


def requirements_inside_roots(
    requirements: Path, roots: Sequence[Path | str], *, base_dir: Path | None = None
) -> None:
    """Refuse a requirements file that is, or includes (`-r`/`-c`), a file outside `roots`,
    or that names a local location outside them (`-e /elsewhere`, `--find-links ../x`).

    pip reads every include and quotes the lines it cannot parse: a planted `-r /etc/shadow`
    handed to pip would show that file in the job log; and it builds every directory a
    line names. Read with envcore first, which opens nothing outside the roots, and refuse
    before pip runs. `base_dir`: where pip will run (relative paths are resolved there).
    """
    parsed = load_requirements(requirements, roots=roots, base_dir=base_dir)
    if parsed.outside:
        raise PathNotAllowedError(
            f"{requirements} leads to {parsed.outside[0]}, which is outside the scan roots; "
            "envdash does not let pip read it (fix the file, or add a scan root)"
        )
    cwd = base_dir or Path(requirements).absolute().parent
    refusal = location_refusal(parsed, roots, cwd=cwd, finder=True)
    if refusal is not None:
        raise PathNotAllowedError(refusal)


#: A URL's scheme (`file:`, `git+file:`); a location without one is a path.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
#: pip's version-control schemes: `git+file:///repo` clones a local repository.
_VCS = ("git+", "hg+", "svn+", "bzr+")


def location_refusal(
    parsed: ParsedRequirements,
    roots: Sequence[Path | str] | None,
    *,
    cwd: Path,
    finder: bool = False,
) -> str | None:
    """Why the installer may not be given these requirements (None: it may): one line
    naming the first local location outside `roots` that an entry names, named or not,
    editable or not, under any source kind: a directory (its build backend runs), a
    repository (`git+file:`, cloned then built), an archive (built or read). With `finder`
    (pip reads the file itself, as `-r`), also `--find-links` and index URLs on disk.

    The rule: envdash never runs or reads anything just because a file on disk names it,
    only what lies inside the scan roots, what it recorded, or what the user chose. A
    relative location is resolved against both the file naming it and `cwd` (the
    installer's working directory): either may be how the installer reads it. Symlinks
    are resolved; a location is refused when any reading of it leads outside. Without
    roots (anywhere allowed) only a URL urllib refuses is, in one line, as the installers
    would refuse it after starting.
    """
    from envcore.locks import is_lock_file  # envcore.locks imports requirements: here

    for entry in parsed.entries:
        if entry.url is None:
            continue
        name = entry.name or "a project"
        where = (
            f"{entry.path} locks {name}"
            if is_lock_file(entry.path)
            else f"{entry.source} names {name}"
        )
        if not _is_url(entry.url):
            unusable = "which is no URL an installer could use (fix the file)"
            return f"{where} at {shown_url(entry.url)}, {unusable}"
        outside = None if roots is None else _outside(entry.url, (entry.path.parent, cwd), roots)
        if outside is not None:
            return f"{where} at {outside}, {_WHY}"
    if finder and roots is not None:
        options = parsed.options
        bases = (*(path.parent for path in parsed.files), cwd)
        for option, values in (
            ("--find-links", options.find_links),
            ("--index-url", (options.index_url,) if options.index_url else ()),
            ("--extra-index-url", options.extra_index_urls),
        ):
            for value in values:
                outside = _outside(value, bases, roots)
                if outside is not None:
                    return f"{parsed.files[0]} gives pip {option} {outside}, {_WHY}"
    return None


_WHY = (
    "which is outside the scan roots: the installer would build or read it there "
    "(fix the file, or add a scan root)"
)


def _is_url(location: str) -> bool:
    """Whether urllib can split `location`: what it refuses (`https://[bad/`, an unclosed
    IPv6 host) the installers refuse too, after starting."""
    try:
        urllib.parse.urlsplit(location)
    except ValueError:
        return False
    return True


def file_url_path(url: str) -> str | None:
    """The path a `file:` URL names (its authority, `?query` and `#fragment` dropped,
    percent-decoded), None for any other URL. A string splitter, never urllib's parser,
    which raises on what a hostile file may hold."""
    match = _SCHEME.match(url)
    if match is None or match.group(1).lower() != "file":
        return None
    return urllib.parse.unquote(
        _without_authority(re.split(r"[?#]", url[match.end() :], maxsplit=1)[0])
    )


def _without_authority(rest: str) -> str:
    """`//host/path` -> `/path` (the authority, `localhost` or any host, ends at "/")."""
    if not rest.startswith("//"):
        return rest
    slash = rest.find("/", 2)
    return rest[slash:] if slash >= 0 else "/"


def _outside(location: str, bases: Iterable[Path], roots: Sequence[Path | str]) -> str | None:
    """The first reading of `location` as a path on this machine that lies outside `roots`
    (None when it names none outside them, or is no local location at all)."""
    for path in sorted(_local_paths(location), key=len):  # `/repo` before `/repo@rev`
        candidates = [path] if os.path.isabs(path) else [os.path.join(b, path) for b in bases]
        for candidate in candidates:
            plain = os.path.normpath(os.path.abspath(candidate))
            if any(roots_refusal(form, roots) is not None for form in (plain, candidate)):
                real = os.path.realpath(candidate)
                return plain if real == plain else f"{plain} (really {real})"
    return None


def _local_paths(location: str) -> set[str]:
    """The paths a requirement's location may stand for on this machine: a plain path, a
    `file:` URL (also under a VCS scheme, with and without its `@revision`), read with and
    without percent-decoding and its `?query#fragment`; none for a remote URL. A string
    splitter, never urllib's parser: it refuses (raises on) what a hostile file may hold."""
    match = _SCHEME.match(location)
    if match is None:
        return {location} if location else set()
    scheme = match.group(1).lower()
    vcs = scheme.startswith(_VCS)
    if (scheme.partition("+")[2] if vcs else scheme) != "file":
        return set()
    rests = {location[match.end() :]}
    rests.add(re.split(r"[?#]", location[match.end() :], maxsplit=1)[0])
    paths: set[str] = set()
    for rest in rests:
        path = _without_authority(rest)
        paths.update({path, urllib.parse.unquote(path)})
    if vcs:
        paths.update({path.rpartition("@")[0] for path in paths if "@" in path})
    return {path for path in paths if path}


def checked_requirements(
    requirements: Path | str | None,
    roots: Sequence[Path | str] | None,
    *,
    base_dir: Path | None = None,
) -> None:
    """Refuse a requirements file an operation would hand to pip when it does not exist or
    (with `roots`) it or one of its includes, or a location it names, lies outside them
    (`base_dir`: where pip will run; the file's directory when None)."""
    if requirements is None:
        return
    if not Path(requirements).is_file():
        raise NotAnEnvironmentError(f"requirements file {requirements} does not exist")
    if roots is not None:
        requirements_inside_roots(Path(requirements), roots, base_dir=base_dir)


def confirmed_environment(path: Path) -> Environment:
    """A real directory (not a symlink) that is an environment by its own files."""
    if path.is_symlink():
        raise PathNotAllowedError(f"{path} is a symlink; give the environment's real directory")
    if not path.is_dir():
        raise NotAnEnvironmentError(f"{path} is not a directory")
    env = inspect_environment(path)
    if env.kind != "conda" and "home" not in env.config:
        raise NotAnEnvironmentError(f"{path} has no pyvenv.cfg with a 'home' entry")
    return env


@contextlib.contextmanager
def exclusive_lock(directory: Path) -> Iterator[Path]:
    """Hold the operation lock file inside `directory` (it follows the directory on rename)."""
    lock_file = directory / LOCK_NAME
    fd = os.open(lock_file, _LOCK_FLAGS | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise EnvironmentBusyError(
            f"another envdash operation is already changing {directory}"
        ) from exc
    try:
        yield lock_file
    finally:
        # Removed while still held, so the environment is left without our file in it.
        lock_file.unlink(missing_ok=True)
        os.close(fd)


def lock_is_free(directory: Path) -> bool:
    """True when no living process holds `directory`'s operation lock."""
    try:
        fd = os.open(directory / LOCK_NAME, _LOCK_FLAGS)
    except (FileNotFoundError, NotADirectoryError):  # nothing there can hold a lock
        return True
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def move_aside(kind: MoveKind, original: Path, journal: Journal) -> JournalEntry:
    """Rename `original` to a new nonce-named directory beside it (see `plan_move`),
    recorded in `journal` first so a crash at any point leaves a record of it (an entry
    whose rename never happened is harmless). Returns the entry, `moved` being the new name."""
    entry = plan_move(kind, original, journal.job_id)
    journal.record(entry)
    try:
        os.rename(entry.original, entry.moved)
    except BaseException:
        journal.forget(entry)
        raise
    return entry


def remove_tree(path: Path, journal: Journal) -> Path:
    """Rename to a trash name first (the environment vanishes at once), then remove it.

    `shutil.rmtree` works from file descriptors on Linux, so a symlink swapped in under it
    cannot make it delete outside the tree. The trash is recorded in `journal`, so recovery
    finishes the removal after a crash (with a `MemoryJournal` the trash stays for the user).
    """
    entry = move_aside("delete", path, journal)
    shutil.rmtree(entry.moved, onerror=ignore_vanished)
    journal.forget(entry)
    return entry.moved


def ignore_vanished(
    function: object, path: str, exc_info: tuple[type, BaseException, object]
) -> None:
    # Another cleaner (a recovering worker) may be removing the same trash concurrently.
    if not isinstance(exc_info[1], FileNotFoundError):
        raise exc_info[1]


@dataclass(frozen=True)
class ProcessUse:
    """A running process that uses an environment, and how (exe, argv, cwd or open file)."""

    pid: int
    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name} (pid {self.pid}): {self.reason}"


def _inside(candidate: str | None, real_root: str) -> bool:
    if not candidate or not os.path.isabs(candidate):
        return False
    return os.path.realpath(candidate).startswith(real_root + os.sep) or (
        # A venv's bin/python is a symlink to the base interpreter: compare unresolved too.
        os.path.normpath(candidate).startswith(real_root + os.sep)
    )


def processes_using(env_path: Path | str) -> tuple[ProcessUse, ...]:
    """Processes (that we may see) running from the environment or keeping files open in it."""
    import psutil  # only deleting asks: plans and installs start without loading it

    real_root = os.path.realpath(env_path)
    plain_root = os.path.normpath(os.path.abspath(env_path))
    found: list[ProcessUse] = []
    for process in psutil.process_iter(["pid", "name", "exe", "cmdline", "cwd"]):
        if process.pid == os.getpid():
            continue
        info = process.info
        reason = ""
        argv = info.get("cmdline") or []
        if any(_inside(info.get("exe"), root) for root in (real_root, plain_root)):
            reason = f"runs {info['exe']}"
        elif any(_inside(arg, root) for arg in argv[:2] for root in (real_root, plain_root)):
            reason = f"runs {' '.join(argv[:2])}"
        elif any(_inside(info.get("cwd"), root) for root in (real_root, plain_root)):
            reason = f"working directory {info['cwd']}"
        else:
            try:
                opened = [f.path for f in process.open_files()]
            except psutil.Error:
                opened = []
            hit = next((p for p in opened if _inside(p, real_root)), None)
            if hit:
                reason = f"has {hit} open"
        if reason:
            found.append(ProcessUse(process.pid, info.get("name") or "?", reason))
    return tuple(found)


def write_new_file(
    path: Path | str, text: str, mode: int = 0o600, dir_fd: int | None = None
) -> None:
    """Create `path` with `text` and `mode`; it must not exist, not even as a dangling link.

    Files envdash writes under the scan roots are created this way: a planted link with the
    same name makes this fail instead of writing wherever the link points.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o600, dir_fd=dir_fd)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fchmod(handle.fileno(), mode)
        os.fsync(handle.fileno())
