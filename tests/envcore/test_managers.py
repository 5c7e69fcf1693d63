"""Which tool an environment belongs to: pdm, pipx and `uv tool` told from what they write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envcore.environment import inspect_environment
from envcore.requirements.source import choose_source
from tests.envcore.synthetic import PY
from tests.envtools import make_venv
from tests.wheelmaker import write_wheel

UV = Path(sys.executable).parent / "uv"


ENTRY_POINTS = b"[console_scripts]\ntoolapp = toolapp:main\n"


def _app_wheel(directory: Path) -> Path:
    """A wheel with a console script: pipx and `uv tool` refuse a package without one."""
    return write_wheel(
        directory,
        "toolapp",
        "1.0",
        files={
            "toolapp/__init__.py": b"def main() -> None:\n    print('toolapp')\n",
            "toolapp-1.0.dist-info/entry_points.txt": ENTRY_POINTS,
        },
    )


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A home of the test's own, and none of the tools' directory settings of the machine."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for variable in ("XDG_DATA_HOME", "UV_TOOL_DIR", "PIPX_HOME", "PIPX_GLOBAL_HOME"):
        monkeypatch.delenv(variable, raising=False)


def _uv_tool_install(tmp_path: Path, **settings: str) -> None:
    """`uv tool install toolapp` for real, offline from a wheel directory, into the tool
    directory uv picks itself from HOME and `settings`."""
    wheels = tmp_path / "wheels"
    _app_wheel(wheels)
    subprocess.run(
        [
            *(str(UV), "tool", "install", "-q", "--offline", "--no-index"),
            *("--find-links", str(wheels), "--python", sys.executable, "toolapp"),
        ],
        check=True,
        timeout=120,
        env={
            **os.environ,
            "UV_NO_CONFIG": "1",
            "UV_TOOL_BIN_DIR": str(tmp_path / "bin"),
            "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
            **settings,
        },
    )


@pytest.mark.parametrize(
    ("settings", "tools"),
    [
        ({}, "home/.local/share/uv/tools"),
        ({"XDG_DATA_HOME": "{tmp}/data"}, "data/uv/tools"),
        ({"UV_TOOL_DIR": "{tmp}/tools"}, "tools"),
    ],
)
def test_a_uv_tool_env_is_an_app_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: dict[str, str], tools: str
) -> None:
    settings = {key: value.format(tmp=tmp_path) for key, value in settings.items()}
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    _uv_tool_install(tmp_path, **settings)
    venv = tmp_path / tools / "toolapp"
    env = inspect_environment(venv)
    assert (venv / "uv-receipt.toml").is_file()
    assert env.kind == "uv" and env.manager == "uv-tool" and env.is_app_env
    assert env.project is None


def test_a_tool_s_file_in_a_project_s_venv_makes_no_app_env(tmp_path: Path) -> None:
    """The receipt and metadata of real installs, copied into a project's `.venv`: only the
    tools' own directories hold application envs."""
    _uv_tool_install(tmp_path)
    receipt = (
        tmp_path / "home" / ".local" / "share" / "uv" / "tools" / "toolapp" / "uv-receipt.toml"
    )
    project = tmp_path / "code" / "shop"
    project.mkdir(parents=True)
    (project / "requirements.txt").write_text("toolapp==1.0\n")
    venv = make_venv(project / ".venv")
    (venv / "uv-receipt.toml").write_bytes(receipt.read_bytes())
    (venv / "pipx_metadata.json").write_text(json.dumps(PIPX_METADATA))
    env = inspect_environment(venv)
    assert env.manager == "venv" and not env.is_app_env and env.project == project
    choice = choose_source(env)
    assert (choice.kind, choice.path) == ("requirements", project / "requirements.txt")


# What pipx 1.18.4 wrote for `pipx install toolapp` (its uv backend, offline from a local
# wheel directory), paths made relative to the test's directory.
PIPX_METADATA = {
    "backend": "uv",
    "environment": "toolapp",
    "exposure_enabled": True,
    "injected_packages": {},
    "main_package": {
        "app_paths": [{"__Path__": "{venv}/bin/toolapp", "__type__": "Path"}],
        "app_paths_of_dependencies": {},
        "apps": ["toolapp"],
        "apps_of_dependencies": [],
        "completion_paths": [],
        "completion_paths_of_dependencies": {},
        "completions": [],
        "completions_of_dependencies": [],
        "cooldown_days": None,
        "expected_apps": [],
        "include_apps": True,
        "include_dependencies": False,
        "include_resources_from": [],
        "lock_file": None,
        "man_pages": [],
        "man_pages_of_dependencies": [],
        "man_paths": [],
        "man_paths_of_dependencies": {},
        "package": "toolapp",
        "package_or_url": "toolapp",
        "package_version": "1.0",
        "pinned": False,
        "pip_args": ["--no-index", "--find-links", "{wheels}"],
        "suffix": "",
    },
    "pipx_metadata_version": "0.12",
    "python_version": f"Python {PY}",
    "source_interpreter": {"__Path__": sys.executable, "__type__": "Path"},
    "venv_args": [],
}


@pytest.mark.parametrize(
    ("settings", "pipx_home"),
    [
        # pipx's docs ("Configure paths"): ~/.local/share/pipx on Linux, ~/.local/pipx when
        # it exists (and on macOS), PIPX_HOME over both, /opt/pipx or PIPX_GLOBAL_HOME for
        # --global.
        ({}, "home/.local/share/pipx"),
        ({}, "home/.local/pipx"),
        ({"XDG_DATA_HOME": "{tmp}/data"}, "data/pipx"),
        ({"PIPX_HOME": "{tmp}/apps"}, "apps"),
        ({"PIPX_GLOBAL_HOME": "{tmp}/global"}, "global"),
    ],
)
def test_a_pipx_env_is_an_app_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: dict[str, str], pipx_home: str
) -> None:
    for key, value in settings.items():
        monkeypatch.setenv(key, value.format(tmp=tmp_path))
    wheels = tmp_path / "wheels"
    wheel = _app_wheel(wheels)
    venv = make_venv(tmp_path / pipx_home / "venvs" / "toolapp")
    subprocess.run(
        [
            str(UV),
            "pip",
            "install",
            "-q",
            "--offline",
            "--python",
            str(venv / "bin" / "python"),
            str(wheel),
        ],
        check=True,
        timeout=120,
        env={**os.environ, "UV_NO_CONFIG": "1"},
    )
    text = json.dumps(PIPX_METADATA, indent=4, sort_keys=True)
    text = text.replace("{venv}", str(venv)).replace("{wheels}", str(wheels))
    (venv / "pipx_metadata.json").write_text(text)
    env = inspect_environment(venv)
    assert env.kind == "venv" and env.manager == "pipx" and env.is_app_env
    assert env.project is None


def _pdm_cfg(location: Path, command_python: str, prompt: str) -> str:
    """pyvenv.cfg as pdm 2.29.4's default (virtualenv) backend had virtualenv 21.15 write it."""
    home = Path(sys.base_prefix) / "bin"
    return (
        f"home = {home}\nimplementation = CPython\nversion_info = {PY}.7.final.0\n"
        f"version = {PY}.7\nexecutable = {home}/python{PY}\n"
        f"command = {command_python} -m virtualenv {location}\nvirtualenv = 21.15.11\n"
        f'prompt = "{prompt}"\ninclude-system-site-packages = false\n'
        f"base-prefix = {sys.base_prefix}\nbase-exec-prefix = {sys.base_prefix}\n"
        f"base-executable = {home}/python3\n"
    )


@pytest.mark.parametrize(
    ("command_python", "prompt"),
    [
        # pdm installed by pipx: its own python lives in a directory named pdm.
        ("/home/dev/.local/share/pipx/venvs/pdm/bin/python", "other-prompt"),
        # pdm installed in the system python: only its prompt template tells.
        ("/usr/bin/python3", f"proj-x-{PY}"),
    ],
)
def test_an_in_project_pdm_env_is_told_by_its_pyvenv_cfg(
    tmp_path: Path, command_python: str, prompt: str
) -> None:
    project = tmp_path / "Proj-X"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "proj-x"\nversion = "0.1"\n')
    venv = make_venv(project / ".venv")
    (venv / "pyvenv.cfg").write_text(_pdm_cfg(venv, command_python, prompt))
    env = inspect_environment(venv)
    assert env.kind == "virtualenv" and env.manager == "pdm" and not env.is_app_env
    assert env.project == project


def test_a_virtualenv_with_another_prompt_is_no_pdm_env(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "proj"\nversion = "0.1"\n')
    venv = make_venv(project / ".venv")
    (venv / "pyvenv.cfg").write_text(_pdm_cfg(venv, "/usr/bin/python3", "proj"))
    env = inspect_environment(venv)
    assert env.manager == "virtualenv" and not env.is_app_env


def test_an_env_in_pdm_venvs_dir_is_pdm_s(tmp_path: Path) -> None:
    venv = make_venv(tmp_path / ".local" / "share" / "pdm" / "venvs" / f"proj-dt98w3VQ-{PY}")
    env = inspect_environment(venv)
    assert env.manager == "pdm" and env.kind == "venv"


def test_scan_json_says_manager_and_app_env(tmp_path: Path) -> None:
    make_venv(tmp_path / "tools" / "pipx" / "venvs" / "toolapp")
    (tmp_path / "tools" / "pipx" / "venvs" / "toolapp" / "pipx_metadata.json").write_text("{}")
    make_venv(tmp_path / "plain")
    (tmp_path / "plain" / "pipx_metadata.json").write_text("{}")  # not in pipx's directory
    result = subprocess.run(
        [sys.executable, "-m", "envcore", "scan", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "PIPX_HOME": str(tmp_path / "tools" / "pipx")},
    )
    rows = {Path(row["path"]).name: row for row in json.loads(result.stdout)}
    assert (rows["toolapp"]["manager"], rows["toolapp"]["is_app_env"]) == ("pipx", True)
    assert (rows["plain"]["manager"], rows["plain"]["is_app_env"]) == ("venv", False)
