"""The Install box: PEP 508 requirements one per line or separated by spaces, where a comma
inside a specifier belongs to it (`requests>=2.32,<3`), and a bad one is refused by name."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement

from envcore.errors import InvalidSpecError
from envcore.ops import parse_user_specs, split_user_specs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("requests>=2.32,<3", ["requests>=2.32,<3"]),
        ("requests>=2.32, <3", ["requests>=2.32, <3"]),
        ("requests >= 2.32 , < 3 rich", ["requests >= 2.32 , < 3", "rich"]),
        ("name >= 1.0", ["name >= 1.0"]),
        ("requests>=2.32, rich", ["requests>=2.32", "rich"]),  # the old comma-separated box
        ("requests, rich", ["requests", "rich"]),
        ("alpha beta\n\n  gamma==1 ", ["alpha", "beta", "gamma==1"]),
        ("beta[a, b] >=1 c", ["beta[a, b] >=1", "c"]),
        ("beta [a] x", ["beta [a]", "x"]),
        ("x (>=1, <2) y", ["x (>=1, <2)", "y"]),
        ('c; os_name == "nt" d\ne', ['c; os_name == "nt" d', "e"]),  # a marker runs to the end
        ('c ; platform_release == "a # b" # note', ['c ; platform_release == "a # b"']),
        ("# a comment\nalpha # why", ["alpha"]),
        ("name @ https://x/a,b.whl d", ["name @ https://x/a,b.whl", "d"]),
        ("alpha==1.0 --hash=sha256:00", ["alpha==1.0", "--hash=sha256:00"]),
        ("a==1 ==2", ["a==1 ==2"]),
        (" , ,\n", []),
        ("rich requests>=2.32,<3,", ["rich", "requests>=2.32,<3"]),  # a trailing comma
    ],
)
def test_split_user_specs(text: str, expected: list[str]) -> None:
    assert split_user_specs(text) == expected


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("", "give at least one package spec, e.g. requests>=2.32"),
        (
            "rich requests>=2.32,<3.x",
            "'requests>=2.32,<3.x' is not a valid package spec: Expected comma (within "
            "version specifier), semicolon (after version specifier) or end",
        ),
        ("rich -e .", "'-e' looks like an option; only package specs are accepted"),
        ("alpha; rm -rf /", None),
        ("x " * 51, "51 package specs: at most 50 at a time"),
    ],
)
def test_parse_user_specs_refuses_the_first_bad_one_by_name(text: str, refusal: str | None) -> None:
    with pytest.raises(InvalidSpecError) as refused:
        parse_user_specs(text)
    message = str(refused.value)
    assert "\n" not in message
    if refusal is not None:
        assert message == refusal
    else:
        assert message.startswith("'alpha; rm -rf /' is not a valid package spec")


# -- property: whatever spacing a user types around the parts of valid requirements, the
#    box yields exactly those requirements, in order -------------------------------------

NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,5}(?:[._-][A-Za-z0-9]{1,4})?", fullmatch=True)
VERSIONS = st.from_regex(r"[0-9]{1,3}(?:\.[0-9]{1,3}){0,2}", fullmatch=True)
OPERATORS = st.sampled_from(["==", ">=", "<=", "!=", "~=", "<", ">"])
SPACE = st.sampled_from(["", " ", "  ", "\t"])


@st.composite
def requirement_text(draw: st.DrawFn, *, with_marker: bool) -> tuple[str, Requirement]:
    """One requirement as a user might type it (spaces around anything that may have
    them), and the requirement it means."""
    name = draw(NAMES)
    extras = draw(st.lists(NAMES, max_size=2, unique_by=str.lower))
    clauses = draw(st.lists(st.tuples(OPERATORS, VERSIONS), max_size=3))
    if any(op == "~=" and "." not in version for op, version in clauses):
        clauses = [(op if "." in version else ">=", version) for op, version in clauses]
    text = name
    if extras:
        text += draw(SPACE) + "[" + ("," + draw(SPACE)).join(extras) + "]"
    for index, (op, version) in enumerate(clauses):
        text += (draw(SPACE) + "," if index else "") + draw(SPACE) + op + draw(SPACE) + version
    if with_marker and draw(st.booleans()):
        text += draw(SPACE) + "; python_version" + draw(SPACE) + ">=" + ' "3.8"'
    return text, Requirement(text)


@st.composite
def box(draw: st.DrawFn) -> tuple[str, list[Requirement]]:
    lines: list[str] = []
    wanted: list[Requirement] = []
    for _ in range(draw(st.integers(1, 4))):
        count = draw(st.integers(1, 4))
        items = [draw(requirement_text(with_marker=i == count - 1)) for i in range(count)]
        gaps = [draw(st.sampled_from([" ", "  ", "\t", " , ", ", "])) for _ in items[1:]]
        line = items[0][0] + "".join(
            gap + text for gap, (text, _) in zip(gaps, items[1:], strict=True)
        )
        lines.append(draw(SPACE) + line + draw(SPACE))
        wanted += [requirement for _, requirement in items]
    return "\n".join(lines), wanted


#: Generating the boxes is slow on a busy machine; the checks themselves are quick.
PATIENT = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PATIENT
@given(box())
def test_the_box_yields_what_was_typed_whatever_the_spacing(
    case: tuple[str, list[Requirement]],
) -> None:
    text, wanted = case
    assert [str(spec) for spec in parse_user_specs(text)] == [str(spec) for spec in wanted]


@PATIENT
@given(st.text(max_size=60))
def test_any_text_is_split_or_refused_in_one_line(text: str) -> None:
    try:
        specs = parse_user_specs(text)
    except InvalidSpecError as exc:
        assert "\n" not in str(exc)
        return
    assert all(spec.url is None and not str(spec).startswith("-") for spec in specs)
