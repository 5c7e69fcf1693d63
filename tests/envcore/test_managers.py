"""Which tool an environment belongs to: pdm, pipx and `uv tool` told from what they write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envcore.environment import inspect_environment
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


def test_a_uv_tool_env_is_an_app_env(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    _app_wheel(wheels)
    tools = tmp_path / "home" / ".local" / "share" / "uv" / "tools"
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
            "UV_TOOL_DIR": str(tools),
            "UV_TOOL_BIN_DIR": str(tmp_path / "bin"),
        },
    )
    env = inspect_environment(tools / "toolapp")
    assert (tools / "toolapp" / "uv-receipt.toml").is_file()
    assert env.kind == "uv" and env.manager == "uv-tool" and env.is_app_env
    assert env.project is None


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


def test_a_pipx_env_is_an_app_env(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheel = _app_wheel(wheels)
    venv = make_venv(tmp_path / ".local" / "share" / "pipx" / "venvs" / "toolapp")
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
    result = subprocess.run(
        [sys.executable, "-m", "envcore", "scan", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    rows = {Path(row["path"]).name: row for row in json.loads(result.stdout)}
    assert (rows["toolapp"]["manager"], rows["toolapp"]["is_app_env"]) == ("pipx", True)
    assert (rows["plain"]["manager"], rows["plain"]["is_app_env"]) == ("venv", False)
