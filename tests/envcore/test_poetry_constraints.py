"""poetry's constraint language translated to PEP 440 as poetry-core translates it: the
translation must allow exactly the versions poetry-core's own PEP 440 rendering allows
(`Dependency(...).to_pep_508()`, an `||` split into its alternatives), for generated
constraints and versions. poetry-core is the oracle only: envcore never imports it."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from poetry.core.constraints.version import Version as PoetryVersion
from poetry.core.constraints.version import parse_constraint
from poetry.core.factory import Factory
from poetry.core.packages.dependency import Dependency

from envcore.requirements._poetry import poetry_alternatives, python_marker

_release = st.lists(st.integers(0, 3), min_size=1, max_size=4).map(
    lambda parts: ".".join(map(str, parts))
)
_suffix = st.sampled_from(["", "", "", "a1", "b2", "rc1", ".post1", ".dev0", "a1.dev1"])
versions = st.builds(lambda release, suffix: release + suffix, _release, _suffix)
_operator = st.sampled_from(["^", "~", "~=", "==", "!=", ">=", "<=", ">", "<", "", "="])
single = st.one_of(
    st.builds(lambda op, v: op + v, _operator, versions),
    st.builds(lambda op, v: f"{op}{v}.*", st.sampled_from(["", "==", "!="]), _release),
    st.sampled_from(["*", "x", "1.x"]),
)
and_group = st.lists(single, min_size=1, max_size=3).flatmap(
    lambda parts: st.sampled_from([",", ", ", " "]).map(lambda joiner: joiner.join(parts))
)
constraints = st.lists(and_group, min_size=1, max_size=3).flatmap(
    lambda groups: st.sampled_from([" || ", "||", " | "]).map(lambda j: j.join(groups))
)


def _oracle(constraint: str) -> list[SpecifierSet] | None:
    """poetry-core's PEP 440 rendering of the constraint it parsed (`str()` of its
    VersionConstraint, an `||` split into alternatives); None when that is no PEP 440 at
    all (an empty range). `Dependency.to_pep_508()` is not used for unions: it splits the
    written text at its commas across the `||` (`^1 || ^0,^0`) and renders another set."""
    try:
        return [SpecifierSet(part) for part in str(parse_constraint(constraint)).split(" || ")]
    except InvalidSpecifier:
        return None


def test_the_oracle_is_to_pep_508_where_that_is_one_specifier_set() -> None:
    for constraint in ("^1.2", "~1.2.3", ">=1,<2", "1.*", "!=1.5", "^0.0.3"):
        rendered = Dependency("x", constraint).to_pep_508()
        assert [SpecifierSet(rendered[3:-1])] == _oracle(constraint)


def _allows(sets: list[SpecifierSet], version: str) -> bool:
    return any(s.contains(version, prereleases=True) for s in sets)


def _boundaries(constraint: str) -> set[str]:
    """Versions at and around every version the constraint names."""
    found = set()
    for token in constraint.replace(",", " ").replace("|", " ").split():
        bare = token.lstrip("^~=!<>").removesuffix(".*")
        if not bare or bare[0] not in "0123456789":
            continue
        base = bare.split("a")[0].split("b")[0].split("rc")[0].split(".post")[0]
        base = base.split(".dev")[0]
        parts = [int(p) for p in base.split(".")]
        for index in range(len(parts)):
            bumped = [*parts[:index], parts[index] + 1]
            found.add(".".join(map(str, bumped)))
        for suffix in ("", ".dev0", "a1", ".post1", ".0", ".0.1"):
            found.add(base + suffix)
        found.add(bare)
    return found


@settings(max_examples=600, deadline=None)
@given(constraints, st.lists(versions, max_size=12))
# Found by this test: `!=V` beside an inclusive bound at V (poetry-core renders `>1`, `<2`).
@example("0.* || ^1,!=1", [])
@example("<=2,!=2", ["2.dev0"])
@example("~=1.0,!=1.0.0 || >=3,!=3a1,!=3", ["3.post1", "1.0.post1"])
def test_the_translation_allows_what_poetry_cores_rendering_allows(
    constraint: str, extra_versions: list[str]
) -> None:
    try:
        parse_constraint(constraint)
    except ValueError:
        with pytest.raises(ValueError):
            poetry_alternatives(constraint)
        return
    oracle = _oracle(constraint)
    ours = [SpecifierSet(text) for text in poetry_alternatives(constraint)]
    for version in sorted(_boundaries(constraint) | set(extra_versions)):
        if oracle is not None:
            expected = _allows(oracle, version)
        else:  # poetry-core rendered no PEP 440 (an empty range): its own verdict
            expected = parse_constraint(constraint).allows(PoetryVersion.parse(version))
        assert _allows(ours, version) == expected, (constraint, version, oracle)


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("^1.2.3", (">=1.2.3,<2.0.0",)),
        ("^0.2.3", (">=0.2.3,<0.3.0",)),
        ("^0.0.3", (">=0.0.3,<0.0.4",)),
        ("^0.0", (">=0.0,<0.1",)),
        ("^0", (">=0,<1",)),
        ("~1.2.3", (">=1.2.3,<1.3.0",)),
        ("~1", (">=1,<2",)),
        ("~=1", (">=1,<2",)),
        ("1.2.*", ("==1.2.*",)),
        ("*", ("",)),
        (">=1,<2 || >=3", (">=1,<2", ">=3")),
        ("^1.0 || ^3.0", (">=1.0,<2.0", ">=3.0,<4.0")),
        ("<>1.0", ("==1.0",)),  # poetry-core's own reading: only `!=` excludes
    ],
)
def test_documented_forms(constraint: str, expected: tuple[str, ...]) -> None:
    assert poetry_alternatives(constraint) == expected


PYTHONS = [
    f"{major}.{minor}.{micro}"
    for major, minor, micro in itertools.product([2, 3], range(0, 14), [0, 1, 5])
]


def _poetry_python_marker(constraint: str) -> str:
    dependency = Factory.create_dependency("x", {"version": "*", "python": constraint})
    text = dependency.to_pep_508()
    return text.split(";", 1)[1].strip() if ";" in text else ""


@pytest.mark.parametrize(
    "constraint",
    [
        "^3.8",
        "~3.8",
        ">=3.8,<3.11",
        "<=3.10",
        ">3.10",
        "3.8.*",
        ">=3.8.1",
        "^2.7 || ^3.6",
        "<3",
        "!=3.10",
        "==3.9",
        "~=3.9",
    ],
)
def test_a_python_constraint_is_the_marker_poetry_core_makes(constraint: str) -> None:
    ours, theirs = python_marker(constraint), _poetry_python_marker(constraint)
    for full in PYTHONS:
        environment = {"python_full_version": full, "python_version": full.rsplit(".", 1)[0]}
        assert Marker(ours).evaluate(environment) == Marker(theirs).evaluate(environment), (
            full,
            ours,
            theirs,
        )
