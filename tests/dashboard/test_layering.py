"""The core app never imports its sub-apps: team and jobs join a scan through dashboard.signals."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

import dashboard
from dashboard.jobs.models import Interpreter
from dashboard.tasks import scan
from tests.trees import Tree

PACKAGE = Path(dashboard.__file__).parent
SUB_APPS = ("dashboard.jobs", "dashboard.team")


def _file(module: str) -> Path | None:
    base = PACKAGE.parent.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported(module: str, path: Path) -> set[str]:
    """Every module an import statement in `path` names, lazy (in-function) ones included."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import mod`
    return names


def _reachable(start: str) -> set[str]:
    """The dashboard modules `start` imports, directly or through other dashboard modules."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        path = _file(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        todo.extend(name for name in _imported(module, path) if name.startswith("dashboard."))
    return seen


@pytest.mark.parametrize("module", ["dashboard.scanning", "dashboard.tasks"])
def test_the_core_app_does_not_import_its_sub_apps(module: str) -> None:
    reached = _reachable(module)
    assert {"dashboard.models", "dashboard.signals"} <= reached  # the walk follows imports
    assert sorted(name for name in reached if name.startswith(SUB_APPS)) == []


def test_the_walk_sees_a_sub_app_import() -> None:
    # views.py uses the jobs app (the interpreter settings): the check must notice that kind.
    assert "dashboard.jobs.models" in _reachable("dashboard.views")


def test_a_full_scan_still_pushes_and_refreshes_the_interpreters(
    db: None, settings: Any, env_tree: Tree
) -> None:
    settings.SCAN_ROOTS = [env_tree.root]
    settings.TEAM_URL, settings.TEAM_TOKEN = "http://127.0.0.1:9", "envdash_team_x"
    assert not Interpreter.objects.exists()
    assert scan.call()["state"] == "done"
    assert DBTaskResult.objects.get().task_path == "dashboard.team.tasks.push_snapshot"
    assert Interpreter.objects.exists()


def test_a_one_environment_rescan_has_no_post_scan_steps(
    db: None, settings: Any, env_tree: Tree
) -> None:
    settings.SCAN_ROOTS = [env_tree.root]
    settings.TEAM_URL, settings.TEAM_TOKEN = "http://127.0.0.1:9", "envdash_team_x"
    assert scan.call(path=str(env_tree.in_sync))["state"] == "done"
    assert not DBTaskResult.objects.exists()
    assert not Interpreter.objects.exists()
