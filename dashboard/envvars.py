"""Typed readers for envdash's environment variables; a bad value stops start-up with its name."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str, environ: Mapping[str, str] = os.environ) -> str:
    return environ.get(name, "").strip() or default


def env_int(
    name: str, default: int, *, low: int, high: int, environ: Mapping[str, str] = os.environ
) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise ImproperlyConfigured(f"{name} must be between {low} and {high}, not {value}")
    return value


def env_optional_int(
    name: str, *, low: int, high: int, environ: Mapping[str, str] = os.environ
) -> int | None:
    """A whole number, or None when the variable is unset or empty."""
    if not environ.get(name, "").strip():
        return None
    return env_int(name, 0, low=low, high=high, environ=environ)


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, not {raw!r}")


def env_choice(
    name: str, default: str, choices: frozenset[str], environ: Mapping[str, str] = os.environ
) -> str:
    value = env_str(name, default, environ).lower()
    if value not in choices:
        allowed = ", ".join(sorted(choices))
        raise ImproperlyConfigured(f"{name} must be one of {allowed}, not {value!r}")
    return value


def env_paths(name: str, environ: Mapping[str, str] = os.environ) -> list[Path]:
    """An os.pathsep-separated list of directories (empty when unset)."""
    raw = environ.get(name, "")
    return [Path(part).expanduser().absolute() for part in raw.split(os.pathsep) if part.strip()]


def database_from_url(url: str, *, sqlite_default: Path) -> dict[str, object]:
    """Translate `DATABASE_URL` into Django's DATABASES entry (PostgreSQL or SQLite)."""
    sqlite_options: dict[str, object] = {
        # IMMEDIATE: a writer takes the lock at BEGIN, so two writers queue on the busy
        # timeout instead of failing with "database is locked" half-way.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": sqlite_default,
            "OPTIONS": sqlite_options,
        }
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "envdash",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    if parts.scheme == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": Path(unquote(parts.path)) if parts.path else sqlite_default,
            "OPTIONS": sqlite_options,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with postgres:// or sqlite:///, not {parts.scheme!r}://"
    )


def private_file(path: Path) -> None:
    """Create `path` readable by its owner only, or make it so (for files envdash keeps
    secrets in, whatever the umask or the mode an earlier version left)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        if os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def secret_file(path: Path, nbytes: int) -> str:
    """The secret kept in `path`, or a new random one (`nbytes` of entropy) stored there with
    mode 0600; when another process (web server, worker) makes it first, theirs.

    The new secret is written to a private file of our own first and then linked into place:
    a link either makes `path` complete or fails because it exists, so no process ever reads
    a file that is created but not written yet (an empty secret)."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(nbytes))
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            os.unlink(draft)
        return path.read_text(encoding="ascii").strip()
