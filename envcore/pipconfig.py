"""The settings `pip install` would use (index-url, extra-index-url, find-links, constraint,
pre, only-binary, ...), read as pip does, so uv can be told them and update checks ask the
indexes pip would ask.

pip merges its configuration files (global, user, site, then PIP_CONFIG_FILE) and the
PIP_* environment variables, then applies them by section: every `[global]` value first,
then every `[<command>]` value, then the environment, the last one winning. A list option
(extra-index-url, find-links, trusted-host) is whitespace-split and *replaces* the earlier
value rather than adding to it. We reproduce that, pip's quirks included.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.utils import canonicalize_name

from envcore._files import read_text
from envcore.errors import PipConfigError

__all__ = [
    "PYPI_SIMPLE_URL",
    "IndexConfig",
    "InstallConfig",
    "pip_config_files",
    "read_install_config",
    "read_pip_config",
]

#: pip's default index.
PYPI_SIMPLE_URL = "https://pypi.org/simple"

_WINDOWS = sys.platform == "win32"
_BASENAME = "pip.ini" if _WINDOWS else "pip.conf"
_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})
_FALSE = frozenset({"n", "no", "f", "false", "off", "0"})

#: Every long name (aliases too) of a `pip install` option that bears on what gets installed
#: -> (its main name, how pip's parser takes a configured value). "store_false" keeps pip's
#: quirk: the value is stored as written, so `no-build-isolation = no` *disables* isolation.
#: Options left out (verbosity, cache, timeouts, retries...) change how pip talks, not what
#: it installs.
_OPTIONS: dict[str, tuple[str, str]] = {
    "index-url": ("index-url", "store"),
    "pypi-url": ("index-url", "store"),
    "extra-index-url": ("extra-index-url", "append"),
    "find-links": ("find-links", "append"),
    "trusted-host": ("trusted-host", "append"),
    "no-index": ("no-index", "store_true"),
    "constraint": ("constraint", "append"),
    "build-constraint": ("build-constraint", "append"),
    "requirement": ("requirement", "append"),
    "editable": ("editable", "append"),
    "no-deps": ("no-deps", "store_true"),
    "no-dependencies": ("no-deps", "store_true"),
    "only-deps": ("only-deps", "store_true"),
    "only-dependencies": ("only-deps", "store_true"),
    "pre": ("pre", "store_true"),
    "no-binary": ("no-binary", "format"),
    "only-binary": ("only-binary", "format"),
    "prefer-binary": ("prefer-binary", "store_true"),
    "require-hashes": ("require-hashes", "store_true"),
    "no-build-isolation": ("no-build-isolation", "store_false"),
    "cert": ("cert", "store"),
    "client-cert": ("client-cert", "store"),
    "proxy": ("proxy", "store"),
    "keyring-provider": ("keyring-provider", "store"),
    "upgrade": ("upgrade", "store_true"),
    "upgrade-strategy": ("upgrade-strategy", "store"),
    "force-reinstall": ("force-reinstall", "store_true"),
    "ignore-installed": ("ignore-installed", "store_true"),
    "ignore-requires-python": ("ignore-requires-python", "store_true"),
    "uploaded-prior-to": ("uploaded-prior-to", "store"),
    "all-releases": ("all-releases", "store"),
    "only-final": ("only-final", "store"),
    "config-settings": ("config-settings", "store"),
    "target": ("target", "store"),
    "prefix": ("prefix", "store"),
    "root": ("root", "store"),
    "user": ("user", "store_true"),
}


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


@dataclass(frozen=True)
class InstallConfig:
    """What `pip install` takes from the configuration that bears on what it installs: the
    indexes (`index`), the options uv has a same-meaning flag for, and the names of the
    others that are set (`others`), for an installer that cannot honour them to refuse.

    `origins` maps each option that is set (by pip's main option name) to the file section
    or variable that set it last, for messages a user can act on.
    """

    index: IndexConfig = field(default_factory=IndexConfig)
    constraints: tuple[str, ...] = ()
    build_constraints: tuple[str, ...] = ()
    pre: bool = False
    #: pip's format control once every no-binary/only-binary value was applied in order.
    no_binary: frozenset[str] = frozenset()
    only_binary: frozenset[str] = frozenset()
    no_deps: bool = False
    require_hashes: bool = False
    build_isolation: bool = True
    cert: str | None = None
    keyring_provider: str | None = None
    upgrade_strategy: str | None = None
    others: tuple[str, ...] = ()
    origins: tuple[tuple[str, str], ...] = ()

    def origin(self, name: str) -> str:
        """Where option `name` was set (a file and section, or a PIP_ variable)."""
        return dict(self.origins).get(name, "")


def _format_control(value: str, target: set[str], other: set[str]) -> None:
    """pip's FormatControl.handle_mutual_excludes: `:all:` clears both sets, `:none:` the
    target, a name moves from the other set to the target."""
    new = value.split(",")
    while ":all:" in new:
        other.clear()
        target.clear()
        target.add(":all:")
        del new[: new.index(":all:") + 1]
        if ":none:" not in new:
            return
    for name in new:
        if name == ":none:":
            target.clear()
            continue
        other.discard(canonicalize_name(name))
        target.add(canonicalize_name(name))


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


def _boolean(value: str, name: str, origin: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise PipConfigError(f"{origin}: {name} must be yes/no, true/false or 1/0, not {value!r}")


def read_pip_config(
    environ: Mapping[str, str] = os.environ,
    *,
    config_files: Sequence[Path] | None = None,
    site_prefix: Path | str | None = None,
    command: str = "install",
) -> IndexConfig:
    """The index settings `pip <command>` would use with this environment (see
    `read_install_config`)."""
    return read_install_config(
        environ, config_files=config_files, site_prefix=site_prefix, command=command
    ).index


def _configured_items(
    environ: Mapping[str, str], files: Sequence[Path], command: str
) -> list[tuple[str, str, str]]:
    """(normalized key, value, origin) in the order pip applies them: `[global]`, then
    `[command]`, then PIP_* variables; per section a later file overrides an earlier one."""
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
    return [
        (key, value, origin)
        for items in (by_section["global"], by_section[command], env_items)
        for key, (value, origin) in items.items()
        if value  # pip drops empty values too
    ]


def read_install_config(
    environ: Mapping[str, str] = os.environ,
    *,
    config_files: Sequence[Path] | None = None,
    site_prefix: Path | str | None = None,
    command: str = "install",
) -> InstallConfig:
    """The settings `pip <command>` would take from its configuration in this environment.

    `config_files` replaces pip's global/user/site discovery (lowest precedence first);
    PIP_CONFIG_FILE from `environ` is still read after them, and PIP_CONFIG_FILE=os.devnull
    disables every file, as in pip. Raises PipConfigError for an unreadable file or a
    yes/no option whose value is not a boolean (pip refuses to run then too).
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
    values: dict[str, str | bool | tuple[str, ...]] = {}
    origins: dict[str, str] = {}
    no_binary: set[str] = set()
    only_binary: set[str] = set()
    for key, value, origin in _configured_items(environ, files, command):
        if key not in _OPTIONS:
            continue
        name, action = _OPTIONS[key]
        if action in ("store_true", "store_false"):
            values[name] = _boolean(value, key, origin)
        elif action == "append":
            values[name] = tuple(value.split())
        elif action == "format":
            target, other = (
                (no_binary, only_binary) if name == "no-binary" else (only_binary, no_binary)
            )
            _format_control(value.strip(), target, other)
        else:
            values[name] = value.strip()
        origins.pop(name, None)  # keep the order in which pip applied them
        origins[name] = origin
    return _install_config(values, no_binary, only_binary, origins)


def _install_config(
    values: Mapping[str, str | bool | tuple[str, ...]],
    no_binary: set[str],
    only_binary: set[str],
    origins: dict[str, str],
) -> InstallConfig:
    def text(name: str) -> str | None:
        value = values.get(name)
        return value if isinstance(value, str) else None

    def strings(name: str) -> tuple[str, ...]:
        value = values.get(name)
        return value if isinstance(value, tuple) else ()

    index_names = ("index-url", "extra-index-url", "find-links", "trusted-host", "no-index")
    index = IndexConfig(
        index_url=text("index-url") or PYPI_SIMPLE_URL,
        extra_index_urls=strings("extra-index-url"),
        find_links=strings("find-links"),
        trusted_hosts=strings("trusted-host"),
        no_index=values.get("no-index") is True,
        sources=tuple(dict.fromkeys(origins[name] for name in origins if name in index_names)),
    )
    typed = {
        *index_names,
        *("constraint", "build-constraint", "pre", "no-binary", "only-binary", "no-deps"),
        *("require-hashes", "no-build-isolation", "cert", "keyring-provider", "upgrade-strategy"),
    }
    # A flag set to false, or an empty list, is pip's default: nothing to honour.
    others = tuple(name for name in origins if name not in typed and values.get(name))
    return InstallConfig(
        index=index,
        constraints=strings("constraint"),
        build_constraints=strings("build-constraint"),
        pre=values.get("pre") is True,
        no_binary=frozenset(no_binary),
        only_binary=frozenset(only_binary),
        no_deps=values.get("no-deps") is True,
        require_hashes=values.get("require-hashes") is True,
        build_isolation=values.get("no-build-isolation") is not False,
        cert=text("cert"),
        keyring_provider=text("keyring-provider"),
        upgrade_strategy=text("upgrade-strategy"),
        others=others,
        origins=tuple(origins.items()),
    )
