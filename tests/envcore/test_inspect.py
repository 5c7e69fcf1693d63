"""Inspection: kind, interpreter, project and health, read from disk; metadata read safely."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import InvalidRequirement, Requirement

from envcore.errors import NotAnEnvironmentError
from envcore.inspect import inspect_environment, parse_dependency, read_inventory
from envcore.pipcompat import check, freeze
from tests.envcore.synthetic import PY, conda_env, dist_info, posix_venv, windows_venv
from tests.envtools import make_venv

UV = Path(sys.executable).parent / "uv"


def test_a_stdlib_venv(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    (project / "manage.py").write_text("")
    env = inspect_environment(make_venv(project / ".venv"))
    assert env.kind == "venv" and env.creator == "venv"
    assert env.python_version == ".".join(map(str, sys.version_info[:3]))
    assert env.home == Path(sys.base_prefix) / "bin"
    assert env.project == project and env.is_django
    assert env.name == "shop/.venv"
    assert not env.broken and env.layout == "posix"
    assert env.interpreter == project / ".venv" / "bin" / "python"
    assert env.include_system_site_packages is False


def test_a_uv_venv(tmp_path: Path) -> None:
    subprocess.run(
        [
            str(UV),
            "venv",
            "-q",
            "--python",
            sys.executable,
            "--prompt",
            "demo",
            str(tmp_path / "e"),
        ],
        check=True,
    )
    env = inspect_environment(tmp_path / "e")
    assert env.kind == "uv" and env.creator == "uv"
    assert env.creator_version and env.creator_version[0].isdigit()
    assert env.prompt == "demo"
    assert not env.broken


def test_virtualenv_and_system_site_packages_keys(tmp_path: Path) -> None:
    posix_venv(tmp_path / "v", extra_cfg="virtualenv = 20.26.3\nprompt = (v) \n")
    cfg = tmp_path / "v" / "pyvenv.cfg"
    cfg.write_text(cfg.read_text().replace("= false", "= true"))
    env = inspect_environment(tmp_path / "v")
    assert (env.kind, env.creator_version) == ("virtualenv", "20.26.3")
    assert env.include_system_site_packages is True


def test_pyenv_virtualenv_by_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    path = tmp_path / "pyenv" / "versions" / "3.11.7" / "envs" / "tools"
    posix_venv(path)
    env = inspect_environment(path)
    assert env.kind == "pyenv-virtualenv" and env.manager == "pyenv"


def test_windows_layout(tmp_path: Path) -> None:
    site = windows_venv(tmp_path / "win")
    dist_info(site, "requests", "2.32.3", 'colorama; sys_platform == "win32"')
    env = inspect_environment(tmp_path / "win")
    assert env.layout == "windows" and env.kind == "virtualenv"
    assert env.python_version == "3.12.4"
    assert env.interpreter == tmp_path / "win" / "Scripts" / "python.exe"
    assert env.site_packages == (site,)
    assert not env.broken  # a Windows home cannot be checked from here
    markers = env.marker_environment()
    assert markers["sys_platform"] == "win32" and markers["python_version"] == "3.12"
    # The marker is true *for that environment*, so colorama is missing there.
    problems = check(read_inventory(env))
    assert [str(p) for p in problems] == [
        "requests 2.32.3 requires colorama, which is not installed."
    ]


def test_conda_env(tmp_path: Path) -> None:
    site = conda_env(tmp_path / "c", "3.10.14")
    dist_info(site, "numpy", "1.26.4")
    env = inspect_environment(tmp_path / "c")
    assert (env.kind, env.python_version, env.manager) == ("conda", "3.10.14", "conda")
    assert not env.broken
    assert [d.name for d in read_inventory(env).distributions] == ["numpy"]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("home", "no longer exists"),
        ("python-link", "points to"),
        ("python-gone", "is missing"),
        ("no-home-key", "no 'home' entry"),
        ("no-site-packages", "no site-packages"),
    ],
)
def test_health(tmp_path: Path, damage: str, reason: str) -> None:
    path = tmp_path / "env"
    if damage == "home":
        posix_venv(path, home=str(tmp_path / "removed-python" / "bin"))
    elif damage == "python-link":
        posix_venv(path, python_target=str(tmp_path / "removed-python" / "bin" / "python3.9"))
    else:
        posix_venv(path)
    if damage == "python-gone":
        (path / "bin" / "python").unlink()
    elif damage == "no-home-key":
        (path / "pyvenv.cfg").write_text("version = 3.11.7\n")
    elif damage == "no-site-packages":
        (path / "lib" / f"python{PY}" / "site-packages").rmdir()
    env = inspect_environment(path)
    assert env.broken and reason in env.broken_reason


def test_project_from_dot_project_file(tmp_path: Path) -> None:
    project = tmp_path / "work" / "api"
    project.mkdir(parents=True)
    posix_venv(tmp_path / "virtualenvs" / "api")
    (tmp_path / "virtualenvs" / "api" / ".project").write_text(f"{project}\n")
    assert inspect_environment(tmp_path / "virtualenvs" / "api").project == project


def test_venv_without_project_markers_has_no_project(tmp_path: Path) -> None:
    posix_venv(tmp_path / "empty" / ".venv")
    assert inspect_environment(tmp_path / "empty" / ".venv").project is None


@pytest.mark.parametrize("target", ["missing", "file", "plain-dir"])
def test_not_an_environment(tmp_path: Path, target: str) -> None:
    path = tmp_path / target
    if target == "file":
        path.write_text("x")
    elif target == "plain-dir":
        path.mkdir()
    with pytest.raises(NotAnEnvironmentError):
        inspect_environment(path)


def test_corrupt_metadata_is_a_per_package_warning(tmp_path: Path) -> None:
    site = posix_venv(tmp_path / "env")
    dist_info(site, "good", "1.0")
    no_name = site / "bad-1.0.dist-info"
    no_name.mkdir()
    (no_name / "METADATA").write_text("Metadata-Version: 2.1\nVersion: 1.0\n")
    not_utf8 = site / "binary-1.0.dist-info"
    not_utf8.mkdir()
    (not_utf8 / "METADATA").write_bytes(b"Name: binary\nVersion: \xff\xfe\n")
    (site / "empty-1.0.dist-info").mkdir()  # METADATA missing altogether
    inventory = read_inventory(inspect_environment(tmp_path / "env"))
    assert [d.name for d in inventory.distributions] == ["good"]
    assert len(inventory.warnings) == 3
    assert all(w.startswith("skipped ") for w in inventory.warnings)


_AWKWARD_METADATA = {
    "crlf": b"Metadata-Version: 2.1\r\nName: crlf-pkg\r\nVersion: 1.0\r\n"
    b"Requires-Dist: alpha>=1\r\nRequires-Dist: beta ; extra == 'x'\r\n\r\nName: not-me\r\n",
    "folded": b"Metadata-Version: 1.0\nNAME: Folded.Pkg\nversion: 2.0\n"
    b"Summary: first line\n        second line\nLicense: MIT\n   more license\n"
    b"Requires-Dist: gamma\n\nVersion: 9.9 in the body\n",
    "classifiers": b"Metadata-Version: 2.1\nName: many\nVersion: 3.0\n"
    + b"".join(b"Classifier: Topic :: Name: %d\n" % n for n in range(40))
    + b"Requires-Dist: delta (<2,>=1)\nMetadata-Version-Extra: 1\n\nbody\n",
    "old-mac": b"Metadata-Version: 1.0\rName: oldmac\rVersion: 0.5\rSummary: cr only\r",
    "spaced-key": b"Metadata-Version: 2.1\nName: spaced\nVersion : 1.0\n",
}


def test_metadata_headers_read_as_importlib_metadata_reads_them(tmp_path: Path) -> None:
    """The regex header reader against the stdlib's email-based one, on awkward files."""
    site = posix_venv(tmp_path / "env")
    for label, raw in _AWKWARD_METADATA.items():
        directory = site / f"{label}-1.0.dist-info"
        directory.mkdir()
        (directory / "METADATA").write_bytes(raw)
    inventory = read_inventory(inspect_environment(tmp_path / "env"))
    # `Version : 1.0` is no Version header to the email parser (pip's reader) either.
    assert [w.split()[1] for w in inventory.warnings] == ["spaced-key-1.0.dist-info:"]
    assert len(inventory.distributions) == len(_AWKWARD_METADATA) - 1
    for dist in inventory.distributions:
        oracle = importlib.metadata.PathDistribution(Path(dist.metadata_dir)).metadata
        assert dist.name == oracle["Name"]
        assert dist.version == oracle["Version"]
        assert dist.requires == tuple(oracle.get_all("Requires-Dist") or ())
        assert " ".join(dist.summary.split()) == " ".join((oracle["Summary"] or "").split())


def test_legacy_egg_info_and_invalid_versions(tmp_path: Path) -> None:
    site = posix_venv(tmp_path / "env")
    egg = site / "oldpkg-0.1-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: oldpkg\nVersion: 0.1\n")
    (egg / "requires.txt").write_text("alpha>=1\n\n[extra]\nbeta\n")
    dist_info(site, "weird", "not.a.version")
    inventory = read_inventory(inspect_environment(tmp_path / "env"))
    assert inventory.by_name["oldpkg"].requires == ("alpha>=1",)
    assert "weird===not.a.version" in freeze(inventory).lines


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "{tmp}/nothing"], "does not exist"),
        (["freeze", "{tmp}/file.txt"], "is a file"),
        (["check", "{tmp}"], "is not a Python environment"),
    ],
)
def test_cli_gives_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "file.txt").write_text("x")
    argv = [a.format(tmp=tmp_path) for a in args]
    result = subprocess.run(
        [sys.executable, "-m", "envcore", *argv], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_scan_cli_json(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "requirements.txt").write_text("alpha\n")
    make_venv(tmp_path / "proj" / ".venv")
    posix_venv(tmp_path / "broken", home=str(tmp_path / "gone"))
    result = subprocess.run(
        [sys.executable, "-m", "envcore", "scan", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    import json

    rows = {
        Path(row["path"]).name if row["name"] != "proj/.venv" else "proj": row
        for row in json.loads(result.stdout)
    }
    assert set(rows) == {"proj", "broken"}
    assert rows["proj"]["project"] == str(tmp_path / "proj")
    assert rows["proj"]["packages"] == 0 and rows["proj"]["broken"] is False
    assert (
        rows["broken"]["broken"] is True and "no longer exists" in rows["broken"]["broken_reason"]
    )
    for key in ("path", "kind", "python_version", "broken", "broken_reason", "project", "packages"):
        assert key in rows["proj"]


_DEPENDENCY_PARTS = st.sampled_from(
    ["requests", "Foo_Bar.Baz", "a", "x-1", "name", "_bad", "pkg.", "", " "]
)
_SPEC_PARTS = st.sampled_from(
    [
        "",
        ">=1.0",
        "==1.*",
        "~=1.4",
        "<2,>=1",
        "!=1.5",
        "===weird",
        "==1.0.*.x",
        ">=",
        "(>=1.0)",
        " ( >= 1.0 , < 2 )",
        "(>=1",
        "[extra]>=1",
        "; python_version<'3'",
        " @ https://x/y.whl",
    ]
)


_EXTRAS_PARTS = st.sampled_from(
    ["", "[fast]", "[ a , b ]", "[]", "[_x]", "[x.]", "[a,]", "[a b]", " [cli]", "[a-b.c_d]"]
)
_MARKER_PARTS = st.sampled_from(
    [
        "",
        '; extra == "dev"',
        ' ; sys_platform == "win32"',
        ";python_version>='3.8' and extra=='x'",
        ";",
        "; ",
        "; nonsense",
        '; os_name == "nt" or (extra == "a" and python_version < "3")',
        ';extra == "a";',
    ]
)


@settings(max_examples=400)
@given(name=_DEPENDENCY_PARTS, extras=_EXTRAS_PARTS, spec=_SPEC_PARTS, marker=_MARKER_PARTS)
def test_the_dependency_fast_path_agrees_with_packaging(
    name: str, extras: str, spec: str, marker: str
) -> None:
    text = name + extras + spec + marker
    ours = parse_dependency(text)
    try:
        theirs: Requirement | None = Requirement(text)
    except InvalidRequirement:
        theirs = None
    assert (str(ours) if ours else None) == (str(theirs) if theirs else None)
    if ours is not None and theirs is not None:
        assert ours.name == theirs.name
        assert ours.specifier == theirs.specifier
        assert ours.marker == theirs.marker
        assert ours.extras == theirs.extras
