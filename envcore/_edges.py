"""The edges of the dependency tree (envcore.tree): each installed distribution's
Requires-Dist evaluated for the environment's own interpreter, under the extra it belongs
to, as plain data the dashboard stores at scan time."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from envcore._pep508 import evaluate_marker
from envcore.distributions import parse_dependency
from envcore.errors import MarkerError

if TYPE_CHECKING:
    from packaging.specifiers import Specifier, SpecifierSet
    from packaging.version import Version

    from envcore.distributions import Distribution, Inventory

__all__ = ["ANY", "Dependency", "canonical", "first_of_each", "requirements_of"]

#: What pipdeptree prints for a requirement without a version specifier.
ANY = "Any"
#: The quoted values of a marker: the only extras under which a marker can hold.
_QUOTED = re.compile(r"""'([^']*)'|"([^"]*)\"""")


@dataclass(frozen=True, slots=True)
class Dependency:
    """One Requires-Dist entry that applies to the environment.

    `extra` is the requiring distribution's own extra it comes under ("" when it always
    applies); `extras` are the extras it asks of the dependency (`b[fast]`).
    """

    name: str
    required: str
    extras: tuple[str, ...] = ()
    extra: str = ""
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", canonical(self.name))

    def to_json(self) -> list[object]:
        """Compact, for a JSON column: `[name, required, extras, extra]`."""
        return [self.name, self.required, list(self.extras), self.extra]

    @classmethod
    def from_json(cls, data: Sequence[object]) -> Dependency:
        name, required, extras, extra = data
        if not isinstance(extras, list):
            raise TypeError("extras must be a list")
        return cls(str(name), str(required), tuple(str(e) for e in extras), str(extra))


def _marker_extras(marker_text: str) -> set[str]:
    from envcore._pep508 import canonical_name

    return {canonical_name(a or b) for a, b in _QUOTED.findall(marker_text) if a or b}


def _display_specifier(specifier: SpecifierSet) -> str:
    """pipdeptree's form of a specifier: its clauses by version, then operator
    (`!=0.5,>=1.0,<2`), each version normalised (`>=2023.03.6` is `>=2023.3.6`; `>=1`
    and `>=1.0` stay apart, as normalising keeps trailing zeros); "Any" when there are
    none. Remembered by text."""
    if not specifier:
        return ANY
    text = str(specifier)
    shown = _DISPLAYED.get(text)
    if shown is None:
        shown = _DISPLAYED[text] = _ordered(specifier)
    return shown


_DISPLAYED: dict[str, str] = {}


def _ordered(specifier: SpecifierSet) -> str:
    from envcore.versions import parse_version

    def order(clause: Specifier) -> tuple[int, Version | None, str]:
        version = parse_version(clause.version.removesuffix(".*"))
        return (0, version, clause.operator) if version is not None else (1, None, "")

    clauses = list(specifier)
    if len(clauses) == 1:
        return _clause(clauses[0])
    parsed = sorted((c for c in clauses if order(c)[0] == 0), key=order)
    return ",".join(map(_clause, parsed + [c for c in clauses if order(c)[0] == 1]))


def _clause(clause: Specifier) -> str:
    """One clause with its version normalised (a `.*` kept); `===` compares text, so its
    version is left as written."""
    from envcore.versions import parse_version

    if clause.operator == "===":
        return str(clause)
    wildcard = clause.version.endswith(".*")
    version = parse_version(clause.version.removesuffix(".*"))
    if version is None:
        return str(clause)
    return f"{clause.operator}{version}{'.*' if wildcard else ''}"


def _dependencies(
    dist: Distribution, marker_env: Mapping[str, str], verdicts: dict[tuple[str, str], bool]
) -> list[Dependency]:
    """`dist`'s Requires-Dist that apply here, with markers evaluated for the environment,
    each extra's entries under that extra (`extra == "fast"` holds only for `fast`).
    `verdicts` remembers each marker text's answer per extra: packages repeat a few.
    MarkerError when a marker cannot be evaluated."""
    found: list[Dependency] = []
    for text in dist.requires:
        requirement = parse_dependency(text)
        if requirement is None:  # pip and pipdeptree skip what they cannot parse
            continue
        extras = tuple(sorted(requirement.extras))
        required = _display_specifier(requirement.specifier)
        marker = requirement.marker
        if marker is None:
            found.append(Dependency(requirement.name, required, extras))
            continue
        marker_text = text.partition(";")[2]
        candidates = [""]
        if "extra" in marker_text:
            candidates += sorted(_marker_extras(marker_text))
        for extra in candidates:
            verdict = verdicts.get((marker_text, extra))
            if verdict is None:
                verdict = evaluate_marker(marker, {**marker_env, "extra": extra})
                verdicts[marker_text, extra] = verdict
            if verdict:
                found.append(Dependency(requirement.name, required, extras, extra))
                if not extra:
                    break  # true without an extra: it always applies
    return found


def requirements_of(inventory: Inventory) -> dict[str, tuple[Dependency, ...]]:
    """Each installed distribution's applicable dependencies, keyed by canonical name
    (the first distribution of a name, as on `sys.path`). One with a marker that cannot be
    evaluated has none, as pip reads none of them (`Inventory.unreadable_dependencies`
    says why)."""
    marker_env = inventory.environment.marker_environment()
    verdicts: dict[tuple[str, str], bool] = {}
    found: dict[str, tuple[Dependency, ...]] = {}
    for key, dist in first_of_each(inventory):
        try:
            found[key] = tuple(_dependencies(dist, marker_env, verdicts))
        except MarkerError:
            found[key] = ()
    return found


def first_of_each(inventory: Inventory) -> Iterator[tuple[str, Distribution]]:
    seen: set[str] = set()
    for dist in inventory.distributions:
        if dist.canonical_name not in seen:
            seen.add(dist.canonical_name)
            yield dist.canonical_name, dist


def canonical(name: str) -> str:
    from envcore._pep508 import canonical_name  # cached

    return canonical_name(name)
