"""The index settings pip would use (index-url, extra-index-url, find-links, ...), read as pip does.

pip merges its configuration files (global, user, site, then PIP_CONFIG_FILE) and the
PIP_* environment variables, then applies them by section: every `[global]` value first,
then every `[<command>]` value, then the environment, the last one winning. A list option
(extra-index-url, find-links, trusted-host) is whitespace-split and *replaces* the earlier
value rather than adding to it. We reproduce that so envdash asks the indexes pip would ask.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from envcore._files import read_text
from envcore.errors import PipConfigError

__all__ = ["PYPI_SIMPLE_URL", "IndexConfig", "pip_config_files", "read_pip_config"]

#: pip's default index.
PYPI_SIMPLE_URL = "https://pypi.org/simple"

_WINDOWS = sys.platform == "win32"
_BASENAME = "pip.ini" if _WINDOWS else "pip.conf"
_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})
_FALSE = frozenset({"n", "no", "f", "false", "off", "0"})

#: Config key (pip's long option name, aliases included) -> our field.
_KEYS = {
    "index-url": "index_url",
    "pypi-url": "index_url",
    "extra-index-url": "extra_index_urls",
    "find-links": "find_links",
    "trusted-host": "trusted_hosts",
    "no-index": "no_index",
}
_LIST_FIELDS = frozenset({"extra_index_urls", "find_links", "trusted_hosts"})


@dataclass(frozen=True)
class IndexConfig:
    """Where packages come from; `sources` records which files and variables contributed."""

    index_url: str = PYPI_SIMPLE_URL
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    no_index: bool = False
    sources: tuple[str, ...] = ()

    @property
    def index_urls(self) -> tuple[str, ...]:
        """The simple-API roots to query, in pip's order; none under --no-index."""
        if self.no_index:
            return ()
        return (self.index_url, *self.extra_index_urls)

    def with_overrides(
        self,
        *,
        index_url: str | None = None,
        extra_index_urls: Sequence[str] | None = None,
        find_links: Sequence[str] | None = None,
        trusted_hosts: Sequence[str] | None = None,
        no_index: bool | None = None,
    ) -> IndexConfig:
        """A copy with the given settings replaced (None keeps the configured value).

        Like a pip command-line option, an override replaces the configured list.
        """
        changes: dict[str, object] = {}
        if index_url is not None:
            changes["index_url"] = index_url
        if extra_index_urls is not None:
            changes["extra_index_urls"] = tuple(extra_index_urls)
        if find_links is not None:
            changes["find_links"] = tuple(find_links)
        if trusted_hosts is not None:
            changes["trusted_hosts"] = tuple(trusted_hosts)
        if no_index is not None:
            changes["no_index"] = no_index
        if not changes:
            return self
        return replace(self, **changes, sources=(*self.sources, "overrides"))  # type: ignore[arg-type]


def _home(environ: Mapping[str, str]) -> Path:
    home = environ.get("USERPROFILE" if _WINDOWS else "HOME")
    return Path(home) if home else Path.home()


def pip_config_files(
    environ: Mapping[str, str] = os.environ, *, site_prefix: Path | str | None = None
) -> list[Path]:
    """pip's global, user and site files, lowest precedence first (PIP_CONFIG_FILE excluded).

    The site file belongs to the environment being managed (`site_prefix`), not to the
    interpreter running envdash, because that is the pip that will install into it.
    User files are skipped when PIP_CONFIG_FILE names an existing file, as pip does.
    """
    home = _home(environ)
    files: list[Path] = []
    if _WINDOWS:
        program_data = environ.get("ALLUSERSPROFILE", r"C:\ProgramData")
        files.append(Path(program_data) / "pip" / _BASENAME)
    elif sys.platform == "darwin":
        files.append(Path("/Library/Application Support/pip") / _BASENAME)
    else:
        xdg_dirs = environ.get("XDG_CONFIG_DIRS", "").strip() or "/etc/xdg"
        files.extend(Path(d) / "pip" / _BASENAME for d in xdg_dirs.split(os.pathsep) if d)
        files.append(Path("/etc") / _BASENAME)
    env_file = environ.get("PIP_CONFIG_FILE")
    if not (env_file and os.path.exists(env_file)):
        files.append(home / ("pip" if _WINDOWS else ".pip") / _BASENAME)
        files.append(_user_config_dir(environ, home) / _BASENAME)
    if site_prefix is not None:
        files.append(Path(site_prefix) / _BASENAME)
    return files


def _user_config_dir(environ: Mapping[str, str], home: Path) -> Path:
    if _WINDOWS:
        appdata = environ.get("APPDATA")
        return Path(appdata) / "pip" if appdata else home / "AppData" / "Roaming" / "pip"
    if sys.platform == "darwin":
        support = home / "Library" / "Application Support" / "pip"
        return support if support.is_dir() else home / ".config" / "pip"
    xdg_home = environ.get("XDG_CONFIG_HOME", "").strip()
    return (Path(xdg_home) if xdg_home else home / ".config") / "pip"


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-").removeprefix("--")


def _read_file(path: Path) -> dict[str, dict[str, str]]:
    """{section: {normalized key: value}}; a missing file is an empty one, as for pip."""
    parser = configparser.RawConfigParser()
    parser.optionxform = _normalize  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(read_text(path), str(path))
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        return {}
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PipConfigError(f"pip configuration file {path} cannot be read: {reason}") from exc
    return {section: dict(parser.items(section)) for section in parser.sections()}


def _boolean(value: str, origin: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise PipConfigError(f"{origin}: no-index must be yes/no, true/false or 1/0, not {value!r}")


def read_pip_config(
    environ: Mapping[str, str] = os.environ,
    *,
    config_files: Sequence[Path] | None = None,
    site_prefix: Path | str | None = None,
    command: str = "install",
) -> IndexConfig:
    """The index settings `pip <command>` would use with this environment.

    `config_files` replaces pip's global/user/site discovery (lowest precedence first);
    PIP_CONFIG_FILE from `environ` is still read after them, and PIP_CONFIG_FILE=os.devnull
    disables every file, as in pip. Raises PipConfigError for an unreadable file or a
    no-index value that is not a boolean.
    """
    env_file = environ.get("PIP_CONFIG_FILE")
    files: list[Path] = []
    if env_file != os.devnull:
        if config_files is None:
            files = pip_config_files(environ, site_prefix=site_prefix)
        else:
            files = list(config_files)
        if env_file:
            files.append(Path(env_file))
    # Per section, later files override earlier ones; then sections apply in pip's order.
    by_section: dict[str, dict[str, tuple[str, str]]] = {"global": {}, command: {}}
    for path in files:
        for section, section_items in _read_file(path).items():
            if section in by_section:
                for key, value in section_items.items():
                    by_section[section][key] = (value, f"{path} [{section}]")
    env_items: dict[str, tuple[str, str]] = {}
    for name, value in environ.items():
        if name.startswith("PIP_"):
            env_items[_normalize(name[4:])] = (value, name)
    values: dict[str, object] = {}
    sources: list[str] = []
    for items in (by_section["global"], by_section[command], env_items):
        for key, (value, origin) in items.items():
            field_name = _KEYS.get(key)
            if field_name is None or not value:  # pip drops empty values too
                continue
            if field_name in _LIST_FIELDS:
                values[field_name] = tuple(value.split())
            elif field_name == "no_index":
                values[field_name] = _boolean(value, origin)
            else:
                values[field_name] = value.strip()
            if origin not in sources:
                sources.append(origin)
    return IndexConfig(**values, sources=tuple(sources))  # type: ignore[arg-type]
