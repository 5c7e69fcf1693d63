"""One environment's facts: kind, interpreter, project and health, read from disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from envcore.distributions import read_inventory
from envcore.environment import inspect_environment
from envcore.errors import NotAnEnvironmentError
from envcore.pipcompat import check
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


@pytest.mark.parametrize(
    ("written", "linked"),
    [
        ("{inside}\n", "inside"),  # virtualenvwrapper's setvirtualenvproject: one line
        ("{inside}", "inside"),  # pipenv's: no newline
        ("{via_root_link}\n", "via_root_link"),  # a root reached through a link is inside
        ("{outside}\n", None),
        ("{link_out}\n", None),  # inside by its name, outside once resolved
        ("{root}/../outside\n", None),
        ("work/api\n", None),  # relative: neither tool writes one
        ("{inside}\n{outside}\n", None),  # one line only
    ],
)
def test_a_dot_project_file_links_only_inside_the_scan_roots(
    tmp_path: Path, written: str, linked: str | None
) -> None:
    root = tmp_path / "root"
    places = {
        "root": root,
        "inside": root / "work" / "api",
        "outside": tmp_path / "outside",
        "link_out": root / "work" / "elsewhere",
        "via_root_link": tmp_path / "root-link" / "work" / "api",
    }
    places["inside"].mkdir(parents=True)
    places["outside"].mkdir()
    places["link_out"].symlink_to(places["outside"], target_is_directory=True)
    (tmp_path / "root-link").symlink_to(root, target_is_directory=True)
    env = root / "virtualenvs" / "api"
    posix_venv(env)
    (env / ".project").write_text(written.format(**{k: str(v) for k, v in places.items()}))
    found = inspect_environment(env, roots=[root]).project
    assert found == (places[linked] if linked else None)


def test_without_roots_a_dot_project_file_links_any_directory(tmp_path: Path) -> None:
    """The command line's commands on one environment have no roots: nothing bounds them."""
    posix_venv(tmp_path / "root" / "api")
    (tmp_path / "outside").mkdir()
    (tmp_path / "root" / "api" / ".project").write_text(f"{tmp_path / 'outside'}\n")
    assert inspect_environment(tmp_path / "root" / "api").project == tmp_path / "outside"


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


def test_scan_cli_links_a_dot_project_file_only_inside_its_roots(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "work" / "api").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    for name, target in (("in", root / "work" / "api"), ("out", tmp_path / "outside")):
        posix_venv(root / "virtualenvs" / name)
        (root / "virtualenvs" / name / ".project").write_text(f"{target}\n")
    result = subprocess.run(
        [sys.executable, "-m", "envcore", "scan", str(root), "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    projects = {Path(row["path"]).name: row["project"] for row in json.loads(result.stdout)}
    assert projects == {"in": str(root / "work" / "api"), "out": None}
