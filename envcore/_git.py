"""Read a git checkout's remote and HEAD from its files, without starting `git`.

Used for pip-exact `freeze` of editable installs and for a project identity that is the
same on every teammate's machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from envcore._files import read_text
from envcore.text import url_parts

_SECTION = re.compile(r'^\s*\[\s*remote\s+"(?P<name>[^"]+)"\s*\]\s*$')
_ANY_SECTION = re.compile(r"^\s*\[")
_URL_LINE = re.compile(r"^\s*url\s*=\s*(?P<url>.+?)\s*$")
_SCP_LIKE = re.compile(r"^(?P<user>[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>(?!//).+)$")


@dataclass(frozen=True, slots=True)
class GitCheckout:
    root: Path
    git_dir: Path

    def remotes(self) -> dict[str, str]:
        """Remote name → URL, in config order."""
        try:
            text = read_text(self.git_dir / "config", errors="replace")
        except OSError:
            return {}
        found: dict[str, str] = {}
        current: str | None = None
        for line in text.splitlines():
            section = _SECTION.match(line)
            if section:
                current = section.group("name")
                continue
            if _ANY_SECTION.match(line):
                current = None
                continue
            url = _URL_LINE.match(line)
            if current and url and current not in found:
                found[current] = url.group("url").strip('"')
        return found

    def remote_url(self) -> str | None:
        """`origin` if there is one, else the first remote (as pip chooses)."""
        remotes = self.remotes()
        if not remotes:
            return None
        return remotes.get("origin") or next(iter(remotes.values()))

    def head_commit(self) -> str | None:
        try:
            head = read_text(self.git_dir / "HEAD").strip()
        except OSError:
            return None
        if not head.startswith("ref:"):
            return head or None
        ref = head[4:].strip()
        try:
            return read_text(self.git_dir / ref).strip() or None
        except OSError:
            pass
        try:
            packed = read_text(self.git_dir / "packed-refs")
        except OSError:
            return None
        for line in packed.splitlines():
            sha, _, name = line.partition(" ")
            if name.strip() == ref:
                return sha
        return None


def find_checkout(path: Path) -> GitCheckout | None:
    """The git checkout containing `path` (a `.git` directory or a `.git` file with gitdir)."""
    for directory in (path, *path.parents):
        dot_git = directory / ".git"
        if dot_git.is_dir():
            return GitCheckout(directory, dot_git)
        if dot_git.is_file():
            try:
                pointer = read_text(dot_git).strip()
            except OSError:
                return None
            if pointer.startswith("gitdir:"):
                git_dir = Path(pointer[7:].strip())
                if not git_dir.is_absolute():
                    git_dir = (directory / git_dir).resolve()
                return GitCheckout(directory, git_dir)
    return None


def pip_url(remote: str) -> str:
    """A git remote as pip writes it after `git+`: scp-like becomes ssh://, paths file://."""
    if "://" in remote:
        return remote
    scp = _SCP_LIKE.match(remote)
    if scp and not Path(remote).exists():
        return f"ssh://{scp.group('user') or ''}{scp.group('host')}/{scp.group('path')}"
    return Path(remote).absolute().as_uri()


def strip_credentials(url: str) -> str:
    """Drop `user:password@` from a URL so it can be shared (identities, snapshots)."""
    if "://" not in url:
        scp = _SCP_LIKE.match(url)
        if scp:
            return f"{scp.group('host')}:{scp.group('path')}"
        return url
    parts = url_parts(url)  # no urllib: a malformed remote (`http://[`) never raises
    if parts is None:
        return url
    scheme, _, host, rest = parts
    return f"{scheme}://{host.lower()}{rest.partition('#')[0]}"
