"""envcore.requirements against pip's own parser (the oracle), plus what pip cannot do."""

from __future__ import annotations

import codecs
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pip._internal.exceptions import InstallationError
from pip._internal.network.session import PipSession
from pip._internal.req.constructors import install_req_from_parsed_requirement
from pip._internal.req.req_dependency_group import parse_dependency_groups
from pip._internal.req.req_file import parse_requirements

from envcore.errors import RequirementsError
from envcore.requirements import (
    ParsedRequirements,
    find_requirements_source,
    load_requirements,
    parse_pyproject,
    parse_requirements_file,
    requirements_fingerprint,
    within_roots,
)

CORPUS = Path(__file__).parent / "reqs_corpus"
CORPUS_FILES = sorted(path.name for path in CORPUS.glob("*.txt"))
CORPUS_ENV = {
    "CORPUS_PKG": "from-env",
    "CORPUS_URL": "https://env.example.com",
    "CORPUS_SUFFIX": "sfx",
    "corpus_lower": "never-used",
}


@pytest.fixture(scope="module")
def session() -> PipSession:
    return PipSession()


def pip_rows(path: str, session: PipSession) -> list[dict[str, Any]]:
    """What pip itself makes of a file: one row per requirement, in pip's order."""
    rows = []
    for parsed in parse_requirements(path, session=session):
        ireq = install_req_from_parsed_requirement(parsed)
        assert parsed.line_source is not None
        line, filename = parsed.line_source.removeprefix("line ").split(" of ", 1)
        rows.append(
            {
                "name": canonicalize_name(ireq.req.name) if ireq.req else None,
                "raw_name": ireq.req.name if ireq.req else None,
                "specifier": str(ireq.req.specifier) if ireq.req else "",
                "marker": str(ireq.markers) if ireq.markers else None,
                "extras": tuple(sorted(ireq.extras)),
                "editable": ireq.editable,
                "url": ireq.link.url if ireq.link else None,
                "constraint": ireq.constraint,
                "hashes": tuple(
                    f"{algorithm}:{digest}"
                    for algorithm, digests in ireq.hash_options.items()
                    for digest in digests
                ),
                "source": f"{filename}:{line}",
            }
        )
    return rows


def our_rows(parsed: ParsedRequirements) -> list[dict[str, Any]]:
    return [
        {
            "name": entry.name,
            "raw_name": entry.raw_name,
            "specifier": entry.specifier,
            "marker": entry.marker,
            "extras": entry.extras,
            "editable": entry.editable,
            "url": entry.url,
            "constraint": entry.constraint,
            "hashes": entry.hashes,
            "source": entry.source,
        }
        for entry in parsed.entries
    ]


@pytest.fixture
def in_corpus(monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip resolves relative paths against its working directory: run it in the corpus."""
    monkeypatch.chdir(CORPUS)
    for key, value in CORPUS_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("CORPUS_UNSET_VAR", raising=False)
    return CORPUS


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_file_parses_like_pip(name: str, in_corpus: Path, session: PipSession) -> None:
    expected = pip_rows(name, session)
    parsed = parse_requirements_file(name, base_dir=in_corpus)
    assert parsed.errors == ()
    assert our_rows(parsed) == expected
    assert expected  # every corpus file has requirements


def test_corpus_covers_every_feature(in_corpus: Path) -> None:
    entries = [e for name in CORPUS_FILES for e in parse_requirements_file(name).entries]
    assert any(e.constraint for e in entries)
    assert any(e.editable and e.url and e.url.startswith("git+") for e in entries)
    assert any(e.editable and e.name is None for e in entries)
    assert any(len(e.hashes) >= 3 for e in entries)
    assert any(e.url and e.url.endswith(".whl") and e.specifier for e in entries)
    assert {e.specifier[:3] for e in entries} >= {"==1", "~=1", "===", "!=1", ">=1", "<2."}
    assert any("+cpu" in e.specifier for e in entries)
    assert any(e.raw_name == "Foo_Bar.Baz" and e.name == "foo-bar-baz" for e in entries)


@pytest.mark.parametrize(
    ("encoding", "newline", "bom"),
    [
        ("utf-8", "\r\n", b""),
        ("utf-8", "\n", codecs.BOM_UTF8),
        ("utf-8", "\r\n", codecs.BOM_UTF8),
        ("utf-16-le", "\n", codecs.BOM_UTF16_LE),
        ("utf-16-be", "\r\n", codecs.BOM_UTF16_BE),
        ("utf-32-le", "\n", codecs.BOM_UTF32_LE),
        ("latin-1", "\n", b""),  # declared with a PEP 263 comment below
    ],
)
def test_encodings_and_line_endings_match_pip(
    encoding: str,
    newline: str,
    bom: bytes,
    *,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    session: PipSession,
) -> None:
    text = "\n".join(
        [
            "# -*- coding: latin-1 -*-" if encoding == "latin-1" else "# a comment",
            "alpha==1.0 \\",
            "  --hash=sha256:abcd",
            "  beta>=2  # comment",
            "caf\u00e9-pkg ; python_version > '3' # non-ASCII name is invalid, but in a comment",
            "gamma\t",
        ]
    ).replace("caf\u00e9-pkg", "cafe-pkg")
    text = text.replace("# comment", "# caf\u00e9 comment")
    path = tmp_path / "req.txt"
    path.write_bytes(bom + text.replace("\n", newline).encode(encoding))
    monkeypatch.chdir(tmp_path)
    parsed = parse_requirements_file("req.txt")
    assert parsed.errors == ()
    assert our_rows(parsed) == pip_rows("req.txt", session)
    assert [e.name for e in parsed.entries] == ["alpha", "beta", "cafe-pkg", "gamma"]


INVALID_LINES = [
    ("alpha=1.0", "did you mean =="),
    ("alpha==1.0 --hash=md5:abcd", "allowed hash algorithms"),
    ("alpha --hash", "requires 1 argument"),
    ("alpha --no-such-option", "no such option"),
    ("--re x.txt", "ambiguous option"),
    ("--pre=yes", "does not take a value"),
    ("alpha -C novalue", "KEY=VAL"),
    ("--use-feature no-such-feature", "invalid choice"),
    ("alpha --hash 'sha256:unbalanced", "cannot split options"),
    ("-e not-a-url-or-dir", "not a valid editable requirement"),
    ("-e https://example.com/x.tar.gz", "not a valid editable requirement"),
    ("-e git+https://example.com/repo.git", "cannot tell the project name"),
    ("https://example.com/x.tar.gz#egg=bad[name]", "egg"),
    ("https://example.com/not-a-wheel.whl", "invalid wheel filename"),
    ("alpha ; python_version >>> '3'", "invalid requirement"),
    ("alpha[bad extra]", "invalid requirement"),
    ("w!=1.5,>1.0+cpu", "local version"),
    ("name @", "invalid requirement"),
    ("--no-binary -x", "requires 1 argument"),
]


@pytest.mark.parametrize(("line", "reason"), INVALID_LINES)
def test_invalid_line_is_an_issue_where_pip_fails(
    line: str, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session: PipSession
) -> None:
    (tmp_path / "bad.txt").write_text(f"{line}\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception):  # noqa: B017 - pip raises several unrelated types
        for parsed in parse_requirements("bad.txt", session=session):
            install_req_from_parsed_requirement(parsed)
    (tmp_path / "req.txt").write_text(f"before==1\n{line}\nafter==2\n")
    result = parse_requirements_file(tmp_path / "req.txt")
    assert [issue.source for issue in result.errors] == [f"{tmp_path / 'req.txt'}:2"]
    assert reason.lower() in result.errors[0].message.lower()
    assert "\n" not in result.errors[0].message
    assert [e.name for e in result.entries] == ["before", "after"]


def test_missing_include_is_an_issue_and_the_rest_is_read(tmp_path: Path) -> None:
    (tmp_path / "req.txt").write_text("alpha\n-r nowhere.txt\n-c gone.txt\nbeta\n")
    parsed = parse_requirements_file(tmp_path / "req.txt")
    assert [e.name for e in parsed.entries] == ["alpha", "beta"]
    assert [i.source.rsplit(":", 1)[1] for i in parsed.errors] == ["2", "3"]
    assert "cannot read requirements file" in parsed.errors[0].message
    assert "cannot read constraints file" in parsed.errors[1].message


def test_include_cycle_is_detected_and_reported_once_per_edge(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("alpha\n-r sub/b.txt\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("beta\n-r ../c.txt\n")
    (tmp_path / "c.txt").write_text("gamma\n-r a.txt\n-r c.txt\n")
    parsed = parse_requirements_file(tmp_path / "a.txt")
    assert [e.name for e in parsed.entries] == ["alpha", "beta", "gamma"]
    assert len(parsed.errors) == 2
    assert all("cycle" in issue.message for issue in parsed.errors)
    assert parsed.errors[0].source == f"{tmp_path / 'c.txt'}:2"


def test_symlinked_directory_loop_does_not_hang(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path)
    (tmp_path / "req.txt").write_text("alpha\n-r loop/req.txt\n")
    parsed = parse_requirements_file(tmp_path / "req.txt")
    assert [e.name for e in parsed.entries] == ["alpha"]
    assert "cycle" in parsed.errors[0].message


def test_file_included_twice_is_read_twice_like_pip(tmp_path: Path, session: PipSession) -> None:
    (tmp_path / "common.txt").write_text("shared==1\n")
    (tmp_path / "a.txt").write_text("-r common.txt\n-r b.txt\n")
    (tmp_path / "b.txt").write_text("-r common.txt\n")
    parsed = parse_requirements_file(tmp_path / "a.txt")
    assert our_rows(parsed) == pip_rows(str(tmp_path / "a.txt"), session)
    assert len(parsed.entries) == 2
    assert parsed.files == (tmp_path / "a.txt", tmp_path / "common.txt", tmp_path / "b.txt")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"alpha\x00beta\n", "NUL"),
        (b"caf\xe9\n", "not UTF-8"),
        (b"# coding: no-such-codec\nalpha\n", "unknown encoding"),
    ],
)
def test_file_that_is_not_text_raises_one_clear_error(
    content: bytes, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "req.txt"
    path.write_bytes(content)
    with pytest.raises(RequirementsError, match=message):
        parse_requirements_file(path)


def test_unreadable_top_file_raises_requirements_error(tmp_path: Path) -> None:
    with pytest.raises(RequirementsError, match="No such file"):
        parse_requirements_file(tmp_path / "missing.txt")
    with pytest.raises(RequirementsError, match="Is a directory"):
        parse_requirements_file(tmp_path)


def test_binary_include_is_an_issue(tmp_path: Path) -> None:
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02")
    (tmp_path / "req.txt").write_text("-r blob.txt\nalpha\n")
    parsed = parse_requirements_file(tmp_path / "req.txt")
    assert [e.name for e in parsed.entries] == ["alpha"]
    assert "NUL" in parsed.errors[0].message


def test_remote_include_is_not_fetched(tmp_path: Path) -> None:
    (tmp_path / "req.txt").write_text("-r https://example.com/req.txt\nalpha\n")
    parsed = parse_requirements_file(tmp_path / "req.txt")
    assert parsed.errors == ()
    assert "not fetched" in parsed.warnings[0].message


def test_options_are_kept_as_data_in_pip_order(in_corpus: Path) -> None:
    options = parse_requirements_file("options.txt").options
    assert options.index_url == "https://abbreviated.example.com/simple"
    assert options.extra_index_urls == (
        "https://extra.example.com/simple",
        "https://extra2.example.com/simple",
    )
    assert options.find_links == ("./wheels", "https://example.com/links.html")
    assert options.trusted_hosts == ("pypi.example.com",)
    assert options.pre and options.prefer_binary and options.require_hashes
    assert options.no_index
    assert options.only_binary == (":all:", "gamma")
    assert options.no_binary == ("alpha", "beta-pkg")
    assert options.use_feature == ("fast-deps",)
    assert options.all_releases == (":all:",)
    assert options.config_settings == (("key", "value"),)
    alpha = parse_requirements_file("options.txt").entries[0]
    assert alpha.config_settings == (("--build-option", "--fast"), ("other", "1"))


def test_environment_variables_come_from_environ_argument(tmp_path: Path) -> None:
    (tmp_path / "req.txt").write_text("${PKG_NAME}==${PKG_VERSION}\n$PKG_NAME\n")
    parsed = parse_requirements_file(
        tmp_path / "req.txt", environ={"PKG_NAME": "from-environ", "PKG_VERSION": "3.0"}
    )
    assert [(e.name, e.specifier) for e in parsed.entries] == [("from-environ", "==3.0")]
    assert "$PKG_NAME" in parsed.errors[0].message


def test_entry_helpers(in_corpus: Path) -> None:
    entries = {e.raw_name: e for e in parse_requirements_file("specifiers.txt").entries}
    assert entries["eq"].is_pinned and entries["arbitrary"].is_pinned
    assert entries["arbitrary-wild"].is_pinned  # `===1.*`: the literal version "1.*"
    assert not entries["wild"].is_pinned and not entries["ge"].is_pinned
    requirement = entries["multi"].requirement
    assert requirement is not None and str(requirement.specifier) == "!=1.5.*,<2.0,>=1.0"
    marked = parse_requirements_file("markers.txt").entries[0]
    assert not marked.applies_to({"python_version": "3.11"})
    assert marked.applies_to({"python_version": "3.7"})
    direct = parse_requirements_file("direct.txt").entries[0].requirement
    assert direct is not None and direct.url == "https://example.com/direct_pkg-1.0.tar.gz"


def test_to_json_is_plain_data(in_corpus: Path) -> None:
    data = parse_requirements_file("hashes.txt").to_json()
    entries = data["entries"]
    assert isinstance(entries, list)
    assert entries[0] == {
        "name": "alpha",
        "raw_name": "alpha",
        "specifier": "==1.0",
        "marker": None,
        "extras": [],
        "editable": False,
        "url": None,
        "constraint": False,
        "hashes": ["sha256:1111", "sha256:2222"],
        "source": "hashes.txt:1",
        "pinned": True,
    }


PYPROJECT = """\
[project]
name = "My_App"
version = "1.0"
dependencies = [
    "Django>=5.0,<6",
    'requests[socks] ; python_version >= "3.8"',
]

[project.optional-dependencies]
fast = ["orjson==3.9"]
all = ["my-app[fast]", "rich"]

[dependency-groups]
test = ["pytest>=8", {include-group = "lint"}]
lint = ["ruff"]
loop-a = [{include-group = "loop-b"}]
loop-b = [{include-group = "loop-a"}]
bad = ["not a requirement!"]
"""


def test_pyproject_dependencies_extras_and_groups(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT)
    base = parse_pyproject(path)
    assert [(e.name, e.specifier, e.marker) for e in base.entries] == [
        ("django", "<6,>=5.0", None),
        ("requests", "", 'python_version >= "3.8"'),
    ]
    assert base.entries[1].extras == ("socks",)
    assert base.entries[0].source == f"{path}:5"
    assert base.project_name == "my-app"
    full = parse_pyproject(path, extras=["all"], groups=["test"])
    assert [e.name for e in full.entries] == [
        "django",
        "requests",
        "rich",
        "orjson",
        "pytest",
        "ruff",
    ]
    assert full.errors == ()
    broken = parse_pyproject(path, extras=["nope"], groups=["loop-a", "bad", "missing"])
    messages = " | ".join(issue.message for issue in broken.errors)
    assert "no optional-dependencies group named 'nope'" in messages
    assert "includes itself" in messages
    assert "no dependency group named 'missing'" in messages
    assert "invalid requirement 'not a requirement!'" in messages
    assert load_requirements(path).entries == base.entries


#: [dependency-groups] tables and the groups asked for, valid and not, read by pip's --group.
GROUP_CASES = [
    ('a = ["x>=1", "y ; python_version > \'3\'"]', ["a"]),
    ('a = ["x", {include-group = "B_c"}]\nb-c = ["z[e]==2"]', ["a"]),
    ('a = [{include-group = "b"}, "x"]\nb = ["y"]\nc = [{include-group = "b"}]', ["a", "c"]),
    ('Dev = ["x"]', ["dev"]),
    ('a = [{include-group = "a"}]', ["a"]),
    ('a = [{include-group = "b"}]\nb = [{include-group = "a"}]', ["a"]),
    ('a = ["x", {include-group = "gone"}]', ["a"]),
    ('a = ["x"]', ["b"]),
    ('a = ["x"]\nA = ["y"]', ["a"]),
]


@pytest.mark.parametrize(("table", "groups"), GROUP_CASES)
def test_dependency_groups_resolve_like_pip(table: str, groups: list[str], tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(f"[dependency-groups]\n{table}\n")
    parsed = parse_pyproject(path, groups=groups)
    try:
        theirs = parse_dependency_groups([(str(path), group) for group in groups])
    except InstallationError:
        assert parsed.errors
        assert all(len(issue.message.splitlines()) == 1 for issue in parsed.errors)
        return
    assert parsed.errors == ()
    ours = [str(Requirement(entry.text)) for entry in parsed.entries]
    assert ours == list(dict.fromkeys(theirs))


def test_pyproject_that_is_not_toml_raises(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\n")
    with pytest.raises(RequirementsError, match="not valid TOML"):
        load_requirements(tmp_path / "pyproject.toml")


def test_find_requirements_source_order(tmp_path: Path) -> None:
    assert find_requirements_source(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text("[tool.black]\n")
    assert find_requirements_source(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text("[dependency-groups]\ndev = []\n")
    assert find_requirements_source(tmp_path) == tmp_path / "pyproject.toml"
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "dev.txt").write_text("-r prod.txt\n")
    assert find_requirements_source(tmp_path) == tmp_path / "requirements" / "dev.txt"
    (tmp_path / "requirements" / "ci-tools.txt").write_text("")
    (tmp_path / "requirements" / "web.txt").write_text("")
    assert find_requirements_source(tmp_path) == tmp_path / "requirements" / "web.txt"
    (tmp_path / "requirements" / "prod.txt").write_text("")
    assert find_requirements_source(tmp_path) == tmp_path / "requirements" / "prod.txt"
    (tmp_path / "requirements.txt").write_text("")
    assert find_requirements_source(tmp_path) == tmp_path / "requirements.txt"


def test_fingerprint_ignores_order_spelling_comments_and_hashes(tmp_path: Path) -> None:
    one = tmp_path / "one.txt"
    two = tmp_path / "two.txt"
    one.write_text("Django>=5.0,<6\nrequests[socks]==2.31 ; python_version>'3'\n")
    two.write_text(
        '# pinned\nrequests[SOCKS] == 2.31 ; python_version > "3" --hash=sha256:ab\n'
        "django<6, >=5.0\n"
    )
    fingerprint = requirements_fingerprint(parse_requirements_file(one))
    assert fingerprint == requirements_fingerprint(parse_requirements_file(two))
    two.write_text("django<6,>=5.1\nrequests[socks]==2.31 ; python_version>'3'\n")
    assert fingerprint != requirements_fingerprint(parse_requirements_file(two))
    assert len(fingerprint) == 64


def test_relative_paths_resolve_against_base_dir(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(CORPUS / "localproj", project / "localproj")
    (project / "requirements").mkdir()
    (project / "requirements" / "base.txt").write_text("-e ./localproj\n")
    parsed = parse_requirements_file(project / "requirements" / "base.txt", base_dir=project)
    assert parsed.entries[0].url == (project / "localproj").as_uri()
    elsewhere = parse_requirements_file(project / "requirements" / "base.txt")
    assert "not a valid editable requirement" in elsewhere.errors[0].message
    assert os.getcwd() != str(project)


@pytest.mark.parametrize(
    "line",
    [
        " " * 100_000 + "x#",
        "a" + "[" * 100_000,
        "./x" + "[" * 50_000 + "]",
        "-e ./" + "[a]" * 30_000,
        "a" + "\\\n" * 20_000,
        "${" * 50_000,
        "a" * 100_000 + "-",
    ],
)
def test_pathological_lines_finish_quickly(line: str, tmp_path: Path) -> None:
    path = tmp_path / "req.txt"
    path.write_text(f"{line}\nafter==1\n")
    start = time.perf_counter()
    parsed = parse_requirements_file(path)
    assert time.perf_counter() - start < 2
    assert parsed.entries[-1].name == "after"


# ---- scan roots: files outside them are never read -------------------------------------

SECRET = "Hunter2TokenValue"


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A scan root, and beside it (outside) a one-word secret file."""
    (tmp_path / "root").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "token").write_text(f"{SECRET}\n")
    return tmp_path / "root"


def _shows(parsed: ParsedRequirements, text: str) -> bool:
    return text.lower() in repr(parsed).lower() or text.lower() in str(parsed.to_json()).lower()


def test_an_include_outside_the_roots_is_not_read_and_says_why(planted: Path) -> None:
    token = planted.parent / "outside" / "token"
    (planted / "req.txt").write_text(f"requests==2.0\n-r ../outside/token\n-c {token}\n")
    parsed = parse_requirements_file(planted / "req.txt", roots=[planted])
    assert [e.name for e in parsed.entries] == ["requests"]
    assert [str(issue) for issue in parsed.errors] == [
        f"{planted / 'req.txt'}:2: -r ../outside/token: not read, it is outside the scan roots",
        f"{planted / 'req.txt'}:3: -c {token}: not read, it is outside the scan roots",
    ]
    assert parsed.outside == (token,)
    assert not _shows(parsed, SECRET)
    # Without roots (the envcore CLI, where the user names the file) it is read, as pip does.
    unrestricted = parse_requirements_file(planted / "req.txt")
    assert [e.name for e in unrestricted.requirements] == ["requests", SECRET.lower()]


@pytest.mark.parametrize("name", ["requirements.txt", "pyproject.toml"])
def test_a_source_linked_out_of_the_roots_is_not_read(planted: Path, name: str) -> None:
    (planted / "proj").mkdir()
    (planted / "proj" / name).symlink_to(planted.parent / "outside" / "token")
    source = find_requirements_source(planted / "proj", [planted])
    assert source == planted / "proj" / name
    parsed = load_requirements(source, roots=[planted])
    assert [str(issue) for issue in parsed.errors] == [
        f"{source}: not read, it is outside the scan roots"
    ]
    assert (parsed.entries, parsed.files, parsed.outside) == ((), (), (source,))
    assert not _shows(parsed, SECRET)


def test_an_include_through_a_link_that_stays_inside_the_roots_is_read(planted: Path) -> None:
    (planted / "shared").mkdir()
    (planted / "shared" / "base.txt").write_text("alpha==1\n")
    (planted / "proj").mkdir()
    (planted / "proj" / "common").symlink_to(planted / "shared")
    (planted / "proj" / "req.txt").write_text("-r common/base.txt\nbeta\n")
    root_link = planted.parent / "root-link"
    root_link.symlink_to(planted)
    for roots in ([planted], [root_link]):
        parsed = parse_requirements_file(planted / "proj" / "req.txt", roots=roots)
        assert [e.name for e in parsed.entries] == ["alpha", "beta"]
        assert (parsed.errors, parsed.outside) == ((), ())


def test_a_root_is_not_the_prefix_of_its_sibling(planted: Path) -> None:
    sibling = planted.parent / "root-sibling"
    sibling.mkdir()
    (sibling / "more.txt").write_text("alpha\n")
    (planted / "req.txt").write_text("-r ../root-sibling/more.txt\n")
    parsed = parse_requirements_file(planted / "req.txt", roots=[planted])
    assert parsed.entries == ()
    assert "outside the scan roots" in parsed.errors[0].message


def test_a_root_itself_is_within_the_roots_unless_strictly(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "env").mkdir(parents=True)
    (tmp_path / "link").symlink_to(root)
    for strictly in (False, True):
        assert within_roots(root / "env", [root], strictly=strictly)
        assert within_roots(tmp_path / "link" / "env", [root], strictly=strictly)
        assert not within_roots(tmp_path, [root], strictly=strictly)
        assert not within_roots(tmp_path / "root-sibling", [root], strictly=strictly)
        assert within_roots(tmp_path, None, strictly=strictly)
        assert not within_roots(root / "env", [], strictly=strictly)
    assert within_roots(root, [root]) and within_roots(tmp_path / "link", [root])
    assert not within_roots(root, [root], strictly=True)
    assert not within_roots(tmp_path / "link", [root], strictly=True)


@pytest.mark.parametrize(
    "line",
    [
        "x" * 5000 + "=1",
        "alpha --bogus" + "y" * 5000,
        "-e " + "z" * 5000,
        "alpha @ file:///w.whl#egg=" + "-" * 5000,
    ],
)
def test_a_long_bad_line_is_quoted_clipped(line: str, tmp_path: Path) -> None:
    path = tmp_path / "req.txt"
    path.write_text(f"{line}\n")
    (issue,) = parse_requirements_file(path).errors
    assert len(issue.message) < 600
    assert line[-300:] not in issue.message


def test_a_long_bad_pyproject_dependency_is_quoted_clipped(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(f'[project]\nname = "p"\ndependencies = ["{"q" * 5000}="]\n')
    (issue,) = parse_pyproject(path).errors
    assert len(issue.message) < 600
