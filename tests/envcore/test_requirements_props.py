"""Property tests: the requirements parser never crashes or hangs, and agrees with pip."""

from __future__ import annotations

import os
import re
import shlex
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.markers import InvalidMarker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from pip._internal.exceptions import CommandError
from pip._internal.network.session import PipSession
from pip._internal.req.constructors import install_req_from_parsed_requirement
from pip._internal.req.req_file import OptionParsingError, get_line_parser, parse_requirements
from pip._vendor.packaging.requirements import Requirement as PipRequirement

from envcore._pep508 import marker, normalized_specifier, plain_parts, specifier_set
from envcore.errors import EnvcoreError
from envcore.requirements import parse_requirements_file
from envcore.requirements._line import interpret_line
from envcore.requirements._options import OptionError, _shell_split, parse_options
from envcore.requirements._text import _strip_comment, split_line

CORPUS = Path(__file__).parent / "reqs_corpus"
CORPUS_LINES = sorted(
    {line for path in CORPUS.glob("*.txt") for line in path.read_text().splitlines() if line}
)
SPECIAL = [*"-\\#@;[]${}'\" \t=/.,:<>!~*+", "\r\n", "\x00", "\u2028", "${HOME}", " #"]
WORKDIR = Path(tempfile.mkdtemp(prefix="envcore-props-"))
FAST = settings(
    max_examples=300,
    deadline=500,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def pinned_by_packaging(requirement: Requirement | PipRequirement | None) -> bool:
    """One clause that admits exactly one version: `==` without a wildcard, or `===`
    (packaging's own reading, or pip's vendored copy of it)."""
    if requirement is None:
        return False
    clauses = [(clause.operator, clause.version) for clause in requirement.specifier]
    if len(clauses) != 1:
        return False
    operator, version = clauses[0]
    return operator == "===" or (operator == "==" and not version.endswith(".*"))


def parse_bytes(data: bytes) -> None:
    path = WORKDIR / "req.txt"
    path.write_bytes(data)
    try:
        parsed = parse_requirements_file(path, environ={"HOME": "/home/x"}, base_dir=WORKDIR)
    except EnvcoreError:
        return
    for entry in parsed.entries:
        assert entry.source.startswith(f"{path}:")
        assert entry.is_pinned == pinned_by_packaging(entry.requirement)
        assert entry.requirement is None or entry.name is not None


@st.composite
def mutated_lines(draw: st.DrawFn) -> str:
    line = draw(st.sampled_from(CORPUS_LINES))
    for _ in range(draw(st.integers(0, 4))):
        position = draw(st.integers(0, len(line)))
        if draw(st.booleans()) and line:
            line = line[:position] + line[position + 1 :]
        else:
            line = line[:position] + draw(st.sampled_from(SPECIAL)) + line[position:]
    return line


@FAST
@given(st.lists(st.one_of(mutated_lines(), st.text(max_size=60)), max_size=8))
def test_random_and_mutated_lines_never_crash(lines: list[str]) -> None:
    parse_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))


@FAST
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(data: bytes) -> None:
    parse_bytes(data)


# ---- agreement with pip on generated lines ---------------------------------------------

OPTION_WORDS = [
    "-r",
    "-c",
    "-e",
    "-i",
    "-f",
    "-C",
    "-rx.txt",
    "--requirement",
    "--req",
    "--re",
    "--constraint=c.txt",
    "--editable",
    "--index-url",
    "--ind",
    "--in",
    "--extra-index-url",
    "--find-links",
    "--trusted-host",
    "--pre",
    "--pre=1",
    "--pref",
    "--prefer-binary",
    "--no-index",
    "--no",
    "--hash",
    "--hash=sha256:ab",
    "--hash=md5:ab",
    "--hash=sha512",
    "--config-settings",
    "--config-settings=a=b",
    "-Ck=v",
    "--use-feature",
    "--use-feature=fast-deps",
    "--only-binary",
    "--no-binary=:all:",
    "--all-releases",
    "--only-final=x",
    "--require-hashes",
    "--no-require-hashes",
    "--",
    "-",
    "--bogus",
    "-x",
    "x.txt",
    "sha256:cd",
    "k=v",
    "fast-deps",
    ":none:",
    "a,B_c",
    "'quoted value'",
    '"unbalanced',
    "https://example.com/simple",
]


def pip_options(text: str) -> dict[str, Any] | None:
    """pip's reading of an options string (--use-feature is left out: pip's default list
    for it is shared between lines, so it accumulates across calls)."""
    try:
        _, opts = get_line_parser(None)(text)
    except (OptionParsingError, CommandError):
        return None
    return {
        "requirements": opts.requirements,
        "constraints": opts.constraints,
        "editables": opts.editables,
        "index_url": opts.index_url,
        "extra_index_urls": opts.extra_index_urls,
        "find_links": opts.find_links,
        "trusted_hosts": opts.trusted_hosts,
        "pre": opts.pre,
        "prefer_binary": opts.prefer_binary,
        "no_index": opts.no_index,
        "hashes": opts.hashes or {},
        "config_settings": opts.config_settings or {},
        "require_hashes": opts.require_hashes,
    }


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(OPTION_WORDS), min_size=1, max_size=5))
def test_option_parsing_agrees_with_pip(words: list[str]) -> None:
    text = " ".join(words)
    expected = pip_options(text)
    try:
        options = parse_options(split_line(text)[1])
    except OptionError:
        assert expected is None, text
        return
    assert expected is not None, text
    assert {
        "requirements": options.requirements,
        "constraints": options.constraints,
        "editables": options.editables,
        "index_url": options.index_url,
        "extra_index_urls": options.extra_index_urls,
        "find_links": options.find_links,
        "trusted_hosts": options.trusted_hosts,
        "pre": options.pre,
        "prefer_binary": options.prefer_binary,
        "no_index": options.no_index,
        "hashes": options.hashes,
        "config_settings": options.config_settings,
        "require_hashes": options.require_hashes,
    } == expected, text


NAMES = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,6}[A-Za-z0-9])?", fullmatch=True)
OPERATORS = st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~=", "==="])
VERSIONS = st.from_regex(
    r"[0-9]{1,2}(\.[0-9*]{1,2}){0,2}(rc1|\.post1|\.dev2|\+cpu|a|!)?", fullmatch=True
)
SPACES = st.sampled_from(["", " ", "  ", "\t"])


EXTRAS = st.sampled_from(["", "[a]", "[ B_c , d ]", "[]", "[a,a]", "[x,]"])


@st.composite
def simple_requirements(draw: st.DrawFn) -> str:
    text = draw(NAMES) + draw(SPACES) + draw(EXTRAS) + draw(SPACES)
    specs = [
        draw(OPERATORS) + draw(SPACES) + draw(VERSIONS) for _ in range(draw(st.integers(0, 3)))
    ]
    specifier = (draw(SPACES) + "," + draw(SPACES)).join(specs)
    if draw(st.booleans()):
        specifier = "(" + draw(SPACES) + specifier + draw(SPACES) + ")"
    return text + specifier


@settings(max_examples=500, deadline=None)
@given(simple_requirements(), st.sampled_from(["", '; python_version < "3"', ";os_name=='a'"]))
def test_fast_path_matches_packaging(text: str, marker: str) -> None:
    text = text.strip() + marker
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        with pytest.raises(ValueError, match="invalid requirement"):
            interpret_line(text, "/nonexistent")
        return
    found = interpret_line(text, "/nonexistent")
    if text.split(";")[0].rstrip().endswith("]"):
        return  # pip reads a trailing [..] as a path's extras, lower-cased: not packaging's
    assert (found.name, found.specifier, found.extras, found.marker, found.url) == (
        requirement.name,
        str(requirement.specifier),
        tuple(sorted(requirement.extras)),
        str(requirement.marker) if requirement.marker else None,
        None,
    )


PLAIN_MARKERS = st.sampled_from(
    ["", ";", " ; ", '; python_version < "3"', "\t;os_name=='a' ", "; nonsense", ";extra=='x';"]
)


@settings(max_examples=500, deadline=None)
@given(simple_requirements(), PLAIN_MARKERS, st.sampled_from(["", " ", "\t", "\n", "\u3000"]))
def test_the_plain_fast_path_agrees_with_packaging(text: str, marker_part: str, end: str) -> None:
    """The one fast path (requirement lines and Requires-Dist) reads what packaging reads."""
    text = text + marker_part + end
    try:
        theirs: Requirement | None = Requirement(text)
    except InvalidRequirement:
        theirs = None
    parts = plain_parts(text)
    if parts is None:
        return  # packaging's own parser reads it
    try:
        ours = (
            parts.name,
            set(parts.extras),
            specifier_set(parts.specifier),
            marker(parts.marker) if parts.marker else None,
        )
    except (InvalidSpecifier, InvalidMarker):
        ours = None
    if parts.marker == "":
        ours = None  # `name ;` is invalid: the callers hand it to packaging for its message
    if theirs is None:
        assert ours is None, text
    else:
        assert ours == (theirs.name, theirs.extras, theirs.specifier, theirs.marker), text


URLS = st.sampled_from(
    [
        "https://example.com/p-1.0.tar.gz",
        "https://example.com/w_x-2.0-py3-none-any.whl",
        "git+https://example.com/r.git@v1#egg=r-pkg",
        "https://example.com/a.zip#egg=eggy&subdirectory=s",
        "file:///tmp/x-1.0.tar.gz",
    ]
)
MARKERS = st.sampled_from(
    ['python_version < "3.8"', "sys_platform=='linux'", 'extra == "x"', "os_name >= 'a'"]
)


@st.composite
def requirement_lines(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        line = draw(simple_requirements())
    elif kind == 1:
        line = draw(NAMES) + draw(st.sampled_from(["", "[a]", "[B_c,d]", "[ e ]"]))
        line += draw(SPACES) + "@ " + draw(URLS)
    elif kind == 2:
        line = draw(URLS)
    else:
        line = "-e " + draw(URLS)
    if draw(st.booleans()):
        line += draw(st.sampled_from([";", " ; ", "; "])) + draw(MARKERS)
    if draw(st.booleans()):
        line += " " + draw(st.sampled_from(["--hash=sha256:ab", "--hash sha384:cd", "-C k=v"]))
    if draw(st.booleans()):
        line += draw(st.sampled_from([" # c", "#x", "  #", "\\\n  --hash=sha256:ef"]))
    return line


def pip_line(path: Path) -> list[dict[str, Any]] | None:
    try:
        rows = []
        for parsed in parse_requirements(str(path), session=PipSession()):
            ireq = install_req_from_parsed_requirement(parsed)
            rows.append(
                {
                    "name": canonicalize_name(ireq.req.name) if ireq.req else None,
                    "specifier": str(ireq.req.specifier) if ireq.req else "",
                    "pinned": pinned_by_packaging(ireq.req),
                    "marker": str(ireq.markers) if ireq.markers else None,
                    "extras": tuple(sorted(ireq.extras)),
                    "editable": ireq.editable,
                    "url": ireq.link.url if ireq.link else None,
                    "hashes": tuple(f"{a}:{d}" for a, ds in ireq.hash_options.items() for d in ds),
                }
            )
    except Exception:  # any pip failure at all means "pip rejects this line"
        return None
    return rows


@settings(max_examples=300, deadline=None)
@given(requirement_lines())
def test_generated_lines_agree_with_pip(line: str) -> None:
    path = WORKDIR / "line.txt"
    path.write_text(line + "\n")
    cwd = os.getcwd()
    os.chdir(WORKDIR)
    try:
        expected = pip_line(path)
    finally:
        os.chdir(cwd)
    parsed = parse_requirements_file(path, base_dir=WORKDIR)
    if expected is None:
        assert parsed.errors, line
        return
    assert parsed.errors == (), line
    assert [
        {
            "name": e.name,
            "specifier": e.specifier,
            "pinned": e.is_pinned,
            "marker": e.marker,
            "extras": e.extras,
            "editable": e.editable,
            "url": e.url,
            "hashes": e.hashes,
        }
        for e in parsed.entries
    ] == expected, line


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=" \t#a=\u3000\x0b\x85\\", max_size=20))
def test_comment_stripping_matches_pips_rule(line: str) -> None:
    pips_rule = re.sub(r"(^|\s+)#.*$", "", line).strip()
    assert _strip_comment(line).strip() == pips_rule


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \t'\"\\ab-=", max_size=20))
def test_quick_shell_split_matches_shlex(text: str) -> None:
    try:
        expected: list[str] | None = shlex.split(text)
    except ValueError:
        expected = None
    try:
        assert _shell_split(text) == expected
    except OptionError:
        assert expected is None


_CLAUSES = st.sampled_from(
    [
        ">=1.0",
        "<2",
        "~=1.4",
        "~=1",
        "== 01.0 ",
        "==1.0.0.0",
        "==1.*",
        "!=1.5",
        "===1.0",
        "===weird",
        "==1.0+cpu",
        ">",
        "1.0",
        " <= 3 ",
        "<=1.0a1",
        ">1.",
    ]
)
_VERSIONS = ["0.9", "1.0", "1.4.2", "1.5", "2.0", "2.0rc1", "1.0+cpu", "weird", "3"]


@settings(max_examples=300, deadline=None)
@given(st.lists(_CLAUSES, max_size=4), st.sampled_from([",", " , ", ",,"]))
def test_shared_clause_sets_equal_packagings_own(clauses: list[str], comma: str) -> None:
    text = comma.join(clauses)
    try:
        theirs: SpecifierSet | None = SpecifierSet(text)
    except InvalidSpecifier:
        theirs = None
    try:
        ours: SpecifierSet | None = specifier_set(text)
    except InvalidSpecifier:
        ours = None
    assert (ours is None) == (theirs is None)
    if theirs is None:
        with pytest.raises(InvalidSpecifier):
            normalized_specifier(text)
    if ours is not None and theirs is not None:
        assert ours == theirs
        assert str(ours) == str(theirs) == normalized_specifier(text)
        for version in _VERSIONS:
            for prereleases in (None, True):
                assert ours.contains(version, prereleases=prereleases) == theirs.contains(
                    version, prereleases=prereleases
                ), version
