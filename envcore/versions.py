"""Versions and specifiers as envdash compares them: text in, a verdict out, never an error.

Installed metadata, index pages and stored rows hold version and specifier texts that may
not be PEP 440; these helpers say what pip would make of them instead of raising.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from envcore._pep508 import specifier_set

__all__ = ["is_version", "parse_specifier", "parse_version", "satisfies"]


@lru_cache(maxsize=16384)
def parse_version(text: str) -> Version | None:
    """The PEP 440 version, or None when the text is not one (shared: never change one)."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def is_version(text: str) -> bool:
    return parse_version(text) is not None


def parse_specifier(text: str) -> SpecifierSet | None:
    """The specifier set (shared: never change one), or None when the text is not one."""
    try:
        return specifier_set(text)
    except InvalidSpecifier:
        return None


def satisfies(specifier: SpecifierSet, version: str) -> bool:
    """Whether `version` is allowed, pre-releases included, as pip checks what is installed.

    A non-PEP 440 version can only match an arbitrary-equality (`===`) clause.
    """
    parsed = parse_version(version)
    if parsed is None:
        return specifier.contains(version, prereleases=True)
    return specifier.contains(parsed, prereleases=True)
