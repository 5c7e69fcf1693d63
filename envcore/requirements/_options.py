"""Per-line options of pip's requirements format, and how a file's option lines combine.

The options part of a line is split like a shell would and read with the abbreviation
rules of Python's optparse, as pip's per-line parser does; the option lines of a file
and its includes then accumulate the way pip's finder applies them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from envcore.requirements._entry import RequirementsOptions
from envcore.requirements._text import clip

__all__ = [
    "LineOptions",
    "OptionError",
    "apply_exclusive",
    "combine_options",
    "flatten_settings",
    "parse_options",
]

_SHELL_SPECIAL = re.compile(r"['\"\\]")
_SHELL_SPACE = re.compile(r"[ \t\r\n]+")


class OptionError(ValueError):
    """A line's options are not what pip accepts; the message says why."""


@dataclass
class LineOptions:
    """What one line's options say, before they are applied (mutable while parsing)."""

    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    no_index: bool = False
    constraints: list[str] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    editables: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    binary_ops: list[tuple[str, str]] = field(default_factory=list)
    release_ops: list[tuple[str, str]] = field(default_factory=list)
    prefer_binary: bool = False
    require_hashes: bool = False
    no_require_hashes: bool = False
    pre: bool = False
    trusted_hosts: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    hashes: dict[str, list[str]] = field(default_factory=dict)
    config_settings: dict[str, str | list[str]] = field(default_factory=dict)


_STRONG_HASHES = ("sha256", "sha384", "sha512")
_FEATURES = (
    "fast-deps",
    "inprocess-build-deps",
    "venv-isolation",
    "truststore",
    "no-binary-enable-wheel-cache",
    "build-constraint",
)
#: option spelling -> (canonical key, takes a value)
_LONG = {
    "--index-url": ("index_url", True),
    "--pypi-url": ("index_url", True),
    "--extra-index-url": ("extra_index_urls", True),
    "--no-index": ("no_index", False),
    "--constraint": ("constraints", True),
    "--requirement": ("requirements", True),
    "--editable": ("editables", True),
    "--find-links": ("find_links", True),
    "--no-binary": ("no_binary", True),
    "--only-binary": ("only_binary", True),
    "--prefer-binary": ("prefer_binary", False),
    "--require-hashes": ("require_hashes", False),
    "--no-require-hashes": ("no_require_hashes", False),
    "--pre": ("pre", False),
    "--all-releases": ("all_releases", True),
    "--only-final": ("only_final", True),
    "--trusted-host": ("trusted_hosts", True),
    "--use-feature": ("features", True),
    "--hash": ("hashes", True),
    "--config-settings": ("config_settings", True),
}
_SHORT = {
    "-i": "--index-url",
    "-c": "--constraint",
    "-r": "--requirement",
    "-e": "--editable",
    "-f": "--find-links",
    "-C": "--config-settings",
}


def _shell_split(text: str) -> list[str]:
    if _SHELL_SPECIAL.search(text) is None:  # the common case needs no shlex machinery
        return [token for token in _SHELL_SPACE.split(text) if token]
    import shlex

    try:
        return shlex.split(text)
    except ValueError as exc:
        raise OptionError(f"cannot split options ({exc}): {clip(text)}") from exc


def _match_long(name: str) -> str:
    if name in _LONG:
        return name
    matches = [option for option in _LONG if option.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise OptionError(f"no such option: {clip(name)}")
    raise OptionError(f"ambiguous option: {clip(name)} ({', '.join(sorted(matches))}?)")


def parse_options(text: str) -> LineOptions:
    """Read an options string as pip's per-line option parser does; raises OptionError."""
    options = LineOptions()
    args = _shell_split(text)
    while args:
        arg = args.pop(0)
        if arg == "--":
            break  # everything after is positional, which pip ignores
        value: str | None
        if arg.startswith("--"):
            name, has_value, inline = arg.partition("=")
            option = _match_long(name)
            key, wants_value = _LONG[option]
            if not wants_value:
                if has_value:
                    raise OptionError(f"{option} option does not take a value")
                _apply(options, option, key, None)
                continue
            if has_value:
                value = inline
            elif args:
                value = args.pop(0)
            else:
                raise OptionError(f"{option} option requires 1 argument")
            _apply(options, option, key, value)
        elif arg.startswith("-") and len(arg) > 1:
            short = arg[:2]
            if short not in _SHORT:
                raise OptionError(f"no such option: {clip(short)}")
            option = _SHORT[short]
            if len(arg) > 2:
                value = arg[2:]
            elif args:
                value = args.pop(0)
            else:
                raise OptionError(f"{short} option requires 1 argument")
            _apply(options, short, _LONG[option][0], value)
        # Other positional words are ignored by pip, so they are here too.
    return options


def _apply(options: LineOptions, spelled: str, key: str, value: str | None) -> None:
    if value is None:
        setattr(options, key, True)
    elif key == "index_url":
        options.index_url = value
    elif key in {"no_binary", "only_binary"}:
        if value.startswith("-"):
            raise OptionError("--no-binary / --only-binary option requires 1 argument")
        options.binary_ops.append((key, value))
    elif key in {"all_releases", "only_final"}:
        if value.startswith("-"):
            raise OptionError("--all-releases / --only-final option requires 1 argument")
        options.release_ops.append((key, value))
    elif key == "features":
        if value not in _FEATURES:
            raise OptionError(f"option {spelled}: invalid choice: {clip(value)!r}")
        options.features.append(value)
    elif key == "hashes":
        algorithm, sep, digest = value.partition(":")
        if not sep:
            raise OptionError(
                f"arguments to {spelled} must be a hash name followed by a value, "
                "like --hash=sha256:abcde..."
            )
        if algorithm not in _STRONG_HASHES:
            raise OptionError(
                f"allowed hash algorithms for {spelled} are {', '.join(_STRONG_HASHES)}"
            )
        options.hashes.setdefault(algorithm, []).append(digest)
    elif key == "config_settings":
        name, sep, setting = value.partition("=")
        if not sep:
            raise OptionError(f"arguments to {spelled} must be of the form KEY=VAL")
        previous = options.config_settings.get(name)
        if previous is None:
            options.config_settings[name] = setting
        elif isinstance(previous, list):
            previous.append(setting)
        else:
            options.config_settings[name] = [previous, setting]
    else:
        target: list[str] = getattr(options, key)
        target.append(value)


def apply_exclusive(value: str, target: set[str], other: set[str]) -> None:
    """pip's `:all:` / `:none:` / names rule shared by --no-binary/--only-binary and releases."""
    names = value.split(",")
    while ":all:" in names:
        other.clear()
        target.clear()
        target.add(":all:")
        del names[: names.index(":all:") + 1]
        if ":none:" not in names:
            return
    for name in names:
        if name == ":none:":
            target.clear()
            continue
        canonical = canonicalize_name(name)
        other.discard(canonical)
        target.add(canonical)


def flatten_settings(settings: Mapping[str, str | list[str]]) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for key, value in settings.items():
        pairs.extend((key, item) for item in ([value] if isinstance(value, str) else value))
    return tuple(pairs)


def combine_options(lines: Sequence[LineOptions]) -> RequirementsOptions:
    """Apply option lines in order, the way pip's finder accumulates them."""
    index_url: str | None = None
    extra: list[str] = []
    no_index = pre = prefer_binary = require_hashes = no_require_hashes = False
    find_links: list[str] = []
    trusted: list[str] = []
    features: list[str] = []
    settings: list[tuple[str, str]] = []
    binary: dict[str, set[str]] = {"no_binary": set(), "only_binary": set()}
    releases: dict[str, set[str]] = {"all_releases": set(), "only_final": set()}
    for options in lines:
        no_index = no_index or options.no_index
        if options.index_url:
            index_url = options.index_url
        extra.extend(options.extra_index_urls)
        if options.find_links:  # pip uses the first -f of a line only
            find_links.append(options.find_links[0])
        trusted.extend(options.trusted_hosts)
        features.extend(f for f in options.features if f not in features)
        pre = pre or options.pre
        prefer_binary = prefer_binary or options.prefer_binary
        require_hashes = require_hashes or options.require_hashes
        no_require_hashes = no_require_hashes or options.no_require_hashes
        settings.extend(flatten_settings(options.config_settings))
        for kind, value in options.binary_ops:
            other = "only_binary" if kind == "no_binary" else "no_binary"
            apply_exclusive(value, binary[kind], binary[other])
        for kind, value in options.release_ops:
            other = "only_final" if kind == "all_releases" else "all_releases"
            apply_exclusive(value, releases[kind], releases[other])
    return RequirementsOptions(
        index_url=index_url,
        extra_index_urls=tuple(extra),
        no_index=no_index,
        find_links=tuple(find_links),
        trusted_hosts=tuple(trusted),
        pre=pre,
        prefer_binary=prefer_binary,
        only_binary=tuple(sorted(binary["only_binary"])),
        no_binary=tuple(sorted(binary["no_binary"])),
        all_releases=tuple(sorted(releases["all_releases"])),
        only_final=tuple(sorted(releases["only_final"])),
        require_hashes=require_hashes,
        no_require_hashes=no_require_hashes,
        use_feature=tuple(features),
        config_settings=tuple(settings),
    )
