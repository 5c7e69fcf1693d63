"""packaging's PEP 508 objects, parsed once and shared: names, markers, specifiers, and
the one fast path for plain requirements.

Requirement lines, pyproject.toml entries and the Requires-Dist of every installed
distribution repeat the same few names, marker texts and specifier clauses: each is
parsed once per process here, and both the requirements reader and the distribution
inventory take them from this one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from packaging.markers import Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import Requirement
from packaging.specifiers import Specifier, SpecifierSet
from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from envcore.errors import MarkerError

__all__ = [
    "MARKER_ERRORS",
    "PlainParts",
    "canonical_name",
    "evaluate_marker",
    "holds_with_extras",
    "is_project_name",
    "marker",
    "marker_text",
    "normalized_specifier",
    "plain_parts",
    "requirement",
    "specifier_set",
]


def is_project_name(name: str) -> bool:
    """Whether `name` is a valid distribution name (PEP 508's rule, as packaging checks it)."""
    try:
        canonicalize_name(name, validate=True)
    except InvalidName:
        return False
    return True


_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
#: `name [extras] (specifiers) ; marker` and `name[extras]>=1,<2 ; marker`: almost every
#: requirement line and Requires-Dist entry. Whitespace is packaging's (spaces and tabs);
#: anything else (a URL, a stray character) is left to packaging's tokenizer.
_PLAIN = re.compile(
    rf"({_NAME})[ \t]*"
    rf"(?:\[[ \t]*({_NAME}(?:[ \t]*,[ \t]*{_NAME})*)?[ \t]*\][ \t]*)?"
    r"(?:\([ \t]*([^()]*?)[ \t]*\)|([<>=!~][^;()@\[]*?))?[ \t]*"
    r"(?:;[ \t]*(.*?)[ \t]*)?"
)
_EXTRAS_SPLIT = re.compile(r"[ \t]*,[ \t]*")
#: Whitespace packaging does not skip (a newline, a form feed, U+3000...).
_OTHER_SPACE = re.compile(r"[^\S \t]")


@dataclass(frozen=True, slots=True)
class PlainParts:
    """The pieces of a plain requirement, as written: `marker` is None without a `;`."""

    name: str
    extras: tuple[str, ...]
    specifier: str
    marker: str | None


def plain_parts(text: str) -> PlainParts | None:
    """The fast path past packaging's general parser: the parts of a plain requirement, or
    None when `text` needs that parser. The parts are not validated: a specifier or marker
    text still has to be parsed (`specifier_set`, `marker`), which raises as packaging would.
    """
    # `===` takes everything up to a space or `;` as its version, commas included.
    if "===" in text and "," in text:
        return None
    match = _PLAIN.fullmatch(text)
    if match is None or _OTHER_SPACE.search(text):
        return None
    name, extras, parenthesised, bare, marker_text = match.groups()
    return PlainParts(
        name,
        tuple(_EXTRAS_SPLIT.split(extras)) if extras else (),
        parenthesised or bare or "",
        marker_text,
    )


@lru_cache(maxsize=4096)
def requirement(text: str) -> Requirement:
    """A parsed PEP 508 requirement, shared (never change one)."""
    return Requirement(text)


@lru_cache(maxsize=1024)
def marker_text(text: str) -> str:
    """Normalised marker text (markers repeat a lot across a file: parse each once)."""
    return str(marker(text))


@lru_cache(maxsize=16384)
def canonical_name(name: str) -> NormalizedName:
    """canonicalize_name, cached: requirement lines and Requires-Dist repeat names a lot."""
    return canonicalize_name(name)


@lru_cache(maxsize=1024)
def marker(text: str) -> Marker:
    """A parsed marker, shared: files and packages repeat the same few marker texts."""
    return Marker(text)


@lru_cache(maxsize=8192)
def _specifier(clause: str) -> Specifier:
    """One clause (`>=1.2`): clauses recur far more than whole sets, across files and
    across the Requires-Dist of every package, and each keeps its parsed version."""
    return Specifier(clause)


@lru_cache(maxsize=4096)
def specifier_set(text: str) -> SpecifierSet:
    """Shared, so never change one (`prereleases`): the same texts recur everywhere.

    Same result as `SpecifierSet(text)`, built from the shared clauses.
    """
    return SpecifierSet(_specifier(clause.strip()) for clause in text.split(",") if clause.strip())


#: One clause with a release-only version (`==1.2.3`, `>= 2.0`): valid as written for
#: every operator but `~=`, which needs two release segments.
_PLAIN_CLAUSE = re.compile(r"\s*(==|!=|<=|>=|<|>|~=)\s*([0-9]+(?:\.[0-9]+)*)\s*")


@lru_cache(maxsize=4096)
def normalized_specifier(text: str) -> str:
    """`str(SpecifierSet(text))`, raising the same InvalidSpecifier.

    One plain clause (most lines of most files) is normalised by its text alone: the
    `Specifier` is only built when a version has to be compared against it.
    """
    if "," not in text:
        plain = _PLAIN_CLAUSE.fullmatch(text)
        if plain is not None and (plain.group(1) != "~=" or "." in plain.group(2)):
            return plain.group(1) + plain.group(2)
        clause = text.strip()
        return str(_specifier(clause)) if clause else ""
    return str(specifier_set(text))


#: What `Marker.evaluate` raises for a marker it parsed but cannot evaluate: `~=` beside
#: no version (`python_full_version ~= 'abc'`), a set-valued name on the left, a name the
#: environment lacks (`'1' ~= 'x'` looks up `x`). pip's own `pip check` warns
#: "Error parsing dependencies of NAME" and reads none of that distribution's
#: dependencies; `pip install -r` stops with a traceback.
MARKER_ERRORS = (UndefinedComparison, UndefinedEnvironmentName)


def evaluate_marker(
    parsed: Marker,
    environment: Mapping[str, str | AbstractSet[str]],
    *,
    context: Literal["metadata", "lock_file", "requirement"] = "metadata",
) -> bool:
    """`parsed.evaluate(environment)`, the one guarded evaluation every reader uses:
    MarkerError (one line, the marker and packaging's reason) where packaging raises."""
    try:
        return parsed.evaluate(environment, context=context)
    except MARKER_ERRORS as exc:
        reason = (
            f"{exc.args[0]!r} is not a marker variable here"
            if isinstance(exc, UndefinedEnvironmentName)
            else str(exc)
        )
        raise MarkerError(f"marker cannot be evaluated: {parsed} ({reason})") from exc


def holds_with_extras(
    parsed: Marker, environment: Mapping[str, str], extras: Iterable[str]
) -> bool:
    """Whether `parsed` holds with no extra or with one of `extras`, as pip evaluates a
    dependency's marker once per extra asked for; MarkerError as `evaluate_marker`."""
    return any(evaluate_marker(parsed, {**environment, "extra": extra}) for extra in ("", *extras))
