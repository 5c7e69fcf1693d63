"""A real tree of environments for the dashboard tests, scanned into the test database.

The tree is built once per session (real venvs, real pip, wheels from the wheelhouse);
each test scans it into its own (rolled back) database.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from dashboard.models import Environment
from dashboard.scanning import scan_tree
from tests.dashboard.team.factories import log_in
from tests.trees import Tree


@pytest.fixture
def scanned(db: None, settings: SettingsWrapper, env_tree: Tree) -> Tree:
    settings.SCAN_ROOTS = [env_tree.root]
    scan = scan_tree()
    assert scan.state == "done", scan.error
    return env_tree


@pytest.fixture
def user(client: Client) -> Client:
    return log_in(client)


__all__ = ["log_in", "row"]


def row(path: Path) -> Environment:
    return Environment.objects.get(path=str(path))
