"""Environments linked back to their projects: tool caches checked by the hash in the
env's name, and differently named venvs directly inside a project."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from envcore._linking import ToolCache, path_hash
from envcore.environment import inspect_environment
from envcore.requirements.source import choose_source
from tests.envcore.synthetic import PY, dist_info
from tests.envtools import install, make_venv
from tests.wheelmaker import make_project

with warnings.catch_warnings():  # poetry's dependencies warn about their own imports
    warnings.simplefilter("ignore", DeprecationWarning)
    from poetry.utils.env.env_manager import EnvManager  # the oracle for poetry's names


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WORKON_HOME", raising=False)
    monkeypatch.delenv("PYENV_ROOT", raising=False)


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode()[:8]


def pdm_venv_name(project: Path) -> str:
    """pdm 2.29.4, pdm/cli/commands/venv/utils.py: `get_venv_prefix` (the directory's name
    and `hash_path(root.as_posix())`, md5) then the interpreter's X.Y."""
    digest = hashlib.md5(project.as_posix().encode(), usedforsecurity=False).digest()
    return f"{project.name}-{_b64(digest)}-{PY}"


def hatch_id(project: Path) -> str:
    """hatch 1.18.2, hatch/utils/fs.py: `Path.id`, sha256 of str(root) (Linux)."""
    return _b64(hashlib.sha256(str(project).encode()).digest())


@pytest.mark.parametrize(
    ("tool", "directory", "in_name"),
    [
        # Names the tools gave, run for real: poetry 2.5.1 `poetry env use` made
        # virtualenvs/my-proj-pQevVw02-py3.11, pdm 2.29.4 `pdm venv create` made
        # venvs/proj-x-dt98w3VQ-3.11 and hatch 1.18.2 `hatch env create` made
        # env/virtual/hatch-proj/Az_Beweg/hatch-proj for these project directories.
        ("poetry", "/tmp/ptry/code/My.Proj", "pQevVw02"),
        ("pdm", "/tmp/pdmtry/proj-x", "dt98w3VQ"),
        ("hatch", "/tmp/hatchtry/code/Hatch.Proj", "Az_Beweg"),
    ],
)
def test_the_hash_is_the_one_each_tool_puts_in_the_name(
    tool: ToolCache, directory: str, in_name: str
) -> None:
    assert path_hash(directory, tool) == in_name


def _project(base: Path, name: str = "linkproj") -> Path:
    return make_project(base / "code" / name, name, "0.1")


def _editable(env: Path, project: Path) -> None:
    """The project's own editable install, made by pip as poetry/pdm/hatch make it."""
    install(env, [str(project)], editable=True)
    direct_urls = list(env.glob("lib/python*/site-packages/*.dist-info/direct_url.json"))
    assert [json.loads(p.read_text())["dir_info"] for p in direct_urls] == [{"editable": True}]


def test_a_poetry_env_made_by_poetry_is_linked_through_the_editable_install(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    cache = tmp_path / "home" / ".cache" / "pypoetry"
    subprocess.run(
        [str(Path(sys.executable).parent / "poetry"), "env", "use", sys.executable],
        cwd=project,
        check=True,
        capture_output=True,
        timeout=300,
        env={
            **os.environ,
            "POETRY_CACHE_DIR": str(cache),
            "POETRY_CONFIG_DIR": str(tmp_path / "poetry-config"),
            "POETRY_VIRTUALENVS_IN_PROJECT": "false",
        },
    )
    (venv,) = (cache / "virtualenvs").glob("*-py*")
    assert venv.name == f"{EnvManager.generate_env_name('linkproj', str(project))}-py{PY}"
    unlinked = inspect_environment(venv)
    assert unlinked.manager == "poetry" and unlinked.project is None  # nothing names it yet
    _editable(venv, project)
    env = inspect_environment(venv)
    assert env.project == project and env.manager == "poetry" and not env.is_app_env


def test_a_pdm_env_in_its_venvs_dir_is_linked(tmp_path: Path) -> None:
    project = _project(tmp_path, "Pdm-Proj")
    venvs = tmp_path / "home" / ".local" / "share" / "pdm" / "venvs"
    venv = make_venv(venvs / pdm_venv_name(project))
    _editable(venv, project)
    env = inspect_environment(venv)
    assert env.project == project and env.manager == "pdm"


@pytest.mark.parametrize("env_name", ["linkproj", "test", "linkproj-build"])
def test_a_hatch_env_in_its_data_dir_is_linked(tmp_path: Path, env_name: str) -> None:
    project = _project(tmp_path)
    data = tmp_path / "home" / ".local" / "share" / "hatch" / "env" / "virtual"
    venv = make_venv(data / "linkproj" / hatch_id(project) / env_name)
    _editable(venv, project)
    env = inspect_environment(venv)
    assert env.project == project and env.manager == "hatch"


def test_a_hatch_env_without_a_hash_level_is_not_linked(tmp_path: Path) -> None:
    # hatch 1.18.2 never makes `env/virtual/{project}/{env}`: run for real, it made
    # `env/virtual/hproj/-qWoCX2Q/hproj` by default, and `{root}/hdata/env/virtual/hproj`
    # with HATCH_DATA_DIR inside the project. Without a hash nothing can be checked, so a
    # planted direct_url.json naming another directory of the same name links nothing.
    project = _project(tmp_path)
    data = tmp_path / "home" / ".local" / "share" / "hatch" / "env" / "virtual"
    elsewhere = tmp_path / "elsewhere" / "linkproj"
    elsewhere.mkdir(parents=True)
    (elsewhere / "pyproject.toml").write_text("")
    planted = make_venv(data / "linkproj" / "default")
    _plant_editable(planted, "linkproj", elsewhere)
    assert inspect_environment(planted).project is None
    installed = make_venv(data / "linkproj" / "test")
    _editable(installed, project)
    env = inspect_environment(installed)
    assert env.project is None and env.manager == "hatch"


def test_hatch_envs_kept_in_the_project_are_its_envs(tmp_path: Path) -> None:
    # hatch 1.18 with `[tool.hatch.dirs.env] virtual = ".hatch"`: `{root}/.hatch/{env}`
    project = _project(tmp_path)
    env = inspect_environment(make_venv(project / ".hatch" / "linkproj"))
    assert env.project == project and env.manager == "hatch"


def test_a_hash_for_another_directory_links_nothing(tmp_path: Path) -> None:
    project = _project(tmp_path)
    elsewhere = tmp_path / "code" / "elsewhere"
    wrong = EnvManager.generate_env_name("linkproj", str(elsewhere))
    venv = make_venv(tmp_path / "home" / ".cache" / "pypoetry" / "virtualenvs" / f"{wrong}-py{PY}")
    _editable(venv, project)
    env = inspect_environment(venv)
    assert env.manager == "poetry" and env.project is None


def _plant_editable(env: Path, name: str, target: Path) -> None:
    """A hand-written direct_url.json claiming an editable install of `target`."""
    (site,) = env.glob("lib/python*/site-packages")
    info = dist_info(site, name, "1.0")
    (info / "direct_url.json").write_text(
        json.dumps({"url": target.as_uri(), "dir_info": {"editable": True}})
    )


def test_a_planted_direct_url_cannot_link_an_env_to_another_directory(tmp_path: Path) -> None:
    project = _project(tmp_path)
    target = tmp_path / "private"
    target.mkdir()
    (target / "setup.py").write_text("")  # looks like a project
    poetry_name = EnvManager.generate_env_name("linkproj", str(project))
    cache = tmp_path / "home" / ".cache"
    poetry_env = make_venv(cache / "pypoetry" / "virtualenvs" / f"{poetry_name}-py{PY}")
    _plant_editable(poetry_env, "linkproj", target)
    hatch_env = make_venv(cache / "hatch" / "env" / "virtual" / "private" / hatch_id(project) / "x")
    _plant_editable(hatch_env, "private", target)
    assert inspect_environment(poetry_env).project is None
    assert inspect_environment(hatch_env).project is None
    # The same file naming the directory the hash is for links the env: the hash decides.
    _plant_editable(poetry_env, "linkproj2", project)
    assert inspect_environment(poetry_env).project == project


@pytest.mark.parametrize("name", ["venv312", ".venv-3.12", "py311"])
def test_a_venv_with_another_name_inside_a_project_is_its_env(tmp_path: Path, name: str) -> None:
    project = tmp_path / "code" / "shop"
    project.mkdir(parents=True)
    (project / "requirements.txt").write_text("alpha==1.0\n")
    env = inspect_environment(make_venv(project / name))
    assert env.project == project and env.manager == "venv"


def test_envs_kept_side_by_side_are_not_linked_to_the_directory_holding_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workon = tmp_path / "virtualenvs"
    pyenv = tmp_path / "pyenv"
    home = tmp_path / "home"
    monkeypatch.setenv("WORKON_HOME", str(workon))
    monkeypatch.setenv("PYENV_ROOT", str(pyenv))
    for holder in (workon, pyenv / "versions", home):
        holder.mkdir(parents=True, exist_ok=True)
        (holder / "requirements.txt").write_text("alpha\n")
    in_workon = inspect_environment(make_venv(workon / "shop"))
    assert in_workon.manager == "virtualenvwrapper" and in_workon.project is None
    in_pyenv = inspect_environment(make_venv(pyenv / "versions" / "shop"))
    assert in_pyenv.manager == "pyenv" and in_pyenv.project is None
    assert inspect_environment(make_venv(home / "shop")).project is None


@pytest.mark.parametrize(
    ("config", "env_dir", "manager"),
    [("tox.ini", ".tox", "tox"), ("tox.toml", ".tox", "tox"), ("noxfile.py", ".nox", "nox")],
)
def test_a_test_env_belongs_to_the_directory_holding_its_tool_s_config(
    tmp_path: Path, config: str, env_dir: str, manager: str
) -> None:
    project = tmp_path / "code" / "lib"
    project.mkdir(parents=True)
    (project / config).write_text("")
    env = inspect_environment(make_venv(project / env_dir / "py311"))
    assert env.project == project and env.manager == manager
    bare = tmp_path / "code" / "bare"
    bare.mkdir()
    assert inspect_environment(make_venv(bare / env_dir / "py311")).project is None


def test_a_tox_env_of_a_project_with_only_tox_toml_is_held_to_its_deps(tmp_path: Path) -> None:
    project = tmp_path / "code" / "lib"
    project.mkdir(parents=True)
    (project / "tox.toml").write_text('[env_run_base]\ndeps = ["pytest>=8"]\n')
    env = inspect_environment(make_venv(project / ".tox" / "py311"))
    choice = choose_source(env)
    assert (choice.path, choice.kind, choice.testenv) == (project / "tox.toml", "tox", "py311")
