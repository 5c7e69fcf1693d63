"""Discovery: what counts as an environment, where we look, and what we refuse to walk."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import subprocess
import sys
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


#: prctl(2) option that removes one capability from the bounding set.
PR_CAPBSET_DROP = 24
#: Loaded here, not after fork: the child only calls into it.
LIBC = ctypes.CDLL(None, use_errno=True)


def _without_capabilities() -> None:
    """Runs in the child before exec: with an empty bounding set, root's program starts
    without capabilities, so file modes apply to it as to anyone.

    The child stays uid 0, so it still reaches an interpreter under a 0700 home (pyenv's
    in /root): switching to another user would lose it, or find a different Python.
    """
    for capability in range(64):
        if LIBC.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            error = ctypes.get_errno()
            if error != errno.EINVAL:  # EINVAL: past the kernel's last capability
                raise OSError(error, os.strerror(error))


@pytest.fixture
def secret(tmp_path: Path) -> Iterator[Path]:
    """A directory nobody may read (mode 000), given back its mode afterwards."""
    path = tmp_path / "secret"
    posix_venv(path / "env")
    path.chmod(0o000)
    yield path
    path.chmod(0o755)


def test_unreadable_directories_are_warnings(tmp_path: Path, secret: Path) -> None:
    posix_venv(tmp_path / "visible" / "env")
    code = (
        "import json, sys; from envcore.discover import discover; "
        "r = discover([sys.argv[1]]); "
        "print(json.dumps([[str(p) for p in r.environments], list(r.warnings)]))"
    )
    argv = [sys.executable, "-c", code, str(tmp_path)]
    # Root reads anything: the walk runs in a child that has no capabilities.
    preexec = _without_capabilities if os.geteuid() == 0 else None
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    result = subprocess.run(
        argv, capture_output=True, text=True, check=True, env=env, preexec_fn=preexec
    )
    environments, warnings = json.loads(result.stdout)
    assert environments == [str(tmp_path / "visible" / "env")]
    assert warnings == [f"{secret}: permission denied, skipped"]
