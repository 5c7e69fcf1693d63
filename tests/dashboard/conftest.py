"""A real tree of environments for the dashboard tests, scanned into the test database.

The tree is built once per session (real venvs, real pip, wheels from the wheelhouse);
each test scans it into its own (rolled back) database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.auth import SESSION_KEY
from dashboard.models import Environment
from dashboard.scanning import scan_tree
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


@pytest.fixture(scope="session")
def env_tree(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Tree:
    """proj-a (drifted: alpha mismatched, beta missing), proj-b (in sync), a loose env with
    a hostile package summary, and a broken env whose base interpreter vanished."""
    root = tmp_path_factory.mktemp("home")
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


@pytest.fixture
def scanned(db: None, settings: SettingsWrapper, env_tree: Tree) -> Tree:
    settings.SCAN_ROOTS = [env_tree.root]
    scan = scan_tree()
    assert scan.state == "done", scan.error
    return env_tree


def log_in(client: Client) -> Client:
    """Give `client` a logged-in session (signed-cookie sessions live in the cookie)."""
    session = client.session
    session[SESSION_KEY] = True
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key or ""
    return client


@pytest.fixture
def user(client: Client) -> Client:
    return log_in(client)


def row(path: Path) -> Environment:
    return Environment.objects.get(path=str(path))
