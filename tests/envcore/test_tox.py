"""tox's `deps` for one test env, read statically from tox.ini / tox.toml / pyproject.toml.

The expected lists are what `tox config -e ENV -k deps` (tox 4.67) printed for the same
files: tox itself is not needed to run these tests.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envcore.errors import RequirementsError
from envcore.requirements._entry import ParsedRequirements
from envcore.requirements._tox import find_tox_config, parse_tox_deps

TOX_INI = """\
[tox]
env_list = py311, lint

[base]
deps =
    attrs>=23  # pinned loosely
    six

[testenv]
deps =
    pytest==8.0
    py311: tomli
    !py311: mock
    py{310,311}-django: django<5
    {[base]deps}
    -r requirements-test.txt
commands = pytest {posargs}

[testenv:lint]
deps = ruff==0.5 ; python_version >= "3.8"

[testenv:pos]
deps = {posargs:pytest}

[testenv:envvar]
deps = {env:MYDEP}

[testenv:envdefault]
deps = {env:MYDEP:coverage}

[testenv:badref]
deps = {[nosuch]deps}

[testenv:other]
deps =
    py39: onlyfor39
"""


@pytest.fixture
def tox_ini(tmp_path: Path) -> Path:
    (tmp_path / "tox.ini").write_text(TOX_INI)
    (tmp_path / "requirements-test.txt").write_text("coverage==7.0\n")
    return tmp_path / "tox.ini"


def _names(tox_ini: Path, testenv: str) -> list[str] | None:
    parsed = parse_tox_deps(tox_ini, testenv)
    if parsed is None:
        return None
    assert not parsed.errors
    return [f"{entry.name}{entry.specifier}" for entry in parsed.entries]


@pytest.mark.parametrize(
    ("testenv", "expected"),
    [
        ("py311", ["pytest==8.0", "tomli", "attrs>=23", "six", "coverage==7.0"]),
        ("py310-django", ["pytest==8.0", "mock", "django<5", "attrs>=23", "six", "coverage==7.0"]),
        ("py311-django", ["pytest==8.0", "tomli", "django<5", "attrs>=23", "six", "coverage==7.0"]),
        ("lint", ["ruff==0.5"]),
        ("envdefault", ["coverage"]),
        # none of its lines applies: tox falls back on [testenv], as here
        ("other", ["pytest==8.0", "mock", "attrs>=23", "six", "coverage==7.0"]),
        # not declared in tox.ini: tox runs it with [testenv]
        ("py312", ["pytest==8.0", "mock", "attrs>=23", "six", "coverage==7.0"]),
    ],
)
def test_deps_as_tox_reads_them(tox_ini: Path, testenv: str, expected: list[str]) -> None:
    assert _names(tox_ini, testenv) == expected


@pytest.mark.parametrize("testenv", ["pos", "envvar", "badref", ".pkg", ".pkg-cpython311"])
def test_what_only_tox_knows_at_run_time_is_not_read(tox_ini: Path, testenv: str) -> None:
    assert parse_tox_deps(tox_ini, testenv) is None


def test_entries_are_located_in_tox_ini_and_the_included_file(tox_ini: Path) -> None:
    parsed = parse_tox_deps(tox_ini, "py311")
    assert parsed is not None
    sources = {str(entry.name): entry.source for entry in parsed.entries}
    assert sources["tomli"] == f"{tox_ini}:12"
    assert sources["attrs"] == f"{tox_ini}:6"
    assert sources["coverage"] == f"{tox_ini.parent / 'requirements-test.txt'}:1"
    assert parsed.files == (tox_ini, tox_ini.parent / "requirements-test.txt")
    lint = parse_tox_deps(tox_ini, "lint")
    assert lint is not None
    assert [entry.marker for entry in lint.entries] == ['python_version >= "3.8"']


def _lines(parsed: ParsedRequirements | None) -> dict[str, int]:
    assert parsed is not None and not parsed.errors
    return {str(entry.name): entry.line_number for entry in parsed.entries}


def test_each_dep_is_located_on_its_own_line_in_its_own_section(tmp_path: Path) -> None:
    """Many deps shared by two envs, a command naming one of them before its deps, a
    reference back to an earlier section: each entry on the line tox took it from."""
    shared = [f"pkg{index}" for index in range(3000)]
    body = "\n".join(f"    {name}>=1" for name in shared)
    (tmp_path / "tox.ini").write_text(
        "[base]\ndeps =\n    attrs\n\n"
        f"[testenv]\ncommands = pytest tests\ndeps =\n    pytest\n{body}\n    {{[base]deps}}\n\n"
        f"[testenv:lint]\ndeps = ruff\n{body}\n    lint: pytest\n"
    )
    first = 9  # pkg0's line in [testenv]
    lint = first + len(shared) + 4  # pkg0's line in [testenv:lint]
    assert _lines(parse_tox_deps(tmp_path / "tox.ini", "py312")) == {
        "pytest": 8,
        **{name: first + index for index, name in enumerate(shared)},
        "attrs": 3,
    }
    assert _lines(parse_tox_deps(tmp_path / "tox.ini", "lint")) == {
        "ruff": lint - 1,
        **{name: lint + index for index, name in enumerate(shared)},
        "pytest": lint + len(shared),
    }


def test_tox_toml_deps_are_located_in_their_table(tmp_path: Path) -> None:
    (tmp_path / "tox.toml").write_text(
        '[env_run_base]\ndeps = ["pytest>=8", "attrs"]\n'
        '[env.lint]\ndeps = [\n  "attrs",  # a comment\n  "ruff",\n]\n'
    )
    assert _lines(parse_tox_deps(tmp_path / "tox.toml", "py")) == {"pytest": 2, "attrs": 2}
    assert _lines(parse_tox_deps(tmp_path / "tox.toml", "lint")) == {"attrs": 5, "ruff": 6}


def test_platform_factors_hold_for_this_machine(tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text(
        f"[testenv]\ndeps =\n    {sys.platform}: here\n    otheros: there\n"
    )
    assert _names(tmp_path / "tox.ini", "py") == ["here"]


def test_an_include_outside_the_roots_is_not_read(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "secret.txt").write_text("secret==1\n")
    (project / "tox.ini").write_text("[testenv]\ndeps =\n    -r ../secret.txt\n    pytest\n")
    parsed = parse_tox_deps(project / "tox.ini", "py", roots=[project])
    assert parsed is not None
    assert [entry.name for entry in parsed.entries] == ["pytest"]
    assert len(parsed.errors) == 1 and "outside the scan roots" in parsed.errors[0].message
    assert str(parsed.errors[0]).startswith(f"{project / 'tox.ini'}:3:")
    outside = parse_tox_deps(project / "tox.ini", "py", roots=[tmp_path / "elsewhere"])
    assert outside is not None and outside.entries == () and outside.outside


def test_an_editable_project_path_is_relative_to_tox_ini(tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text("[testenv]\ndeps = -e .\n")
    parsed = parse_tox_deps(tmp_path / "tox.ini", "py")
    assert parsed is not None
    (entry,) = parsed.entries
    assert entry.editable and entry.url == tmp_path.as_uri()


def test_tox_toml_and_pyproject(tmp_path: Path) -> None:
    (tmp_path / "tox.toml").write_text(
        'env_list = ["py311"]\n[env_run_base]\ndeps = ["pytest>=8", "-r {tox_root}/r.txt"]\n'
        '[env.lint]\ndeps = ["ruff"]\n[env.dyn]\ndeps = [{ replace = "posargs" }]\n'
    )
    (tmp_path / "r.txt").write_text("attrs\n")
    assert _names(tmp_path / "tox.toml", "py311") == ["pytest>=8", "attrs"]
    assert _names(tmp_path / "tox.toml", "lint") == ["ruff"]
    assert parse_tox_deps(tmp_path / "tox.toml", "dyn") is None
    (tmp_path / "pyproject.toml").write_text(
        '[tool.tox]\nlegacy_tox_ini = """\n[testenv]\ndeps = pytest==8.1\n"""\n'
    )
    assert _names(tmp_path / "pyproject.toml", "py") == ["pytest==8.1"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[testenv\ndeps = x\n", "tox.ini cannot be read: File contains no section headers"),
        ("[testenv]\ndeps = a\n[testenv]\ndeps = b\n", "tox.ini cannot be read: While reading"),
        (b"\xff\xfe[testenv]", "tox.ini is not UTF-8 text"),
    ],
)
def test_a_broken_tox_ini_is_one_line_naming_the_file(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = tmp_path / "tox.ini"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(RequirementsError) as caught:
        parse_tox_deps(path, "py")
    assert message in str(caught.value) and len(str(caught.value).splitlines()) == 1


def test_setup_cfg_sections_read_like_tox_ini(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text(
        "[metadata]\nname = x\n\n[tox:tox]\nenv_list = py\n\n[testenv]\ndeps = pytest<9\n"
    )
    assert _names(tmp_path / "setup.cfg", "py") == ["pytest<9"]


def test_the_config_file_is_found_in_tox_s_order(tmp_path: Path) -> None:
    assert find_tox_config(tmp_path) is None
    (tmp_path / "tox.toml").write_text("[env_run_base]\ndeps = []\n")
    assert find_tox_config(tmp_path) == tmp_path / "tox.toml"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_tox_config(tmp_path) == tmp_path / "tox.toml"  # no [tool.tox]: not tox's
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.tox]\nenv_list = []\n')
    assert find_tox_config(tmp_path) == tmp_path / "pyproject.toml"
    assert find_tox_config(tmp_path, roots=[tmp_path / "elsewhere"]) == tmp_path / "tox.toml"
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n")
    assert find_tox_config(tmp_path) == tmp_path / "pyproject.toml"
    (tmp_path / "setup.cfg").write_text("[tox:tox]\nenv_list = py\n")
    assert find_tox_config(tmp_path) == tmp_path / "setup.cfg"
    (tmp_path / "tox.ini").write_text("[tox]\n")
    assert find_tox_config(tmp_path) == tmp_path / "tox.ini"


NESTED = """\
[a]
x = {[b]x}
[b]
x = {[a]x}
[c]
x = {[d]x}{[d]x}{[d]x}{[d]x}
[d]
x = {[e]x}{[e]x}{[e]x}{[e]x}
[e]
x = {[f]x}{[f]x}{[f]x}{[f]x}
[f]
x = {[g]x}{[g]x}{[g]x}{[g]x}
[g]
x = {[h]x}{[h]x}{[h]x}{[h]x}{[h]x}
[h]
x = aaaa
[testenv:cycle]
deps = {[a]x}
[testenv:multiplied]
deps = {[c]x}
[testenv:nested]
deps = {env:NOT_SET_A:{env:NOT_SET_B:nested}}
[testenv:escaped]
deps = pkg @ file:///x\\{y\\}
[testenv:globs]
deps =
    py3*: globbed
    !py3*: literal
"""


@pytest.mark.parametrize(
    ("testenv", "expected"),
    [
        # tox 4.67: "Could not expand {[b]x} after recursing 101 frames"
        ("cycle", None),
        # 1,280 references: tox expands them; we stop at 1,000 (no real deps do this)
        ("multiplied", None),
        ("nested", ["nested"]),
        ("escaped", ["pkg @ file:///x{y}"]),
        # tox matches factors literally, fnmatch characters too
        ("globs", ["literal"]),
    ],
)
def test_references_resolve_as_tox_resolves_them(
    tmp_path: Path, testenv: str, expected: list[str] | None
) -> None:
    (tmp_path / "tox.ini").write_text(NESTED)
    parsed = parse_tox_deps(tmp_path / "tox.ini", testenv)
    assert (None if parsed is None else [entry.text for entry in parsed.entries]) == expected


TOX_WORDS = ["[testenv]", "[testenv:py]", "[base]", "deps =", "py: ", "!py: ", "{[base]deps}"]
TOX_WORDS += ["{posargs}", "{env:X:y}", "{env:X}", "-r r.txt", "\\", "{", "}", "\n    ", "#"]
PROPS_DIR = Path(tempfile.mkdtemp(prefix="envcore-tox-props-"))


@settings(max_examples=300, deadline=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOX_WORDS) | st.text(max_size=8), max_size=30))
def test_any_text_is_deps_none_or_one_line_error(pieces: list[str]) -> None:
    path = PROPS_DIR / "tox.ini"
    path.write_text("".join(pieces), encoding="utf-8", errors="surrogatepass")
    try:
        parsed = parse_tox_deps(path, "py", roots=[PROPS_DIR])
    except RequirementsError as exc:
        assert len(str(exc).splitlines()) == 1 and str(path) in str(exc)
        return
    assert parsed is None or all(issue.source.startswith(str(PROPS_DIR)) for issue in parsed.errors)
