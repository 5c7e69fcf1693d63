"""Discovery: what counts as an environment, where we look, and what we refuse to walk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from envcore.discover import default_roots, discover
from tests.envcore.synthetic import conda_env, posix_venv, windows_venv
from tests.envtools import make_venv


def found(root: Path, **kwargs: object) -> set[str]:
    return {str(p.relative_to(root)) for p in discover([root], **kwargs).environments}  # type: ignore[arg-type]


def test_it_finds_real_venvs_and_never_descends_into_them(tmp_path: Path) -> None:
    make_venv(tmp_path / "proj" / ".venv")
    # An environment nested inside another must not be reported (we never walk into envs).
    posix_venv(tmp_path / "proj" / ".venv" / "nested")
    assert found(tmp_path) == {"proj/.venv"}


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: windows_venv(p / "win"), {"win"}),
        (lambda p: conda_env(p / "condaenv"), {"condaenv"}),
        (lambda p: posix_venv(p / "tox" / ".tox" / "py311"), {"tox/.tox/py311"}),
        (lambda p: posix_venv(p / "n" / ".nox" / "tests"), {"n/.nox/tests"}),
    ],
)
def test_it_recognises_layouts(tmp_path: Path, make, expected: set[str]) -> None:
    make(tmp_path)
    assert found(tmp_path) == expected


def test_lookalikes_are_not_environments(tmp_path: Path) -> None:
    bak = tmp_path / "old"
    bak.mkdir()
    (bak / "pyvenv.cfg.bak").write_text("home = /usr/bin\n")
    bare = tmp_path / "bare" / "lib" / "python3.11" / "site-packages"
    bare.mkdir(parents=True)
    cfg_dir = tmp_path / "cfgdir" / "pyvenv.cfg"
    cfg_dir.mkdir(parents=True)  # a directory named pyvenv.cfg
    assert found(tmp_path) == set()


def test_pruned_directories_are_not_walked(tmp_path: Path) -> None:
    for pruned in ("node_modules/pkg", ".git/x", "__pycache__/y", "lib/site-packages/z"):
        posix_venv(tmp_path / pruned / "env")
    posix_venv(tmp_path / "kept" / "env")
    assert found(tmp_path) == {"kept/env"}


def test_hidden_homes_of_pipenv_and_poetry_are_found(tmp_path: Path) -> None:
    home = tmp_path / "home"
    posix_venv(home / ".local/share/virtualenvs/proj-AbC123")
    posix_venv(home / ".cache/pypoetry/virtualenvs/proj-xyz-py3.11")
    posix_venv(home / ".virtualenvs/wrapped")
    posix_venv(home / ".pyenv/versions/3.11.7/envs/pyenvenv")
    conda_env(home / "miniconda3")
    conda_env(home / "miniconda3/envs/science")
    environ = {"HOME": str(home)}
    roots = default_roots(environ)
    assert home in roots and home / ".local/share/virtualenvs" in roots
    # Even with a depth limit that would stop the home walk early, the homes are roots.
    result = {str(p.relative_to(home)) for p in discover(roots, max_depth=1).environments}
    assert {
        ".local/share/virtualenvs/proj-AbC123",
        ".cache/pypoetry/virtualenvs/proj-xyz-py3.11",
        ".virtualenvs/wrapped",
        ".pyenv/versions/3.11.7/envs/pyenvenv",
        "miniconda3",
        "miniconda3/envs/science",
    } <= result


def test_symlinked_directories_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    posix_venv(outside / "env")
    root = tmp_path / "root"
    root.mkdir()
    (root / "escape").symlink_to(outside)
    (root / "loop").symlink_to(root)
    result = discover([root])
    assert result.environments == ()


def test_max_depth_and_excludes(tmp_path: Path) -> None:
    posix_venv(tmp_path / "a" / "b" / "c" / "env")
    posix_venv(tmp_path / "skipme" / "env")
    assert found(tmp_path, max_depth=2) == {"skipme/env"}
    assert found(tmp_path, exclude=["skip*"]) == {"a/b/c/env"}
    assert found(tmp_path, exclude=[str(tmp_path / "a")]) == {"skipme/env"}


def test_a_root_that_is_an_environment_is_reported(tmp_path: Path) -> None:
    posix_venv(tmp_path / "env")
    assert discover([tmp_path / "env"]).environments == (tmp_path / "env",)


def test_missing_root_is_a_warning(tmp_path: Path) -> None:
    result = discover([tmp_path / "nope"])
    assert result.environments == ()
    assert "cannot read scan root" in result.warnings[0]


@pytest.fixture
def world_readable_dir() -> Iterator[Path]:
    """A temp dir another user can traverse (for the unreadable-directory test as root)."""
    path = Path(tempfile.mkdtemp(prefix="envdash-perm-"))
    path.chmod(0o755)
    yield path
    for child in path.rglob("*"):
        if child.is_dir() and not child.is_symlink():
            child.chmod(0o755)
    shutil.rmtree(path)


def test_unreadable_directories_are_warnings(world_readable_dir: Path) -> None:
    root = world_readable_dir
    posix_venv(root / "visible" / "env")
    secret = root / "secret"
    posix_venv(secret / "env")
    for path in [root, *root.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    secret.chmod(0o000)
    code = (
        "import json, sys; from envcore.discover import discover; "
        "r = discover([sys.argv[1]]); "
        "print(json.dumps([[str(p) for p in r.environments], list(r.warnings)]))"
    )
    argv = [sys.executable, "-c", code, str(root)]
    kwargs: dict[str, object] = {}
    if os.geteuid() == 0:  # root reads anything: drop to an unprivileged user
        kwargs["user"] = "nobody"
        kwargs["env"] = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    result = subprocess.run(argv, capture_output=True, text=True, check=True, **kwargs)  # type: ignore[call-overload]
    environments, warnings = json.loads(result.stdout)
    assert environments == [str(root / "visible" / "env")]
    assert warnings == [f"{secret}: permission denied, skipped"]
