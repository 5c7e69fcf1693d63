"""Shared fixtures: an isolated pip/uv configuration and a wheelhouse built by the tests."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from django.conf import settings

from tests.envtools import isolate_environment
from tests.trees import Tree, build_env_tree
from tests.wheelmaker import write_wheel

# Settings read the data directory at import; keep the developer's real one untouched.
os.environ.setdefault("ENVDASH_DATA_DIR", tempfile.mkdtemp(prefix="envdash-tests-"))


@pytest.fixture(autouse=True, scope="session")
def _isolated_installers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    saved = dict(os.environ)
    isolate_environment(os.environ, tmp_path_factory.mktemp("uv-cache"))
    yield
    os.environ.clear()
    os.environ.update(saved)


#: name -> list of (version, requires) published in the shared wheelhouse.
WHEELHOUSE_CONTENT: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "alpha": [("1.0", ()), ("1.1", ()), ("2.0", ())],
    "beta": [("1.0", ("alpha>=1.0",)), ("2.0", ("alpha>=2.0",))],
    "gamma": [("0.5", ("beta", 'ancient; python_version < "3.8"'))],
    "Delta_Pkg.Two": [("3.0", ())],
}


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A find-links directory of small real wheels (see WHEELHOUSE_CONTENT)."""
    directory = tmp_path_factory.mktemp("wheelhouse")
    for name, releases in WHEELHOUSE_CONTENT.items():
        for version, requires in releases:
            write_wheel(directory, name, version, requires=requires, summary=f"The {name} package")
    return directory


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A file SQLite test database: live-server tests write from several threads at once,
    and SQLite's shared in-memory database answers "table is locked" instead of waiting."""
    database = settings.DATABASES["default"]
    if str(database["ENGINE"]).endswith("sqlite3"):
        path = tmp_path_factory.mktemp("test-db") / "test.sqlite3"
        current = cast(dict[str, Any], database.get("TEST") or {})
        database["TEST"] = {**current, "NAME": str(path)}


@pytest.fixture(scope="session")
def env_tree(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Tree:
    return build_env_tree(tmp_path_factory.mktemp("home"), wheelhouse)
