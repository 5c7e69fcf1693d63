"""What to watch so that a change to an environment on disk is noticed, without recursion.

An install, upgrade or removal creates or removes `*.dist-info` / `*.egg-info` / `.pth`
entries directly in site-packages, so one non-recursive watch per site-packages directory
sees it (one OS watch, where a recursive one costs hundreds). Beside it: the environment's
directory (pyvenv.cfg), its bin/Scripts directory (the interpreter link), the base
interpreter's directory (`home`), and the directories holding the project's requirement
files, whose events are filtered by file name. `mount_filesystems` tells which watched
directories sit on a network file system, where the OS's notifications miss changes made
elsewhere, so those are polled instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envcore.environment import Environment as EnvironmentFacts

__all__ = [
    "UNFRIENDLY_FILESYSTEMS",
    "Mount",
    "Role",
    "WatchSet",
    "Watched",
    "environment_paths",
    "filesystem_of",
    "is_watch_unfriendly",
    "parse_mountinfo",
    "read_mounts",
    "watch_paths",
]


class Role(Enum):
    """Why a directory is watched, which decides which of its entries matter."""

    SITE_PACKAGES = "site-packages"
    ENVIRONMENT = "environment"
    BIN = "bin"
    BASE_INTERPRETER = "base-interpreter"
    PROJECT = "project"
    #: The directory holding the environment: it being removed or made again.
    PARENT = "parent"


#: Entries of an environment's own directory whose change can change what a scan reads.
_ENVIRONMENT_NAMES = frozenset(
    {"pyvenv.cfg", "bin", "Scripts", "lib", "lib64", "Lib", "conda-meta", ".project"}
)
#: What an installer creates or removes directly in site-packages for every distribution.
_SITE_SUFFIXES = (".dist-info", ".egg-info", ".pth", ".egg-link", ".egg")
#: In a project directory, files that are (or may become) its requirements source, or that
#: a lock is judged fresh against (see envcore.requirements.source), besides pylock.*.toml.
_PROJECT_NAMES = frozenset(
    {
        "requirements.txt",
        "pyproject.toml",
        "requirements",
        "uv.lock",
        "poetry.lock",
        "Pipfile",
        "Pipfile.lock",
        "pylock.toml",
        "tox.ini",
        "tox.toml",
        "setup.cfg",
    }
)
_INTERPRETER_NAME = re.compile(r"^(?:python|pypy)[\d.]*t?(?:\.exe)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Watched:
    """One directory watched non-recursively, for one environment, in one role.

    `names`: the entries that matter in a PROJECT directory (requirement files); the
    other roles decide by kind of name (see `WatchSet.owners`).
    """

    directory: Path
    role: Role
    environment: Path
    names: frozenset[str] = field(default_factory=frozenset)


def watch_paths(
    environment: Path,
    *,
    site_packages: Iterable[Path] = (),
    bin_dir: Path | None = None,
    home: Path | None = None,
    project: Path | None = None,
    requirement_files: Iterable[Path] = (),
) -> tuple[Watched, ...]:
    """The directories to watch for one environment, as far as it is known.

    `requirement_files`: the files its drift was computed from (a requirements file and
    what it includes, or a pyproject.toml); `project`: its project directory, where a new
    requirements file would be looked for.
    """
    found = [Watched(Path(path), Role.SITE_PACKAGES, environment) for path in site_packages]
    found.append(Watched(environment, Role.ENVIRONMENT, environment))
    found.append(
        Watched(environment.parent, Role.PARENT, environment, frozenset({environment.name}))
    )
    if bin_dir is not None:
        found.append(Watched(bin_dir, Role.BIN, environment))
    if home is not None:
        found.append(Watched(home, Role.BASE_INTERPRETER, environment))
    by_directory: dict[Path, set[str]] = {}
    if project is not None:
        by_directory.setdefault(project, set()).update(_PROJECT_NAMES)
        by_directory.setdefault(project / "requirements", set())  # its *.txt (see owners)
    for file in requirement_files:
        path = Path(file)
        by_directory.setdefault(path.parent, set()).add(path.name)
    found += [
        Watched(directory, Role.PROJECT, environment, frozenset(names))
        for directory, names in by_directory.items()
    ]
    return tuple(found)


def environment_paths(
    facts: EnvironmentFacts, requirement_files: Iterable[Path] = ()
) -> tuple[Watched, ...]:
    """`watch_paths` for an inspected environment (see envcore.environment)."""
    return watch_paths(
        facts.path,
        site_packages=facts.site_packages,
        bin_dir=facts.interpreter.parent,
        home=facts.home if facts.home in _link_directories(facts.interpreter) else None,
        project=facts.project,
        requirement_files=requirement_files,
    )


def _link_directories(interpreter: Path, hops: int = 8) -> set[Path]:
    """The directories the interpreter's link chain passes through (read, never run): a
    pyvenv.cfg's `home` is watched only when it really holds the interpreter, so a planted
    `home = /proc` or a huge directory costs nothing."""
    seen: set[Path] = set()
    current = interpreter
    for _ in range(hops):
        try:
            target = Path(os.readlink(current))
        except OSError:  # not a link (or gone): the chain ends here
            break
        current = target if target.is_absolute() else current.parent / target
        seen.add(Path(os.path.normpath(current.parent)))
    return seen


def _matters(watched: Watched, name: str) -> bool:
    if watched.role is Role.SITE_PACKAGES:
        return name.endswith(_SITE_SUFFIXES)
    if watched.role is Role.ENVIRONMENT:
        return name in _ENVIRONMENT_NAMES
    if watched.role in {Role.BIN, Role.BASE_INTERPRETER}:
        return bool(_INTERPRETER_NAME.match(name))
    if watched.role is Role.PARENT:
        return name in watched.names
    if name in watched.names:
        return True
    if "pylock.toml" in watched.names and name.startswith("pylock.") and name.endswith(".toml"):
        return name.count(".") == 2  # pylock.NAME.toml (PEP 751) in the project's directory
    # requirements/*.txt, where find_requirements_source looks when there is no top file
    return watched.directory.name == "requirements" and name.endswith(".txt")


class WatchSet:
    """Every watched directory and which environments a change in it concerns."""

    def __init__(self, watched: Iterable[Watched]) -> None:
        self._by_directory: dict[str, list[Watched]] = {}
        for item in watched:
            self._by_directory.setdefault(os.fspath(item.directory), []).append(item)

    @property
    def directories(self) -> tuple[str, ...]:
        """The watched directories, each once, sorted."""
        return tuple(sorted(self._by_directory))

    def environments(self) -> frozenset[Path]:
        return frozenset(w.environment for ws in self._by_directory.values() for w in ws)

    def owners(self, changed: str) -> frozenset[Path]:
        """The environments a change to `changed` (a watched directory or an entry directly
        in one) may have changed; empty when it does not matter (a `__pycache__`, an
        editor's swap file beside requirements.txt)."""
        hit = self._by_directory.get(changed)
        owners: set[Path] = set()
        if hit is not None:  # the watched directory itself: created, removed, renamed
            owners.update(item.environment for item in hit)
        parent, _, name = changed.rpartition(os.sep)
        for item in self._by_directory.get(parent or os.sep, ()):
            if _matters(item, name):
                owners.add(item.environment)
        return frozenset(owners)

    def __len__(self) -> int:
        return len(self._by_directory)


# --- mounts: which file systems the OS's notifications do not cover -------------------

#: File systems where a change made by another machine raises no local notification.
UNFRIENDLY_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "beegfs",
        "davfs",
        "ncpfs",
        "coda",
        "virtiofs",
        "vboxsf",
        "vmhgfs",
        "fuse.sshfs",
        "fuse.glusterfs",
        "fuse.cephfs",
        "fuse.ceph-fuse",
        "fuse.rclone",
        "fuse.s3fs",
        "fuse.davfs2",
        "fuse.gcsfuse",
        "fuse.vmhgfs-fuse",
        "fuse.juicefs",
    }
)


def is_watch_unfriendly(fstype: str) -> bool:
    return fstype.lower() in UNFRIENDLY_FILESYSTEMS


@dataclass(frozen=True)
class Mount:
    point: str
    fstype: str


_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(field_text: str) -> str:
    """The kernel writes space, tab, newline and backslash in mount points as \\ooo."""
    raw = _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field_text)
    # Octal escapes stand for bytes; the path itself is bytes in the file system encoding.
    return os.fsdecode(raw.encode("latin-1", "surrogateescape"))


def parse_mountinfo(text: str) -> tuple[Mount, ...]:
    """Mount points and file system types from /proc/self/mountinfo (proc(5)); lines that
    do not have its shape are skipped."""
    mounts: list[Mount] = []
    # "\n" only: the text is bytes read as latin-1, where splitlines() would also split
    # at a UTF-8 name's 0x85 or 0x1c byte.
    for line in text.split("\n"):
        fields = line.split(" ")
        try:
            separator = fields.index("-", 6)
        except ValueError:
            continue
        if len(fields) < 7 or separator + 1 >= len(fields):
            continue
        mounts.append(Mount(_unescape(fields[4]), fields[separator + 1]))
    return tuple(mounts)


def read_mounts(path: Path = Path("/proc/self/mountinfo")) -> tuple[Mount, ...]:
    """This process's mounts; none where the file does not exist (not Linux)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return ()
    return parse_mountinfo(raw.decode("latin-1"))


def filesystem_of(path: str, mounts: Sequence[Mount] | Mapping[str, str]) -> str:
    """The type of the file system `path` (absolute, resolved) is on: the mount with the
    longest mount point that contains it (a later mount on the same point hides earlier
    ones); "" when none does."""
    points = mounts if isinstance(mounts, Mapping) else {m.point: m.fstype for m in mounts}
    best, fstype = -1, ""
    for point, kind in points.items():
        inside = point in {"/", path} or path.startswith(point.rstrip(os.sep) + os.sep)
        if inside and len(point) > best:
            best, fstype = len(point), kind
    return fstype
