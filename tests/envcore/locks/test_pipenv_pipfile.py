"""A Pipfile as a requirements source: each entry becomes the pip line pipenv itself makes
(pipenv's `dependency_as_pip_install_line` is the oracle), read as pip reads it; and a
Pipfile or another TOML/JSON file given to the requirements-file reader is one clear
error, not a wall of "invalid requirement"."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from envcore.errors import RequirementsError
from envcore.locks._pipenv import category_name
from envcore.requirements import load_requirements, parse_requirements_file
from envcore.requirements._pipfile import pip_line, pipenv_category
from tests.envcore.locks.conftest import envcore, make_env

CASES: list[tuple[str, object]] = [
    ("a", "*"),
    ("a", "==1.0"),
    ("a", "1.0"),
    ("a", ">=1,<2"),
    ("a", "~=1.4"),
    ("a", {"version": ">=1", "extras": ["x", "y"]}),
    ("a", {"version": "*", "sys_platform": "== 'win32'"}),
    ("a", {"version": "*", "os_name": "== 'nt'"}),  # pipenv drops an os_name key
    (
        "a",
        {
            "version": "*",
            "markers": "python_version < '3.9' or os_name == 'nt'",
            "sys_platform": "== 'linux'",
        },
    ),
    ("a", {"version": "1.0", "markers": "extra == 'x'"}),  # and a marker naming extra
    ("a", {"path": "./libs/a", "editable": True}),
    ("a", {"path": "./libs/a"}),
    ("a", {"git": "https://example.invalid/a.git", "ref": "v1"}),
    ("a", {"git": "https://example.invalid/a.git", "ref": "v1", "subdirectory": "sub"}),
    ("a", {"file": "https://example.invalid/a-1.0.whl"}),
    ("a", {"version": "==2.0", "index": "other"}),
]


def _combinations() -> list[tuple[str, object]]:
    """Every mix of a version form, extras, markers and marker keys, and every kind of
    location with and without `editable`: one batch for the oracle."""
    versions = [None, "*", "1.0", "==1.0", ">=1,<2", "~=1.4", "!=1.1"]
    extras = [None, ["x"], ["x", "y"]]
    markers = [
        None,
        "python_version >= '3.8'",
        "python_version < '3.9' or os_name == 'nt'",
        "extra == 'x'",
    ]
    keys = [{}, {"sys_platform": "== 'linux'"}, {"platform_machine": "!= 'arm64'"}]
    cases: list[tuple[str, object]] = []
    for version, extra, marker, key in itertools.product(versions, extras, markers, keys):
        spec: dict[str, object] = dict(key)
        if version is not None:
            spec["version"] = version
        if extra is not None:
            spec["extras"] = extra
        if marker is not None:
            spec["markers"] = marker
        cases.append(("Some_Pkg", spec))
    locations: list[dict[str, object]] = [
        {"path": "./libs/a"},
        {"path": "../a"},
        {"file": "https://example.invalid/a-1.0.whl"},
        {"file": "./dist/a-1.0.tar.gz"},
        {"git": "https://example.invalid/a.git"},
        {"git": "git+https://example.invalid/a.git", "ref": "main"},
        {"hg": "https://example.invalid/a", "ref": "tip"},
        {"git": "file:///srv/a.git", "ref": "v1"},
        {"git": "file:///srv/a.git#egg=a", "subdirectory": "sub"},
    ]
    for location, editable, marker in itertools.product(locations, [False, True], markers):
        spec = dict(location)
        if editable:
            spec["editable"] = True
        if marker is not None:
            spec["markers"] = marker
        cases.append(("a", spec))
    return cases


CASES += _combinations()

#: pipenv's own conversion, run in a child process: importing pipenv puts its patched pip
#: in place of pip for the rest of the process (the requirements oracle tests use pip).
ORACLE = """
import json, sys
from pipenv.utils.dependencies import dependency_as_pip_install_line as line
print(json.dumps([
    line(name, spec, include_hashes=False, include_markers=True, include_index=False,
         indexes=[])
    for name, spec in json.load(sys.stdin)
]))
"""


@pytest.fixture(scope="module")
def pipenv_lines() -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", ORACLE],
        input=json.dumps(CASES),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines: list[str] = json.loads(result.stdout)
    return lines


def test_the_pip_line_is_pipenvs_own(pipenv_lines: list[str]) -> None:
    assert [pip_line(name, spec) for name, spec in CASES] == pipenv_lines


PIPFILE = """
[[source]]
url = "http://127.0.0.1:1/simple"
verify_ssl = false
name = "local"

[[source]]
url = "http://127.0.0.1:2/simple"
name = "other"

[packages]
alpha = "==1.0"
beta = "*"
winonly = {version = "*", sys_platform = "== 'win32'"}
libpkg = {path = "./libs/libpkg", editable = true}

[dev-packages]
devtool = ">=1.1"

[docs]
sphinxish = "5.0"

[requires]
python_version = "3.11"
"""


@pytest.fixture
def pipfile(tmp_path: Path) -> Path:
    path = tmp_path / "Pipfile"
    path.write_text(PIPFILE)
    (tmp_path / "libs" / "libpkg").mkdir(parents=True)
    (tmp_path / "libs" / "libpkg" / "pyproject.toml").write_text("[project]\nname='libpkg'\n")
    return path


def test_load_requirements_reads_a_pipfile_by_its_name(pipfile: Path) -> None:
    parsed = load_requirements(pipfile)
    found = {e.name: (e.specifier, e.marker, e.editable, e.url) for e in parsed.entries}
    assert found == {
        "alpha": ("==1.0", None, False, None),
        "beta": ("", None, False, None),
        "winonly": ("", 'sys_platform == "win32"', False, None),
        "libpkg": ("", None, True, (pipfile.parent / "libs" / "libpkg").as_uri()),
    }
    assert [e.line_number for e in parsed.entries] == [12, 13, 14, 15]
    assert parsed.options.index_url == "http://127.0.0.1:1/simple"
    assert parsed.options.extra_index_urls == ("http://127.0.0.1:2/simple",)
    assert parsed.selection == (
        "Pipfile: [packages] (pipenv install's default; [dev-packages] with --dev)"
    )
    assert parsed.errors == ()


@pytest.mark.parametrize(
    ("groups", "names"),
    [
        (["dev"], ["alpha", "beta", "devtool", "libpkg", "winonly"]),
        (["default", "develop"], ["alpha", "beta", "devtool", "libpkg", "winonly"]),
        (["docs"], ["alpha", "beta", "libpkg", "sphinxish", "winonly"]),
        ([], ["alpha", "beta", "libpkg", "winonly"]),
    ],
)
def test_groups_name_the_categories(pipfile: Path, groups: list[str], names: list[str]) -> None:
    parsed = load_requirements(pipfile, groups=groups)
    assert sorted(e.name or "" for e in parsed.entries) == names


def test_an_unknown_category_and_a_bad_entry_are_issues_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "Pipfile"
    path.write_text('[packages]\nalpha = "==1.0"\nbad = 3\nworse = ">=1,<"\n')
    parsed = load_requirements(path, groups=["packages", "nope"])
    assert [e.name for e in parsed.entries] == ["alpha"]
    messages = [str(issue) for issue in parsed.errors]
    assert messages[0].startswith(f"{path}:3: bad: a value must be a string or a table")
    assert messages[1].startswith(f"{path}:4: ")
    assert messages[2] == f"{path}: no package category named 'nope'"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[packages\nalpha = 1", "is not valid TOML"),
        (b"\xff\xfe[packages]", "is not UTF-8 text"),
    ],
)
def test_a_pipfile_that_cannot_be_read_is_one_line(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = tmp_path / "Pipfile"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(RequirementsError) as raised:
        load_requirements(path)
    assert str(path) in str(raised.value) and message in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (
            "Pipfile",
            PIPFILE,
            "Pipfile is pipenv's TOML file, not a requirements file: read it as Pipfile",
        ),
        ("Pipfile.lock", '{"_meta": {}, "default": {}}', "Pipfile.lock is pipenv's lock (JSON)"),
        ("deps.toml", PIPFILE, "deps.toml is a Pipfile's TOML, not a requirements file"),
        (
            "deps.txt",
            "# pinned\n[tool.poetry]\nname = 'x'\n",
            "deps.txt is TOML, not a requirements file",
        ),
        ("deps.json", '{"_meta": {"x": 1}}', "deps.json is a Pipfile.lock's JSON object, not"),
        ("deps.in", '{"a": [1, 2]}', "deps.in is a JSON object, not a requirements file"),
    ],
)
def test_another_format_given_as_requirements_is_one_clear_error(
    tmp_path: Path, name: str, content: str, reason: str
) -> None:
    other = tmp_path / name
    other.write_text(content)
    with pytest.raises(RequirementsError) as raised:
        parse_requirements_file(other)
    assert str(raised.value).startswith(f"{other}: {reason}")
    # included from a requirements file: one issue on the -r line, the rest still read
    top = tmp_path / "requirements.txt"
    top.write_text(f"alpha==1.0\n-r {name}\nbeta\n")
    parsed = parse_requirements_file(top)
    assert [e.name for e in parsed.entries] == ["alpha", "beta"]
    assert len(parsed.errors) == 1
    assert str(parsed.errors[0]).startswith(f"{top}:2: -r {name}: {reason}")


def test_a_requirements_file_with_brackets_in_extras_is_still_one(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("alpha[x]==1.0\n  [not-a-table-but-an-invalid-line]\n")
    parsed = parse_requirements_file(path)
    assert [e.name for e in parsed.entries] == ["alpha"]


def test_the_cli_refuses_a_pipfile_given_as_requirements_in_one_line(tmp_path: Path) -> None:
    env = make_env(tmp_path / "env")
    odd = tmp_path / "odd.txt"
    odd.write_text(PIPFILE)
    result = envcore("drift", env, "-r", odd, "--json")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"envcore: error: {odd}: odd.txt is a Pipfile's TOML, not a requirements file\n"
    )


@pytest.mark.parametrize(
    ("written", "section", "table"),
    [
        ("dev", "develop", "dev-packages"),
        ("develop", "develop", "dev-packages"),
        ("dev-packages", "develop", "dev-packages"),
        ("default", "default", "packages"),
        ("packages", "default", "packages"),
        ("docs", "docs", "docs"),
    ],
)
def test_one_table_names_a_category_in_the_lock_and_in_the_pipfile(
    written: str, section: str, table: str
) -> None:
    """The Pipfile reader and the Pipfile.lock reader name categories from one table."""
    assert pipenv_category(written, in_lock=True) == category_name(written) == section
    assert pipenv_category(written, in_lock=False) == table
