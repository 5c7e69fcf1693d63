"""Shared fixtures: an isolated pip/uv configuration and a wheelhouse built by the tests;
how parallel workers (`pytest -n N`, see `manage.py test`) share and split the work."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from django.conf import settings
from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

from tests.envtools import built_once, isolate_environment
from tests.trees import Tree, build_env_tree
from tests.wheelmaker import write_wheel


@pytest.fixture(autouse=True, scope="session")
def _isolated_installers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    saved = dict(os.environ)
    isolate_environment(os.environ, tmp_path_factory.mktemp("uv-cache"))
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True, scope="session")
def _own_data_dir(tmp_path_factory: pytest.TempPathFactory, _isolated_installers: None) -> None:
    """A data directory (login token, index cache) of this test process's own, for it and
    the commands it starts: parallel workers must not race to create the same token file.
    pytest-django loads the settings before this file runs (in the run-wide directory of
    tests/data_dir_plugin.py), so DATA_DIR is set here too."""
    data_dir = tmp_path_factory.mktemp("data")
    settings.DATA_DIR = data_dir
    os.environ["ENVDASH_DATA_DIR"] = str(data_dir)


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
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A file SQLite test database: live-server tests write from several threads at once,
    and SQLite's shared in-memory database answers "table is locked" instead of waiting.
    Each parallel worker has its own (pytest-django's suffix: test_envdash_gw0, ...)."""
    database = settings.DATABASES["default"]
    if str(database["ENGINE"]).endswith("sqlite3"):
        path = tmp_path_factory.mktemp("test-db") / "test.sqlite3"
        current = cast(dict[str, Any], database.get("TEST") or {})
        database["TEST"] = {**current, "NAME": str(path)}


@pytest.fixture(scope="session")
def env_tree(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Tree:
    return built_once(tmp_path_factory, "home", lambda root: build_env_tree(root, wheelhouse))


#: Modules whose tests share an expensive module-scoped fixture (a running serve and a
#: browser, a live server and a venv): in a parallel run one worker runs each of them
#: whole, so it starts once. A cheaper one (a venv) is made by each worker that needs it.
WHOLE_MODULES = {
    "tests/dashboard/team/test_live.py",
    "tests/dashboard/test_serve.py",
    "tests/e2e/test_dashboard.py",
    "tests/e2e/test_jobs.py",
    "tests/e2e/test_pages.py",
}


#: Modules whose result cannot depend on the database engine: `manage.py test` runs them
#: in its SQLite pass and leaves them out of its PostgreSQL pass (`-m "not any_database"`).
ANY_DATABASE = {
    # the set-up that runs before Django does: no database at all
    "tests/dashboard/test_bootstrap.py",
    # serve on SQLite in a data directory of its own, whatever DATABASE_URL says
    "tests/dashboard/test_serve.py",
    # the process supervisor: no database at all
    "tests/dashboard/test_supervisor.py",
    # the browser's side (login, filter, htmx polling, CSP): every query these pages and
    # the rescan make runs on PostgreSQL in tests/dashboard (views, scanning, commands)
    "tests/e2e/test_dashboard.py",
    # every page's accessibility and layout in the browser, the job log's scrolling
    "tests/e2e/test_pages.py",
}


class _WholeModulesScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """`--dist load`, but each of WHOLE_MODULES is one unit of work.

    xdist's own `--dist loadgroup` marks tests by rewriting their node ids, which
    pytest 9.2 ignores (pytest-dev/pytest-xdist#1386): here the module is the group."""

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return module if module in WHOLE_MODULES else nodeid


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling | None:
    if config.getvalue("dist") != "loadgroup":
        return None
    return _WholeModulesScheduling(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.split("::", 1)[0] in ANY_DATABASE:
            item.add_marker(pytest.mark.any_database)
