"""Files nested deeper than Python's recursion limit (a pyproject.toml, any TOML lock, a
planted direct_url.json, a PEP 735 include chain) are one line naming the file, never a
RecursionError traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.envcore.synthetic import PY, dist_info
from tests.envtools import make_venv

DEPTH = 100_000
DEEP_ARRAY = "[" * DEPTH + "]" * DEPTH
DEEP_TABLE = "{a=" * 5000 + "1" + "}" * 5000


def envcore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envcore", *args], capture_output=True, text=True, timeout=120
    )


def _one_line_error(result: subprocess.CompletedProcess[str], named: Path) -> str:
    assert "Traceback" not in result.stderr
    assert "RecursionError" not in result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if str(named) in line]
    assert len(lines) == 1, result.stdout + result.stderr
    return lines[0]


def test_a_deep_pyproject_toml(tmp_path: Path) -> None:
    env = make_venv(tmp_path / ".venv")
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f'[project]\nname = "deep"\nversion = "1"\nx = {DEEP_ARRAY}\n')
    chosen = envcore("drift", str(env))  # as for any pyproject.toml that is not TOML
    assert (chosen.returncode, chosen.stderr.count("\n")) == (2, 1)
    assert "Traceback" not in chosen.stderr
    result = envcore("drift", str(env), "-r", str(pyproject))
    assert result.returncode != 0
    line = _one_line_error(result, pyproject)
    assert "is not valid TOML: nested too deeply" in line


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("uv.lock", f"version = 1\nx = {DEEP_ARRAY}\n"),
        ("poetry.lock", f"x = {DEEP_TABLE}\n"),
        ("pylock.toml", f"x = {DEEP_ARRAY}\n"),
    ],
)
def test_a_deep_toml_lock(tmp_path: Path, name: str, content: str) -> None:
    env = make_venv(tmp_path / ".venv")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    lock = tmp_path / name
    lock.write_text(content)
    result = envcore("drift", str(env), "--lock", str(lock))
    assert result.returncode != 0
    assert f"{lock} is not valid TOML: nested too deeply" in _one_line_error(result, lock)


def test_a_deep_direct_url_json_skips_that_distribution(tmp_path: Path) -> None:
    env = make_venv(tmp_path / ".venv")
    site = env / "lib" / f"python{PY}" / "site-packages"
    planted = dist_info(site, "planted", "1.0")
    dist_info(site, "fine", "1.0")
    (planted / "direct_url.json").write_text('{"url": "file:///x", "dir_info": ' + DEEP_ARRAY + "}")
    for command in ("list", "tree", "freeze"):
        result = envcore(command, str(env))
        assert result.returncode == 0, result.stderr
        line = _one_line_error(result, planted / "direct_url.json")
        assert "is not a valid PEP 610 document (nested too deeply)" in line
        assert "fine" in result.stdout


def test_a_deep_include_group_chain(tmp_path: Path) -> None:
    env = make_venv(tmp_path / ".venv")
    groups = "\n".join(f'g{i} = [{{include-group = "g{i + 1}"}}]' for i in range(3000))
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        f'[project]\nname = "p"\nversion = "1"\n[dependency-groups]\n{groups}\ng3000 = ["six"]\n'
    )
    result = envcore("drift", str(env), "--group", "g0")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "dependency group 'g0' includes groups nested too deeply" in result.stdout + (
        result.stderr
    )
