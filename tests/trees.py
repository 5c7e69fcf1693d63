"""A small home directory of real environments, shared by the dashboard and browser tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tests.envtools import make_venv
from tests.wheelmaker import write_wheel

HOSTILE_SUMMARY = "<img src=x onerror=alert(1)>"


@dataclass(frozen=True)
class Tree:
    root: Path
    drifted: Path
    in_sync: Path
    loose: Path
    broken: Path


def build_env_tree(root: Path, wheelhouse: Path) -> Tree:
    """proj-a (drifted: alpha mismatched, beta missing), proj-b (in sync), a loose env with
    a hostile package summary, and a broken env whose base interpreter vanished."""
    proj_a = root / "work" / "proj-a"
    proj_a.mkdir(parents=True)
    (proj_a / "requirements.txt").write_text("alpha==1.0\nbeta>=1.0\n")
    drifted = make_venv(proj_a / ".venv", ["alpha==1.1", "Delta_Pkg.Two"], wheelhouse=wheelhouse)
    proj_b = root / "work" / "proj b"  # a space, for the quoting of activation commands
    proj_b.mkdir(parents=True)
    (proj_b / "requirements.txt").write_text("alpha==1.0\n")
    in_sync = make_venv(proj_b / ".venv", ["alpha==1.0"], wheelhouse=wheelhouse)
    hostile = write_wheel(root / "wheels", "shady", "0.1", summary=HOSTILE_SUMMARY)
    loose = make_venv(root / "envs" / "loose", [str(hostile)])
    broken = root / "envs" / "broken"
    (broken / "bin").mkdir(parents=True)
    (broken / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    (broken / "pyvenv.cfg").write_text(f"home = {root}/gone-python/bin\nversion = 3.11.2\n")
    os.symlink(root / "gone-python" / "bin" / "python3.11", broken / "bin" / "python")
    return Tree(root, drifted, in_sync, loose, broken)
